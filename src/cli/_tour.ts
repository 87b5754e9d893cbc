/**
 * The demo's two tour steps — the same calls `examples/data_retrieval_best_practices.ts`
 * shows users (kept here so the CLI does not import the examples folder): one hour of 1s
 * klines from 90 days ago through the Vision archive, twice (fetched, then from the cache),
 * and the last 48 hours of 1m klines in AUTO mode.
 *
 * @module
 */
import { DataSource, type Klines, SOURCE_CODES } from "../klines.ts";
import { DataSourceManager } from "../manager/mod.ts";

/** Endpoints, clock and cache of a tour step. */
export interface TourOptions {
  /** Vision archive base URL (default: the real one). */
  visionUrl?: string;
  /** REST base URL (default: the real one). */
  restUrl?: string;
  /** The clock, epoch ms. */
  now?: () => number;
  /** The cache directory. */
  cacheDir: string;
  /** Where detail lines go (verbose mode). */
  log: (line: string) => void;
}

/** What a step fetched. */
export interface TourResult {
  /** The klines of the step's last call. */
  klines: Klines;
  /** Rows per source of that call. */
  sources: Record<string, number>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function managerFor(o: TourOptions): DataSourceManager {
  return new DataSourceManager({
    marketType: "spot",
    cacheDir: o.cacheDir,
    visionUrl: o.visionUrl,
    restUrl: o.restUrl,
    now: o.now,
  });
}

/** One hour of 1s klines from 90 days ago, VISION only, fetched twice (the second from cache). */
export async function tourHistorical(o: TourOptions): Promise<TourResult> {
  await using manager = managerFor(o);
  const end = Math.floor(((o.now ?? Date.now)() - 90 * DAY_MS) / HOUR_MS) * HOUR_MS;
  let klines: Klines | undefined;
  for (const call of ["first call", "second call"]) {
    klines = await manager.getData({
      symbol: "BTCUSDT",
      interval: "1s",
      start: end - HOUR_MS,
      end,
      enforceSource: DataSource.VISION,
    });
    o.log(`${call}: ${klines.length} rows; cache ${JSON.stringify(manager.getCacheStats())}`);
  }
  return summarize(klines!, o.log);
}

/** The last 48 hours of 1m klines in AUTO mode (Vision for published days, REST after). */
export async function tourRecent(o: TourOptions): Promise<TourResult> {
  await using manager = managerFor(o);
  const end = (o.now ?? Date.now)();
  const klines = await manager.getData({
    symbol: "BTCUSDT",
    interval: "1m",
    start: end - 2 * DAY_MS,
    end,
    enforceSource: DataSource.AUTO,
  });
  return summarize(klines, o.log);
}

function summarize(klines: Klines, log: (line: string) => void): TourResult {
  const sources: Record<string, number> = {};
  for (const code of klines.sources ?? []) {
    sources[SOURCE_CODES[code]] = (sources[SOURCE_CODES[code]] ?? 0) + 1;
  }
  if (klines.length > 0) {
    const row = (i: number) =>
      `${new Date(klines.openTime[i]).toISOString()} close ${klines.close[i]}`;
    log(`first ${row(0)} · last ${row(klines.length - 1)}`);
  }
  return { klines, sources };
}
