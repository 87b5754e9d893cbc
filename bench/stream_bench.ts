/**
 * Streams and chunked columns (issue 10), against a replica in a child process:
 *
 * - warm year of 1m through `getData` (chunks joined, no copy) next to `KlineCache.readDays`
 *   of the same 366 days, interleaved in the same run (one untimed round each, then in
 *   alternating order);
 * - streaming 1m to Parquet through `stream()` + `writeKlinesStream`, in fresh child
 *   processes: peak RSS (`VmHWM`) for 1 year and for 6 years (memory should not grow with
 *   the range), and the Parquet writer's MB/s of columns next to a plain write of the same
 *   column bytes;
 * - one month of 1s, cold (no cache), in a fresh child process: wall time next to a
 *   single-thread inflate of the same archives' bytes, and peak RSS next to the columns.
 *
 * The replica builds each zip on its first request: every archive is requested once,
 * untimed, before the timed runs.
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/stream_bench.ts`
 *
 * @module
 */
import { fromFileUrl, join } from "@std/path";
import { denoRunArgs, startReplicaProcess } from "./_replica_process.ts";
import { KlineCache } from "../src/cache/mod.ts";
import { DataSource } from "../src/klines.ts";
import { DataSourceManager } from "../src/manager/mod.ts";
import { writeKlinesStream } from "../src/export/mod.ts";
import { utcDay } from "../src/time.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { klineArchiveUrl } from "../src/vision/paths.ts";
import { extractSingleCsvSync } from "../src/vision/zip.ts";

const NOW = "2025-06-01T10:30:00Z";
const DAY_MS = 86_400_000;
const YEAR = { start: Date.parse("2024-01-01T00:00:00Z"), end: Date.parse("2025-01-01T00:00:00Z") };
const SIX_YEARS = { start: Date.parse("2019-01-01T00:00:00Z"), end: YEAR.end };
const MONTH_1S = {
  start: Date.parse("2025-03-01T00:00:00Z"),
  end: Date.parse("2025-04-01T00:00:00Z"),
};
const ROW_BYTES = 11 * 8;

/** Options for {@linkcode runStreamBench}. */
export interface StreamBenchOptions {
  /** Timed rounds of the warm reads (medians). @default {5} */
  reps?: number;
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** What a child process reports. */
export interface ChildFigures {
  /** Rows. */
  rows: number;
  /** Wall-clock ms of the work. */
  ms: number;
  /** `VmRSS` before the work. */
  beforeBytes: number;
  /** `VmHWM` after it. */
  peakBytes: number;
}

/** The figures of one run. */
export interface StreamBenchResult {
  /** Warm year 1m via getData: ms (median) and rows. */
  warmGetDataMs: number;
  /** Baseline: `KlineCache.readDays` of the same days (median, same run). */
  warmReadDaysMs: number;
  /** Rows of the year. */
  yearRows: number;
  /** Streaming to Parquet, 1 year, fresh process. */
  parquet1y: ChildFigures;
  /** Streaming to Parquet, 6 years, fresh process. */
  parquet6y: ChildFigures;
  /** Parquet write of the warm year (in process, after an untimed round): ms (median). */
  parquetWriteMs: number;
  /** Baseline: `Deno.writeFile` of the same column bytes: ms (median, same rounds). */
  rawWriteMs: number;
  /** One month of 1s cold via getData, fresh process. */
  month1s: ChildFigures;
  /** Baseline: single-thread inflate of the month's archives (the same bytes): ms. */
  inflate1sMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function statusBytes(field: "VmRSS" | "VmHWM"): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/self/status`);
  return Number(kb) * 1024;
}

async function runChild(args: string[]): Promise<ChildFigures> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(fromFileUrl(import.meta.url), args),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`child ${args[0]} failed (exit ${out.code})`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as ChildFigures;
}

/** `--parquet-child URL START END OUT`: stream 1m to Parquet, no cache. */
async function parquetChild(url: string, start: number, end: number, out: string): Promise<void> {
  const beforeBytes = statusBytes("VmRSS");
  const t0 = performance.now();
  await using manager = new DataSourceManager({
    marketType: "spot",
    useCache: false,
    visionUrl: url,
    restUrl: url,
    now: () => Date.parse(NOW),
    concurrency: 4,
  });
  const s = manager.stream({
    symbol: "BTCUSDT",
    interval: "1m",
    start,
    end,
    enforceSource: DataSource.VISION,
  });
  const { rows } = await writeKlinesStream(s, out);
  const figures: ChildFigures = {
    rows,
    ms: Math.round(performance.now() - t0),
    beforeBytes,
    peakBytes: statusBytes("VmHWM"),
  };
  console.log(JSON.stringify(figures));
}

/** `--1s-child URL`: getData of a month of 1s, no cache. */
async function month1sChild(url: string): Promise<void> {
  const beforeBytes = statusBytes("VmRSS");
  const t0 = performance.now();
  let rows: number;
  {
    await using manager = new DataSourceManager({
      marketType: "spot",
      useCache: false,
      visionUrl: url,
      restUrl: url,
      now: () => Date.parse(NOW),
    });
    const k = await manager.getData({
      symbol: "BTCUSDT",
      interval: "1s",
      ...MONTH_1S,
      enforceSource: DataSource.VISION,
    });
    rows = k.length;
  }
  const figures: ChildFigures = {
    rows,
    ms: Math.round(performance.now() - t0),
    beforeBytes,
    peakBytes: statusBytes("VmHWM"),
  };
  console.log(JSON.stringify(figures));
}

/** Requests every archive of a range once (the replica builds it), keeping no rows. */
async function warmReplica(
  url: string,
  interval: "1m" | "1s",
  range: { start: number; end: number },
): Promise<void> {
  await using client = new VisionDataClient({ marketType: "spot", baseUrl: url });
  for await (const _ of client.stream({ symbol: "BTCUSDT", interval, ...range })) { /* drop */ }
}

/**
 * Runs the bench and returns (and by default prints) the figures.
 *
 * @example
 * ```ts ignore
 * import { runStreamBench } from "./stream_bench.ts";
 * const r = await runStreamBench({ reps: 3 });
 * console.log(r.warmGetDataMs / r.warmReadDaysMs);
 * ```
 */
export async function runStreamBench(options: StreamBenchOptions = {}): Promise<StreamBenchResult> {
  const reps = Math.max(1, options.reps ?? 5);
  await using replica = await startReplicaProcess({ now: NOW, symbols: ["BTCUSDT"] });
  const url = replica.visionUrl;
  const dir = await Deno.makeTempDir({ prefix: "vision-data-stream-bench-" });
  try {
    const base = {
      marketType: "spot" as const,
      visionUrl: url,
      restUrl: replica.restUrl,
      now: () => Date.parse(NOW),
    };
    const q = { symbol: "BTCUSDT", interval: "1m" as const };
    const cacheDir = join(dir, "cache");
    // Fill the cache with the year (cold, untimed here).
    {
      await using m = new DataSourceManager({ ...base, cacheDir });
      await m.getData({ ...q, ...YEAR, enforceSource: DataSource.VISION });
    }
    const cache = new KlineCache({ dir: cacheDir });
    const warmGetData: number[] = [];
    const warmReadDays: number[] = [];
    let yearRows = 0;
    let year;
    const timeGetData = async (): Promise<number> => {
      const t0 = performance.now();
      {
        await using m = new DataSourceManager({ ...base, cacheDir });
        year = await m.getData({ ...q, ...YEAR, enforceSource: DataSource.CACHE });
        yearRows = year.length;
      }
      return performance.now() - t0;
    };
    const timeReadDays = async (): Promise<number> => {
      const t0 = performance.now();
      const r = await cache.readDays({
        marketType: "spot",
        ...q,
        startDay: utcDay(YEAR.start),
        endDay: utcDay(YEAR.end - DAY_MS),
      });
      if (r.parts.length !== 366) throw new Error(`readDays: ${r.parts.length} days`);
      return performance.now() - t0;
    };
    // One untimed round of each first (both code paths compiled, as in the timed rounds),
    // then the two alternate which goes first: each pays for collecting the other's
    // garbage (a year is 46 MB of buffers) equally often.
    await timeGetData();
    await timeReadDays();
    for (let i = 0; i < reps; i++) {
      if (i % 2 === 0) {
        warmGetData.push(await timeGetData());
        warmReadDays.push(await timeReadDays());
      } else {
        warmReadDays.push(await timeReadDays());
        warmGetData.push(await timeGetData());
      }
    }

    // Parquet writer speed, in process: the warm year (its 366 chunks) vs a plain write.
    // One untimed round of each first (the WASM encoder's first run includes its compile
    // and tier-up, which a long-running writer pays once), then alternating; medians.
    const raw = new Uint8Array(yearRows * ROW_BYTES);
    const timeParquet = async (): Promise<number> => {
      const t0 = performance.now();
      await writeKlinesStream(year!.chunks, join(dir, "year.parquet"));
      return performance.now() - t0;
    };
    const timeRaw = async (): Promise<number> => {
      const t0 = performance.now();
      await Deno.writeFile(join(dir, "year.raw"), raw);
      return performance.now() - t0;
    };
    await timeParquet();
    await timeRaw();
    const parquetWrites: number[] = [];
    const rawWrites: number[] = [];
    for (let i = 0; i < reps; i++) {
      if (i % 2 === 0) {
        parquetWrites.push(await timeParquet());
        rawWrites.push(await timeRaw());
      } else {
        rawWrites.push(await timeRaw());
        parquetWrites.push(await timeParquet());
      }
    }
    const parquetWriteMs = median(parquetWrites);
    const rawWriteMs = median(rawWrites);

    // Streaming to Parquet in fresh processes: 1 year vs 6 years.
    await warmReplica(url, "1m", SIX_YEARS);
    const parquet1y = await runChild([
      "--parquet-child",
      url,
      String(YEAR.start),
      String(YEAR.end),
      join(dir, "1y.parquet"),
    ]);
    const parquet6y = await runChild([
      "--parquet-child",
      url,
      String(SIX_YEARS.start),
      String(SIX_YEARS.end),
      join(dir, "6y.parquet"),
    ]);

    // One month of 1s: the replica builds the daily archives first (untimed).
    await warmReplica(url, "1s", MONTH_1S);
    const zips: Uint8Array[] = [];
    for (let t = MONTH_1S.start; t < MONTH_1S.end; t += DAY_MS) {
      const u = klineArchiveUrl(url, "spot", "BTCUSDT", "1s", { kind: "daily", label: utcDay(t) });
      zips.push(new Uint8Array(await (await fetch(u)).arrayBuffer()));
    }
    const t0 = performance.now();
    for (const z of zips) extractSingleCsvSync(z);
    const inflate1sMs = performance.now() - t0;
    const month1s = await runChild(["--1s-child", url]);

    const result: StreamBenchResult = {
      warmGetDataMs: Math.round(median(warmGetData) * 10) / 10,
      warmReadDaysMs: Math.round(median(warmReadDays) * 10) / 10,
      yearRows,
      parquet1y,
      parquet6y,
      parquetWriteMs: Math.round(parquetWriteMs),
      rawWriteMs: Math.round(rawWriteMs),
      month1s,
      inflate1sMs: Math.round(inflate1sMs),
    };
    if (options.print ?? true) printResult(result);
    return result;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function printResult(r: StreamBenchResult): void {
  const mrows = (rows: number, ms: number) => `${(rows / ms / 1000).toFixed(1)} M rows/s`;
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  console.log("Streams and chunked columns (replica in a child process, BTCUSDT)");
  console.log(
    `warm year 1m getData: ${r.warmGetDataMs} ms (${mrows(r.yearRows, r.warmGetDataMs)}); ` +
      `readDays ${r.warmReadDaysMs} ms (${mrows(r.yearRows, r.warmReadDaysMs)}); ` +
      `ratio ×${(r.warmGetDataMs / r.warmReadDaysMs).toFixed(2)}`,
  );
  const colMb = r.yearRows * ROW_BYTES / 1e6;
  console.log(
    `Parquet write of the year: ${r.parquetWriteMs} ms (${
      (colMb / (r.parquetWriteMs / 1000)).toFixed(0)
    } MB/s of columns); plain write of the column bytes ${r.rawWriteMs} ms`,
  );
  for (const [name, f] of [["1 year", r.parquet1y], ["6 years", r.parquet6y]] as const) {
    console.log(
      `stream → Parquet, ${name}: ${f.rows} rows in ${f.ms} ms; peak RSS ${mb(f.peakBytes)} ` +
        `(before ${mb(f.beforeBytes)})`,
    );
  }
  const cols = r.month1s.rows * (ROW_BYTES + 1);
  console.log(
    `month of 1s cold getData: ${r.month1s.rows} rows in ${r.month1s.ms} ms; single-thread ` +
      `inflate of the same archives ${r.inflate1sMs} ms (×${
        (r.month1s.ms / r.inflate1sMs).toFixed(2)
      }); peak RSS ${mb(r.month1s.peakBytes)} = ×${(r.month1s.peakBytes / cols).toFixed(2)} ` +
      `of its columns (${mb(cols)})`,
  );
}

if (import.meta.main) {
  const [mode, ...args] = Deno.args;
  if (mode === "--parquet-child") {
    await parquetChild(args[0], Number(args[1]), Number(args[2]), args[3]);
  } else if (mode === "--1s-child") {
    await month1sChild(args[0]);
  } else {
    await runStreamBench({ reps: 3 });
  }
}
