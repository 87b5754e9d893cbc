/**
 * DataSourceManager bench, against a replica in a child process (`testing/serve.ts`):
 *
 * - (a) a cold `AUTO` fetch of the last 30 days of 1m (daily archives + REST for today);
 * - filling the cache: a cold year of 1m through Vision (12 monthly archives) with a fresh
 *   cache, next to its two parts measured in the same rounds — the same year through a bare
 *   `VisionDataClient`, and `KlineCache.write` of its 366 days (4 at a time, as the manager)
 *   into a fresh directory. The replica's archives are generated once before timing (the
 *   replica builds a zip on first request; that is the replica's time, not the client's);
 * - (b) the warm read of that year through `getData`, next to the cache layer alone
 *   (`KlineCache.readRange` over the same year) measured in the same run: the ratio is what
 *   the manager adds on top of its cache (planning, per-day lookups, merge).
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/manager_bench.ts`
 *
 * @module
 */
import { startReplicaProcess } from "./_replica_process.ts";
import { KlineCache } from "../src/cache/mod.ts";
import { DataSource, type Klines } from "../src/klines.ts";
import { DataSourceManager } from "../src/manager/mod.ts";
import { utcDay } from "../src/time.ts";
import { VisionDataClient } from "../src/vision/client.ts";

/** Options for {@linkcode runManagerBench}. */
export interface ManagerBenchOptions {
  /** Timed rounds of the cold year and of the warm reads (medians are reported). @default {5} */
  reps?: number;
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** One timed fetch. */
export interface BenchFigure {
  /** Wall-clock ms (median for warm reads). */
  ms: number;
  /** Rows returned. */
  rows: number;
  /** Rows per second. */
  rowsPerSec: number;
}

/** The figures of one run. */
export interface ManagerBenchResult {
  /** (a) Cold AUTO fetch of 30 days of 1m (Vision daily files + REST). */
  coldMonthAuto: BenchFigure & { vision: number; rest: number };
  /** Cold year of 1m through Vision, cache writes included (median of `reps` rounds). */
  coldYearVision: BenchFigure & { cacheWrites: number };
  /** Baseline: the same year through a bare `VisionDataClient` (same rounds). */
  coldYearVisionOnly: BenchFigure;
  /** Baseline: `KlineCache.write` of the year's days, 4 at a time, fresh dir (same rounds). */
  cacheWritesOnlyMs: number;
  /** `coldYearVision.ms / (coldYearVisionOnly.ms + cacheWritesOnlyMs)` (1 = no overhead). */
  coldOverParts: number;
  /** The target: `1.5 × coldYearVisionOnly.ms + cacheWritesOnlyMs`. */
  coldTargetMs: number;
  /** (b) Warm year of 1m through `getData` (every day a cache hit). */
  warmYearManager: BenchFigure;
  /** Baseline: `KlineCache.readRange` of the same year (read + verify + one concatenation). */
  warmYearCacheOnly: BenchFigure;
  /** `warmYearManager.ms / warmYearCacheOnly.ms` (1 = no overhead over the cache). */
  warmOverheadRatio: number;
  /** `coldYearVision.ms / warmYearManager.ms`: what the cache saves. */
  coldVsWarm: number;
}

const NOW = "2025-06-01T10:30:00Z";
const YEAR = { start: Date.parse("2024-01-01T00:00:00Z"), end: Date.parse("2025-01-01T00:00:00Z") };
const DAY_MS = 86_400_000;

function figure(ms: number, rows: number): BenchFigure {
  return { ms: Math.round(ms), rows, rowsPerSec: Math.round(rows / (ms / 1000)) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function medianMs(reps: number, fn: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Writes every day of `k` to a fresh cache in `dir`, `concurrency` at a time. */
async function writeDays(dir: string, k: Klines, concurrency: number): Promise<number> {
  const cache = new KlineCache({ dir });
  const days: number[] = [];
  for (let t = YEAR.start; t < YEAR.end; t += DAY_MS) days.push(t);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < days.length) {
      const t = days[next++];
      const key = { marketType: "spot" as const, symbol: "BTCUSDT", interval: "1m" as const };
      await cache.write({ ...key, day: utcDay(t) }, k.between(t, t + DAY_MS).columns);
    }
  }));
  return days.length;
}

/**
 * Runs the bench and returns (and by default prints) the figures.
 *
 * @example
 * ```ts ignore
 * import { runManagerBench } from "./manager_bench.ts";
 * const r = await runManagerBench({ reps: 3 });
 * console.log(r.warmOverheadRatio);
 * ```
 */
export async function runManagerBench(
  options: ManagerBenchOptions = {},
): Promise<ManagerBenchResult> {
  const reps = Math.max(1, options.reps ?? 5);
  const replica = await startReplicaProcess({ now: NOW, symbols: ["BTCUSDT"] });
  const dirs: string[] = [];
  const tempDir = async () => {
    dirs.push(await Deno.makeTempDir({ prefix: "vision-data-manager-bench-" }));
    return dirs[dirs.length - 1];
  };
  let cacheDir = "";
  const now = Date.parse(NOW);
  const base = {
    marketType: "spot" as const,
    visionUrl: replica.visionUrl,
    restUrl: replica.restUrl,
    now: () => now,
  };
  const q = { symbol: "BTCUSDT", interval: "1m" as const };
  try {
    // (a) Cold AUTO: 30 days back from now, fresh cache.
    let t0 = performance.now();
    let coldMonthAuto: ManagerBenchResult["coldMonthAuto"];
    {
      await using manager = new DataSourceManager({ ...base, useCache: false });
      const k = await manager.getData({ ...q, start: now - 30 * DAY_MS, end: now });
      const ms = performance.now() - t0;
      let rest = 0;
      for (const s of k.sources!) if (s === 2) rest++;
      coldMonthAuto = { ...figure(ms, k.length), vision: k.length - rest, rest };
    }

    // The replica builds each zip on its first request (~2.4 s for the 12 monthly zips of
    // a year here): build them now, untimed, so the rounds time the client, not the replica.
    {
      await using client = new VisionDataClient({ marketType: "spot", baseUrl: replica.visionUrl });
      await client.fetchKlines({ ...q, ...YEAR });
    }

    // Cold year via the manager vs its parts, one of each per round: a bare Vision fetch of
    // the same year, and the cache writes of its days alone.
    const manager: number[] = [];
    const visionOnly: number[] = [];
    const writesOnly: number[] = [];
    let rows = 0;
    let cacheWrites = 0;
    for (let i = 0; i < reps; i++) {
      t0 = performance.now();
      let k: Klines;
      {
        await using client = new VisionDataClient({
          marketType: "spot",
          baseUrl: replica.visionUrl,
        });
        k = await client.fetchKlines({ ...q, ...YEAR });
      }
      visionOnly.push(performance.now() - t0);
      // Every round writes into new directories, all removed at the end: on a file system
      // without a journal (this VM's ext4), each file created soon after many deletions
      // costs ext4 a scan of the recently deleted inodes, so deleting between rounds would
      // slow the next round's writes.
      const writeDir = await tempDir();
      t0 = performance.now();
      await writeDays(writeDir, k, 4);
      writesOnly.push(performance.now() - t0);

      // The last round's cache is the warm year below.
      cacheDir = await tempDir();
      t0 = performance.now();
      {
        await using m = new DataSourceManager({ ...base, cacheDir });
        const got = await m.getData({ ...q, ...YEAR, enforceSource: DataSource.VISION });
        rows = got.length;
        cacheWrites = m.getCacheStats().writes;
      }
      manager.push(performance.now() - t0);
    }
    const coldYearVision = { ...figure(median(manager), rows), cacheWrites };
    const coldYearVisionOnly = figure(median(visionOnly), rows);
    const cacheWritesOnlyMs = Math.round(median(writesOnly));

    // (b) Warm year through the manager vs the cache layer alone, interleaved in one run.
    const warmManager = await medianMs(reps, async () => {
      await using manager = new DataSourceManager({ ...base, cacheDir });
      const k = await manager.getData({ ...q, ...YEAR, enforceSource: DataSource.CACHE });
      if (k.gaps.length > 0) throw new Error(`warm read has gaps: ${JSON.stringify(k.gaps)}`);
      rows = k.length;
      return rows;
    });
    const cache = new KlineCache({ dir: cacheDir });
    const warmCache = await medianMs(reps, async () => {
      const r = await cache.readRange({ marketType: "spot", ...q }, YEAR);
      return r.columns.openTime.length;
    });

    const result: ManagerBenchResult = {
      coldMonthAuto,
      coldYearVision,
      coldYearVisionOnly,
      cacheWritesOnlyMs,
      coldOverParts: Math.round(
        (coldYearVision.ms / (coldYearVisionOnly.ms + cacheWritesOnlyMs)) * 100,
      ) / 100,
      coldTargetMs: Math.round(1.5 * coldYearVisionOnly.ms + cacheWritesOnlyMs),
      warmYearManager: figure(warmManager, rows),
      warmYearCacheOnly: figure(warmCache, rows),
      warmOverheadRatio: Math.round((warmManager / warmCache) * 100) / 100,
      coldVsWarm: Math.round((coldYearVision.ms / warmManager) * 10) / 10,
    };
    if (options.print ?? true) {
      const f = (x: BenchFigure) => `${x.rows} rows in ${x.ms} ms (${x.rowsPerSec} rows/s)`;
      console.log("DataSourceManager bench (replica in a child process, 1m BTCUSDT)");
      console.log(
        `(a) cold AUTO, 30 days:        ${f(coldMonthAuto)}; ` +
          `vision ${coldMonthAuto.vision}, rest ${coldMonthAuto.rest}`,
      );
      console.log(
        `    cold year via Vision:      ${
          f(coldYearVision)
        }; ${coldYearVision.cacheWrites} days cached`,
      );
      console.log(
        `    baseline Vision only:      ${f(coldYearVisionOnly)}; cache writes alone ` +
          `${cacheWritesOnlyMs} ms; cold / (Vision + writes) = ${result.coldOverParts}; ` +
          `target ≤ ${result.coldTargetMs} ms`,
      );
      console.log(`(b) warm year via getData:     ${f(result.warmYearManager)}`);
      console.log(`    baseline readRange (cache): ${f(result.warmYearCacheOnly)}`);
      console.log(
        `    manager / cache-only = ${result.warmOverheadRatio}; cold / warm = ${result.coldVsWarm}`,
      );
    }
    return result;
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
    await replica.stop();
  }
}

if (import.meta.main) await runManagerBench();
