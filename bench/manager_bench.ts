/**
 * DataSourceManager bench, against a replica in a child process (`testing/serve.ts`):
 *
 * - (a) a cold `AUTO` fetch of the last 30 days of 1m (daily archives + REST for today);
 * - (b) filling the cache: a cold year of 1m through Vision (monthly archives), then the
 *   warm read of that year through `getData`, next to the cache layer alone
 *   (`KlineCache.readRange` over the same year) measured in the same run: the ratio is what
 *   the manager adds on top of its cache (planning, per-day lookups, merge).
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/manager_bench.ts`
 *
 * @module
 */
import { startReplicaProcess } from "./_replica_process.ts";
import { KlineCache } from "../src/cache/mod.ts";
import { DataSource } from "../src/klines.ts";
import { DataSourceManager } from "../src/manager.ts";

/** Options for {@linkcode runManagerBench}. */
export interface ManagerBenchOptions {
  /** Timed repetitions of the warm reads (the median is reported). @default {5} */
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
  /** Cold year of 1m through Vision, cache writes included (the fill for the warm read). */
  coldYearVision: BenchFigure & { cacheWrites: number };
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

async function medianMs(reps: number, fn: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
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
  const reps = options.reps ?? 5;
  const replica = await startReplicaProcess({ now: NOW, symbols: ["BTCUSDT"] });
  const cacheDir = await Deno.makeTempDir({ prefix: "vision-data-manager-bench-" });
  const now = Date.parse(NOW);
  const base = {
    marketType: "spot" as const,
    cacheDir,
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

    // Fill: a cold year through Vision, writing every day to the cache.
    let coldYearVision: ManagerBenchResult["coldYearVision"];
    {
      await using manager = new DataSourceManager(base);
      t0 = performance.now();
      const k = await manager.getData({ ...q, ...YEAR, enforceSource: DataSource.VISION });
      const ms = performance.now() - t0;
      coldYearVision = { ...figure(ms, k.length), cacheWrites: manager.getCacheStats().writes };
    }

    // (b) Warm year through the manager vs the cache layer alone, interleaved in one run.
    let rows = 0;
    const warmManager = await medianMs(reps, async () => {
      await using manager = new DataSourceManager(base);
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
      console.log(`(b) warm year via getData:     ${f(result.warmYearManager)}`);
      console.log(`    baseline readRange (cache): ${f(result.warmYearCacheOnly)}`);
      console.log(
        `    manager / cache-only = ${result.warmOverheadRatio}; cold / warm = ${result.coldVsWarm}`,
      );
    }
    return result;
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
    await replica.stop();
  }
}

if (import.meta.main) await runManagerBench();
