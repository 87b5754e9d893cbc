/**
 * Options of the funding-rate calls.
 *
 * @module
 */
import type { DataSource } from "../klines.ts";
import type { TimeInput } from "../time.ts";

/**
 * Options of `VisionDataClient#fetchFundingRates` and `RestDataClient#fetchFundingRates`.
 *
 * @example
 * ```ts
 * import type { FetchFundingOptions } from "@vision-data/client/funding";
 * const o: FetchFundingOptions = { symbol: "BTCUSDT", start: "2024-01-01", end: "2024-02-01" };
 * ```
 */
export interface FetchFundingOptions {
  /** The contract, any case (`btcusdt` → `BTCUSDT`, `BTCUSD_PERP`). */
  symbol: string;
  /** Inclusive start (on funding time). */
  start: TimeInput;
  /** Exclusive end (on funding time); clamped to now. */
  end: TimeInput;
  /** Aborts this call. */
  signal?: AbortSignal;
}

/**
 * Options of `DataSourceManager#getFundingRates`.
 *
 * @example
 * ```ts
 * import type { GetFundingOptions } from "@vision-data/client/funding";
 * const o: GetFundingOptions = { symbol: "BTCUSDT", start: "2024-01-01", end: "2024-02-01" };
 * ```
 */
export interface GetFundingOptions extends FetchFundingOptions {
  /**
   * `AUTO` (default): cache, then the monthly archives, then REST for months the archive
   * lacks. `VISION`/`REST`: only that source fills what the cache lacks. `CACHE`: only the cache.
   */
  enforceSource?: DataSource;
}
