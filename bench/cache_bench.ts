/**
 * Cache bench: writes a synthetic year of 1m klines (365 day files, 525,600 rows) into a
 * temp cache dir, then times warm reads against a baseline measured in the same run: a
 * plain `Deno.readFile` of the same files with the same concurrency (no parsing, no
 * verification). Run: `deno run -A --import-map=offline/import_map.json bench/cache_bench.ts`.
 *
 * @module
 */
import { allocateColumns, type KlineColumns } from "../src/klines.ts";
import { KlineCache } from "../src/cache/mod.ts";
import { DAY_MS, utcDay } from "../src/time.ts";

/** Options for {@linkcode runCacheBench}. */
export interface CacheBenchOptions {
  /** Days of 1m data. @default {365} */
  days?: number;
  /** Timed repetitions of each read (the median is reported). @default {7} */
  reps?: number;
  /** Files read concurrently (cache and baseline alike). @default {8} */
  concurrency?: number;
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** The figures of one run (times are medians in ms). */
export interface CacheBenchResult {
  /** Days written and read. */
  days: number;
  /** Rows in all. */
  rows: number;
  /** Bytes on disk. */
  bytes: number;
  /** Writing every day through `KlineCache.write`. */
  writeMs: number;
  /** Baseline: `Deno.readFile` of every file. */
  rawReadMs: number;
  /** `readDays`: read + verify (CRC-32) + zero-copy views, one buffer per day. */
  readDaysMs: number;
  /** `readRange` over the whole year: `readDays` + one concatenation. */
  readRangeMs: number;
  /** Fastest repetition of each (ms): less sensitive to other processes on the machine. */
  best: { rawReadMs: number; readDaysMs: number; readRangeMs: number };
  /** Baseline throughput, bytes/s. */
  rawBytesPerSec: number;
  /** `readDays` rows/s. */
  readDaysRowsPerSec: number;
  /** `readRange` rows/s. */
  readRangeRowsPerSec: number;
  /** `readDaysMs / rawReadMs` (1 = as fast as reading the bytes). */
  readDaysRatio: number;
  /** `readRangeMs / rawReadMs`. */
  readRangeRatio: number;
}

const START = Date.UTC(2024, 0, 1);

function syntheticDay(dayStart: number, rows: number, seed: number): KlineColumns {
  const c = allocateColumns(rows);
  let price = 40_000 + seed;
  for (let i = 0; i < rows; i++) {
    const t = dayStart + i * 60_000;
    const open = price;
    price = Math.round((price + Math.sin(seed + i) * 25) * 100) / 100;
    c.openTime[i] = t;
    c.open[i] = open;
    c.high[i] = Math.max(open, price) + 1.5;
    c.low[i] = Math.min(open, price) - 1.25;
    c.close[i] = price;
    c.volume[i] = 10 + ((i * 7919) % 1000) / 1000;
    c.closeTime[i] = t + 59_999;
    c.quoteVolume[i] = c.volume[i] * price;
    c.trades[i] = 100 + (i % 250);
    c.takerBuyBaseVolume[i] = c.volume[i] / 2;
    c.takerBuyQuoteVolume[i] = c.quoteVolume[i] / 2;
  }
  return c;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function readAllRaw(paths: string[], concurrency: number): Promise<number> {
  let next = 0;
  let bytes = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < paths.length) {
      const file = await Deno.readFile(paths[next++]);
      bytes += file.length;
    }
  }));
  return bytes;
}

/**
 * Runs the bench in a temp dir (removed afterwards) and returns the figures.
 *
 * @example
 * ```ts ignore
 * import { runCacheBench } from "./cache_bench.ts";
 * const r = await runCacheBench({ days: 30, print: false });
 * console.log(r.readDaysRowsPerSec);
 * ```
 */
export async function runCacheBench(options: CacheBenchOptions = {}): Promise<CacheBenchResult> {
  const { days = 365, reps = 7, concurrency = 8, print = true } = options;
  const dir = await Deno.makeTempDir({ prefix: "vision-data-cache-bench-" });
  try {
    const cache = new KlineCache({ dir, concurrency });
    const meta = { marketType: "spot", symbol: "BTCUSDT", interval: "1m" } as const;
    const keys = Array.from(
      { length: days },
      (_, d) => ({ ...meta, day: utcDay(START + d * DAY_MS) }),
    );
    let t0 = performance.now();
    for (let d = 0; d < days; d++) {
      await cache.write(keys[d], syntheticDay(START + d * DAY_MS, 1440, d));
    }
    const writeMs = performance.now() - t0;
    const paths = keys.map((k) => cache.pathFor(k));
    const range = { start: START, end: START + days * DAY_MS };
    const rows = days * 1440;

    // One untimed pass of each so every variant starts from a warm page cache and JIT.
    const bytes = await readAllRaw(paths, concurrency);
    await cache.readDays({ ...meta, startDay: keys[0].day, endDay: keys[days - 1].day });
    const raw: number[] = [];
    const perDay: number[] = [];
    const ranged: number[] = [];
    for (let r = 0; r < reps; r++) {
      // Interleaved so drift (GC, page cache, CPU frequency) hits all three alike.
      t0 = performance.now();
      await readAllRaw(paths, concurrency);
      raw.push(performance.now() - t0);

      t0 = performance.now();
      const d = await cache.readDays({
        ...meta,
        startDay: keys[0].day,
        endDay: keys[days - 1].day,
      });
      perDay.push(performance.now() - t0);
      if (d.parts.length !== days) throw new Error(`read ${d.parts.length} days, wrote ${days}`);

      t0 = performance.now();
      const rr = await cache.readRange(meta, range);
      ranged.push(performance.now() - t0);
      if (rr.columns.openTime.length !== rows) throw new Error("readRange lost rows");
    }
    const rawReadMs = median(raw);
    const readDaysMs = median(perDay);
    const readRangeMs = median(ranged);
    const result: CacheBenchResult = {
      days,
      rows,
      bytes,
      writeMs,
      rawReadMs,
      readDaysMs,
      readRangeMs,
      best: {
        rawReadMs: Math.min(...raw),
        readDaysMs: Math.min(...perDay),
        readRangeMs: Math.min(...ranged),
      },
      rawBytesPerSec: bytes / (rawReadMs / 1000),
      readDaysRowsPerSec: rows / (readDaysMs / 1000),
      readRangeRowsPerSec: rows / (readRangeMs / 1000),
      readDaysRatio: readDaysMs / rawReadMs,
      readRangeRatio: readRangeMs / rawReadMs,
    };
    if (print) {
      const mb = (bytes / 1e6).toFixed(1);
      const m = (x: number): string => (x / 1e6).toFixed(1);
      console.log(`cache bench: ${days} days of 1m, ${rows} rows, ${mb} MB, median of ${reps}`);
      console.log(`  write (encode + temp + rename)  ${writeMs.toFixed(0)} ms total`);
      console.log(
        `  baseline Deno.readFile           ${rawReadMs.toFixed(1)} ms  ${
          (result.rawBytesPerSec / 1e9).toFixed(2)
        } GB/s`,
      );
      console.log(
        `  readDays (verify, zero-copy)     ${readDaysMs.toFixed(1)} ms  ${
          m(result.readDaysRowsPerSec)
        } M rows/s  ratio ${result.readDaysRatio.toFixed(2)}x baseline`,
      );
      console.log(
        `  readRange (+ one concat)         ${readRangeMs.toFixed(1)} ms  ${
          m(result.readRangeRowsPerSec)
        } M rows/s  ratio ${result.readRangeRatio.toFixed(2)}x baseline`,
      );
      const b = result.best;
      console.log(
        `  best of ${reps}: baseline ${b.rawReadMs.toFixed(1)} ms, readDays ${
          b.readDaysMs.toFixed(1)
        } ms (${m(rows / (b.readDaysMs / 1000))} M rows/s), readRange ${
          b.readRangeMs.toFixed(1)
        } ms (${m(rows / (b.readRangeMs / 1000))} M rows/s)`,
      );
    }
    return result;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await runCacheBench();
