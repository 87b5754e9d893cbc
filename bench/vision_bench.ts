/**
 * VisionDataClient bench: a cold year of spot BTCUSDT 1m (2024: 527,040 rows) from a
 * replica running in a separate process (so it does not take the client's CPU):
 *
 * - (a) 12 monthly zips and (b) 366 daily zips (`preferMonthly: false`), each with a fresh
 *   client (new HTTP client, new parse pool: worker start-up included) — wall time, rows/s,
 *   and the CPU time the client process used;
 * - the pipeline limits measured in the same run on the very same zip bytes: in-process
 *   (SHA-256 + inflate + CRC + parse on one thread) and a warm `ParsePool` of N workers —
 *   and the client's ratio to each (the whole-process comparison with a sequential
 *   downloader is `process_bench.ts`, measured in the same run);
 * - peak RSS of a cold monthly-year fetch, in a fresh child process (`VmHWM`), against the
 *   size of the columns it returns;
 * - dispose settle time with a stalled download (budget 200 ms, grace 50 ms).
 *
 * The replica's archive cache is warmed first (not timed), so the figures are the
 * client's, not the replica's zip generation. Monthly, daily and in-process are timed in
 * rounds, one of each per round, so a burst of load from another process skews one sample
 * of each rather than all samples of one.
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/vision_bench.ts`
 *
 * @module
 */
import { fromFileUrl } from "@std/path";
import { denoRunArgs, type ReplicaProcess, startReplicaProcess } from "./_replica_process.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { ParsePool } from "../src/vision/parse_pool.ts";
import { createSha256 } from "../src/vision/checksum.ts";
import { extractSingleCsvSync } from "../src/vision/zip.ts";
import { parseKlineCsv } from "../src/vision/csv_parser.ts";
import { klineArchiveUrl } from "../src/vision/paths.ts";

/** Options for {@linkcode runVisionBench}. */
export interface VisionBenchOptions {
  /** Timed repetitions of each measurement (the median is reported). @default {5} */
  reps?: number;
  /** Client concurrency. @default {8} */
  concurrency?: number;
  /** Parse workers. @default {navigator.hardwareConcurrency} */
  parseWorkers?: number;
  /** Measure peak RSS in a child process. @default {true} */
  rss?: boolean;
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** Peak memory of one cold monthly-year fetch in a fresh process. */
export interface VisionRssFigures {
  /** `VmRSS` just before the fetch (runtime and modules loaded, no client yet). */
  beforeBytes: number;
  /** `VmHWM` after the fetch: the process's peak resident set. */
  peakBytes: number;
  /** Bytes of the returned columns (11 × float64 per row) and sources (1 byte per row). */
  columnsBytes: number;
  /** `(peakBytes − beforeBytes) / columnsBytes`: what the fetch needed beyond its result. */
  increaseOverColumns: number;
  /** `peakBytes / columnsBytes`, the runtime's own footprint included. */
  peakOverColumns: number;
}

/** The figures of one run (times are medians, ms). */
export interface VisionBenchResult {
  /** Rows in the year. */
  rows: number;
  /** Bytes of the 12 monthly zips. */
  monthlyZipBytes: number;
  /** Timed repetitions. */
  reps: number;
  /** (a) cold year from 12 monthly archives. */
  monthlyMs: number;
  /** (a) rows/s. */
  monthlyRowsPerSec: number;
  /** (a) CPU time of the client process (all threads) per fetch. */
  monthlyCpuMs: number;
  /** (b) cold year from 366 daily archives. */
  dailyMs: number;
  /** (b) rows/s. */
  dailyRowsPerSec: number;
  /** (b) CPU time of the client process per fetch. */
  dailyCpuMs: number;
  /** SHA-256 + inflate + CRC + parse of the 12 monthly zips, one thread, in this process. */
  inProcessMs: number;
  /** The same through a warm `ParsePool` of `workers` workers. */
  poolMs: number;
  /** Parse workers. */
  workers: number;
  /** `monthlyMs / inProcessMs` (below 1: faster than one thread can verify + parse). */
  monthlyVsInProcess: number;
  /** `dailyMs / inProcessMs`. */
  dailyVsInProcess: number;
  /** `monthlyMs / poolMs`: the cost of HTTP, buffers, merge and worker start-up. */
  monthlyVsPool: number;
  /** `dailyMs / monthlyMs`. */
  dailyVsMonthly: number;
  /** Peak RSS of a cold monthly year, when measured. */
  rss?: VisionRssFigures;
  /** Dispose settle time with a stalled download, budget 200 ms, grace 50 ms. */
  disposeStalledMs: number;
  /** The dispose budget of that case. */
  disposeBudgetMs: number;
  /** 1-minute load average when the run started. */
  loadAverage: number;
}

const YEAR = { start: "2024-01-01", end: "2025-01-01" };
const STALLED_ZIP = "*/ETHUSDT-1m-2024-01-01.zip";
const DISPOSE_BUDGET_MS = 200;

/** CPU time (user + system, all threads) this process has used, ms (10 ms resolution). */
function processCpuMs(): number {
  try {
    const stat = Deno.readTextFileSync("/proc/self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN; // not Linux
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function timeFetch(
  baseUrl: string,
  options: { preferMonthly: boolean; concurrency: number; parseWorkers?: number },
): Promise<{ ms: number; cpuMs: number; rows: number }> {
  const cpu0 = processCpuMs();
  const t0 = performance.now();
  let rows: number;
  {
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
    if (k.gaps.length > 0) throw new Error(`unexpected gaps: ${JSON.stringify(k.gaps)}`);
    rows = k.length;
  }
  return { ms: performance.now() - t0, cpuMs: processCpuMs() - cpu0, rows };
}

function inProcessPipeline(zips: readonly Uint8Array[]): void {
  for (const zip of zips) {
    const h = createSha256();
    h.update(zip);
    h.digestHex();
    parseKlineCsv(extractSingleCsvSync(zip));
  }
}

/** One cold monthly year in a fresh child process (`--rss-child`), reporting its memory. */
async function measureRss(replica: ReplicaProcess): Promise<VisionRssFigures> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(fromFileUrl(import.meta.url), ["--rss-child", replica.visionUrl]),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`RSS child failed (exit ${out.code})`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as VisionRssFigures;
}

function statusBytes(field: "VmRSS" | "VmHWM"): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/self/status`);
  return Number(kb) * 1024;
}

/** The `--rss-child` mode: prints {@linkcode VisionRssFigures} as JSON. */
async function rssChild(baseUrl: string): Promise<void> {
  const beforeBytes = statusBytes("VmRSS");
  let columnsBytes: number;
  {
    await using client = new VisionDataClient({ marketType: "spot", baseUrl });
    const k = await client.fetchKlines({ symbol: "BTCUSDT", interval: "1m", ...YEAR });
    columnsBytes = k.length * (11 * 8 + 1);
  }
  const peakBytes = statusBytes("VmHWM");
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const figures: VisionRssFigures = {
    beforeBytes,
    peakBytes,
    columnsBytes,
    increaseOverColumns: r2((peakBytes - beforeBytes) / columnsBytes),
    peakOverColumns: r2(peakBytes / columnsBytes),
  };
  console.log(JSON.stringify(figures));
}

/**
 * Runs the bench and returns (and by default prints) the figures.
 *
 * @example
 * ```ts ignore
 * import { runVisionBench } from "./vision_bench.ts";
 * const r = await runVisionBench({ reps: 3 });
 * r.monthlyMs; // e.g. 420
 * ```
 */
export async function runVisionBench(
  options: VisionBenchOptions = {},
): Promise<VisionBenchResult> {
  const loadAverage = Deno.loadavg()[0];
  const reps = options.reps ?? 5;
  const concurrency = options.concurrency ?? 8;
  const workers = options.parseWorkers ?? Math.max(1, navigator.hardwareConcurrency ?? 1);
  await using replica = await startReplicaProcess({
    now: "2025-06-01T00:00:00Z",
    symbols: ["BTCUSDT", "ETHUSDT"],
    faults: [{ match: STALLED_ZIP, kind: "stallBody", afterBytes: 1000 }],
  });
  const base = replica.visionUrl;
  const monthlyZips: Uint8Array[] = [];
  for (let m = 1; m <= 12; m++) {
    const label = `2024-${String(m).padStart(2, "0")}`;
    const url = klineArchiveUrl(base, "spot", "BTCUSDT", "1m", { kind: "monthly", label });
    monthlyZips.push(new Uint8Array(await (await fetch(url)).arrayBuffer()));
  }
  // Warm the replica's archive cache (daily and monthly) and this process's JIT, untimed.
  const fetchOptions = { concurrency, parseWorkers: workers };
  const warm = await timeFetch(base, { ...fetchOptions, preferMonthly: false });
  await timeFetch(base, { ...fetchOptions, preferMonthly: true });
  inProcessPipeline(monthlyZips);
  const rows = warm.rows;

  const monthly: { ms: number; cpuMs: number }[] = [];
  const daily: { ms: number; cpuMs: number }[] = [];
  const inProcess: number[] = [];
  for (let k = 0; k < reps; k++) {
    monthly.push(await timeFetch(base, { ...fetchOptions, preferMonthly: true }));
    daily.push(await timeFetch(base, { ...fetchOptions, preferMonthly: false }));
    const t0 = performance.now();
    inProcessPipeline(monthlyZips);
    inProcess.push(performance.now() - t0);
  }
  const monthlyMs = median(monthly.map((x) => x.ms));
  const dailyMs = median(daily.map((x) => x.ms));
  const inProcessMs = median(inProcess);

  const poolMs = await (async () => {
    await using pool = new ParsePool({ workers, idleTimeoutMs: 60_000 });
    pool.warmUp();
    await Promise.all(monthlyZips.map((z) => pool.parseZipBytes(z)));
    const times: number[] = [];
    for (let k = 0; k < reps; k++) {
      const t0 = performance.now();
      await Promise.all(monthlyZips.map((z) => {
        const h = createSha256();
        h.update(z);
        h.digestHex();
        return pool.parseZipBytes(z);
      }));
      times.push(performance.now() - t0);
    }
    return median(times);
  })();

  const rss = (options.rss ?? true) ? await measureRss(replica) : undefined;

  const disposeTimes: number[] = [];
  for (let k = 0; k < reps; k++) {
    const client = new VisionDataClient({
      marketType: "spot",
      baseUrl: base,
      disposeTimeoutMs: DISPOSE_BUDGET_MS,
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
    disposeTimes.push(performance.now() - t0);
    await fetching;
  }

  const r1 = (x: number) => Math.round(x * 10) / 10;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const result: VisionBenchResult = {
    rows,
    monthlyZipBytes: monthlyZips.reduce((n, z) => n + z.length, 0),
    reps,
    monthlyMs: r1(monthlyMs),
    monthlyRowsPerSec: Math.round(rows / (monthlyMs / 1000)),
    monthlyCpuMs: median(monthly.map((x) => x.cpuMs)),
    dailyMs: r1(dailyMs),
    dailyRowsPerSec: Math.round(rows / (dailyMs / 1000)),
    dailyCpuMs: median(daily.map((x) => x.cpuMs)),
    inProcessMs: r1(inProcessMs),
    poolMs: r1(poolMs),
    workers,
    monthlyVsInProcess: r2(monthlyMs / inProcessMs),
    dailyVsInProcess: r2(dailyMs / inProcessMs),
    monthlyVsPool: r2(monthlyMs / poolMs),
    dailyVsMonthly: r2(dailyMs / monthlyMs),
    rss,
    disposeStalledMs: r1(median(disposeTimes)),
    disposeBudgetMs: DISPOSE_BUDGET_MS,
    loadAverage: r2(loadAverage),
  };
  if (options.print ?? true) printResult(result);
  return result;
}

function printResult(r: VisionBenchResult): void {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  console.log(
    `VisionDataClient — cold year spot BTCUSDT 1m (${r.rows} rows), replica in a child ` +
      `process, median of ${r.reps}`,
  );
  console.log(
    `  (a) 12 monthly zips (${mb(r.monthlyZipBytes)}): ${r.monthlyMs} ms, ` +
      `${r.monthlyRowsPerSec} rows/s, client CPU ${r.monthlyCpuMs} ms`,
  );
  console.log(
    `  (b) 366 daily zips:  ${r.dailyMs} ms, ${r.dailyRowsPerSec} rows/s ` +
      `(×${r.dailyVsMonthly} of monthly), client CPU ${r.dailyCpuMs} ms`,
  );
  console.log(
    `  pipeline limit, same bytes: in-process 1 thread ${r.inProcessMs} ms; ` +
      `warm pool ×${r.workers} ${r.poolMs} ms`,
  );
  console.log(
    `  monthly / in-process = ${r.monthlyVsInProcess}; daily / in-process = ` +
      `${r.dailyVsInProcess}; monthly / warm pool = ${r.monthlyVsPool}`,
  );
  if (r.rss) {
    console.log(
      `  peak RSS (fresh process): ${mb(r.rss.peakBytes)} (before the fetch ` +
        `${mb(r.rss.beforeBytes)}); columns ${mb(r.rss.columnsBytes)}; increase / columns ` +
        `= ${r.rss.increaseOverColumns}, peak / columns = ${r.rss.peakOverColumns}`,
    );
  }
  console.log(
    `  dispose with a stalled download (budget ${r.disposeBudgetMs} ms, grace 50 ms): ` +
      `${r.disposeStalledMs} ms`,
  );
  console.log(`  load average at start: ${r.loadAverage}`);
}

if (import.meta.main) {
  if (Deno.args[0] === "--rss-child") await rssChild(Deno.args[1]);
  else await runVisionBench();
}
