/**
 * VisionDataClient bench: a cold year of spot BTCUSDT 1m (2024: 527,040 rows) from a
 * replica running in a separate process (so it does not take the client's CPU):
 *
 * - (a) 12 monthly zips and (b) 366 daily zips (`preferMonthly: false`), each with a fresh
 *   client (new HTTP client, new parse pool: worker start-up included) — wall time, rows/s;
 * - the pipeline limits measured in the same run on the very same zip bytes: in-process
 *   (SHA-256 + inflate + CRC + parse on one thread) and a warm `ParsePool` of N workers —
 *   and the client's ratio to each;
 * - dispose settle time with a stalled download (budget 200 ms, grace 50 ms).
 *
 * The replica's archive cache is warmed first (not timed), so the figures are the
 * client's, not the replica's zip generation.
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/vision_bench.ts`
 *
 * @module
 */
import { fromFileUrl } from "@std/path";
import { VisionDataClient } from "../src/vision/client.ts";
import { ParsePool } from "../src/vision/parse_pool.ts";
import { createSha256 } from "../src/vision/checksum.ts";
import { extractSingleCsvSync } from "../src/vision/zip.ts";
import { parseKlineCsv } from "../src/vision/csv_parser.ts";
import { klineArchiveUrl } from "../src/vision/paths.ts";

/** Options for {@linkcode runVisionBench}. */
export interface VisionBenchOptions {
  /** Timed repetitions of each measurement (the median is reported). @default {3} */
  reps?: number;
  /** Client concurrency. @default {8} */
  concurrency?: number;
  /** Parse workers. @default {navigator.hardwareConcurrency} */
  parseWorkers?: number;
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** The figures of one run (times are medians, ms). */
export interface VisionBenchResult {
  /** Rows in the year. */
  rows: number;
  /** Bytes of the 12 monthly zips. */
  monthlyZipBytes: number;
  /** (a) cold year from 12 monthly archives. */
  monthlyMs: number;
  /** (a) rows/s. */
  monthlyRowsPerSec: number;
  /** (b) cold year from 366 daily archives. */
  dailyMs: number;
  /** (b) rows/s. */
  dailyRowsPerSec: number;
  /** SHA-256 + inflate + CRC + parse of the 12 monthly zips, one thread, in this process. */
  inProcessMs: number;
  /** The same through a warm `ParsePool` of `workers` workers. */
  poolMs: number;
  /** Parse workers. */
  workers: number;
  /** `monthlyMs / inProcessMs` (below 1: faster than one thread can verify + parse). */
  monthlyVsInProcess: number;
  /** `monthlyMs / poolMs`: the cost of HTTP, temp files, merge and worker start-up. */
  monthlyVsPool: number;
  /** `dailyMs / monthlyMs`. */
  dailyVsMonthly: number;
  /** Dispose settle time with a stalled download, budget 200 ms, grace 50 ms. */
  disposeStalledMs: number;
  /** 1-minute load average when the run started. */
  loadAverage: number;
}

const YEAR = { start: "2024-01-01", end: "2025-01-01" };
const STALLED_ZIP = "*/ETHUSDT-1m-2024-01-01.zip";

/** A replica in a child process; resolves once it prints its URL. */
async function spawnReplica(): Promise<{ url: string; stop(): Promise<void> }> {
  const root = new URL("../", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--import-map=${fromFileUrl(new URL("offline/import_map.json", root))}`,
      fromFileUrl(new URL("testing/serve.ts", root)),
      "--port",
      "0",
      "--now",
      "2025-06-01T00:00:00Z",
      "--symbols",
      "BTCUSDT,ETHUSDT",
      "--faults",
      JSON.stringify([{ match: STALLED_ZIP, kind: "stallBody", afterBytes: 1000 }]),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let url: string | undefined;
  while (url === undefined) {
    const { value, done } = await lines.read();
    if (done) break;
    text += value;
    url = /vision:\s+(http:\/\/[^/\s]+)/.exec(text)?.[1];
  }
  // The replica prints nothing more; let its stdout go.
  await lines.cancel();
  if (url === undefined) {
    child.kill("SIGTERM");
    await child.status;
    throw new Error(`replica did not start: ${text}`);
  }
  return {
    url,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function median(reps: number, fn: () => Promise<number> | number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await fn());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function timeFetch(
  baseUrl: string,
  options: { preferMonthly: boolean; concurrency: number; parseWorkers?: number },
): Promise<{ ms: number; rows: number }> {
  const t0 = performance.now();
  await using client = new VisionDataClient({
    marketType: "spot",
    baseUrl,
    concurrency: options.concurrency,
    parseWorkers: options.parseWorkers,
  });
  const k = await client.fetchKlines({
    symbol: "BTCUSDT",
    interval: "1m",
    ...YEAR,
    preferMonthly: options.preferMonthly,
  });
  const ms = performance.now() - t0;
  if (k.gaps.length > 0) throw new Error(`unexpected gaps: ${JSON.stringify(k.gaps)}`);
  return { ms, rows: k.length };
}

/**
 * Runs the bench and returns (and by default prints) the figures.
 *
 * @example
 * ```ts ignore
 * import { runVisionBench } from "./vision_bench.ts";
 * const r = await runVisionBench({ reps: 3 });
 * r.monthlyMs; // e.g. 700
 * ```
 */
export async function runVisionBench(
  options: VisionBenchOptions = {},
): Promise<VisionBenchResult> {
  const loadAverage = Deno.loadavg()[0];
  const reps = options.reps ?? 3;
  const concurrency = options.concurrency ?? 8;
  const workers = options.parseWorkers ?? Math.max(1, navigator.hardwareConcurrency ?? 1);
  const replica = await spawnReplica();
  try {
    const monthlyZips: Uint8Array[] = [];
    for (let m = 1; m <= 12; m++) {
      const label = `2024-${String(m).padStart(2, "0")}`;
      const url = klineArchiveUrl(replica.url, "spot", "BTCUSDT", "1m", { kind: "monthly", label });
      monthlyZips.push(new Uint8Array(await (await fetch(url)).arrayBuffer()));
    }
    // Warm the replica's archive cache (daily and monthly), untimed.
    const warm = await timeFetch(replica.url, {
      preferMonthly: false,
      concurrency,
      parseWorkers: workers,
    });
    const rows = warm.rows;

    const monthlyMs = await median(
      reps,
      async () =>
        (await timeFetch(replica.url, { preferMonthly: true, concurrency, parseWorkers: workers }))
          .ms,
    );
    const dailyMs = await median(
      reps,
      async () =>
        (await timeFetch(replica.url, { preferMonthly: false, concurrency, parseWorkers: workers }))
          .ms,
    );

    const inProcessMs = await median(reps, () => {
      const t0 = performance.now();
      for (const zip of monthlyZips) {
        const h = createSha256();
        h.update(zip);
        h.digestHex();
        parseKlineCsv(extractSingleCsvSync(zip));
      }
      return performance.now() - t0;
    });
    const poolMs = await (async () => {
      await using pool = new ParsePool({ workers });
      pool.warmUp();
      await Promise.all(monthlyZips.map((z) => pool.parseZipBytes(z)));
      return await median(reps, async () => {
        const t0 = performance.now();
        await Promise.all(monthlyZips.map((z) => {
          const h = createSha256();
          h.update(z);
          h.digestHex();
          return pool.parseZipBytes(z);
        }));
        return performance.now() - t0;
      });
    })();

    const disposeStalledMs = await median(reps, async () => {
      const client = new VisionDataClient({
        marketType: "spot",
        baseUrl: replica.url,
        disposeTimeoutMs: 200,
        graceMs: 50,
        parseWorkers: 1,
      });
      const fetching = client.fetchKlines({
        symbol: "ETHUSDT",
        interval: "1m",
        start: "2024-01-01",
        end: "2024-01-02",
      }).catch(() => {});
      // A bench may wait: the stalled body is reached within a few ms on loopback.
      await new Promise((r) => setTimeout(r, 150));
      const t0 = performance.now();
      await client[Symbol.asyncDispose]().catch(() => {});
      const ms = performance.now() - t0;
      await fetching;
      return ms;
    });

    const r1 = (x: number) => Math.round(x * 10) / 10;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const result: VisionBenchResult = {
      rows,
      monthlyZipBytes: monthlyZips.reduce((n, z) => n + z.length, 0),
      monthlyMs: r1(monthlyMs),
      monthlyRowsPerSec: Math.round(rows / (monthlyMs / 1000)),
      dailyMs: r1(dailyMs),
      dailyRowsPerSec: Math.round(rows / (dailyMs / 1000)),
      inProcessMs: r1(inProcessMs),
      poolMs: r1(poolMs),
      workers,
      monthlyVsInProcess: r2(monthlyMs / inProcessMs),
      monthlyVsPool: r2(monthlyMs / poolMs),
      dailyVsMonthly: r2(dailyMs / monthlyMs),
      disposeStalledMs: r1(disposeStalledMs),
      loadAverage,
    };
    if (options.print ?? true) printResult(result);
    return result;
  } finally {
    await replica.stop();
  }
}

function printResult(r: VisionBenchResult): void {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  console.log(
    `VisionDataClient — cold year spot BTCUSDT 1m (${r.rows} rows), replica in a child process`,
  );
  console.log(
    `  (a) 12 monthly zips (${
      mb(r.monthlyZipBytes)
    }): ${r.monthlyMs} ms, ${r.monthlyRowsPerSec} rows/s`,
  );
  console.log(
    `  (b) 366 daily zips:  ${r.dailyMs} ms, ${r.dailyRowsPerSec} rows/s (×${r.dailyVsMonthly} of monthly)`,
  );
  console.log(
    `  pipeline limit, same bytes: in-process 1 thread ${r.inProcessMs} ms; warm pool ×${r.workers} ${r.poolMs} ms`,
  );
  console.log(
    `  monthly / in-process = ${r.monthlyVsInProcess}; monthly / warm pool = ${r.monthlyVsPool}`,
  );
  console.log(
    `  dispose with a stalled download (budget 200 ms, grace 50 ms): ${r.disposeStalledMs} ms`,
  );
  console.log(`  load average at start: ${r.loadAverage}`);
}

if (import.meta.main) await runVisionBench();
