/**
 * vision-data: Binance klines from the Vision archive and the REST API, verified,
 * cached, and handed over as typed columns — with clients that never hang and never leak.
 *
 * The root holds what an application needs: the manager and the two clients, `Klines`, the
 * enums, their options and result types, the shared lifecycle types, the resource building
 * blocks and every error. Specialist tools live in subpaths: `./market` (interval and time
 * helpers), `./cache`, `./export`, `./vision`, `./rest`, `./resource`, `./testing` (the
 * Binance replica) and `./cli`.
 *
 * ```ts ignore
 * import { DataSourceManager, Interval, MarketType } from "@vision-data/client";
 * await using manager = new DataSourceManager({ marketType: MarketType.SPOT });
 * const k = await manager.getData({
 *   symbol: "BTCUSDT", interval: Interval.MINUTE_1, start: "2024-01-01", end: "2024-01-02",
 * });
 * console.log(k.length, k.close[0]);
 * ```
 *
 * @module
 */

// The manager and the clients.
export {
  type CacheStats,
  type DataProgress,
  DataSourceManager,
  type DataSourceManagerOptions,
  type FailoverStats,
  fetchMarketData,
  type FetchMarketDataOptions,
  type GetDataOptions,
  type StreamDataOptions,
} from "./src/manager/mod.ts";
export { KlinesStream, type SourceRows, type StreamOptions } from "./src/stream.ts";
export {
  type ArchiveRows,
  type FetchKlinesOptions,
  type FetchProgress,
  VisionDataClient,
  type VisionDataClientOptions,
} from "./src/vision/client.ts";
export {
  type RestClientStats,
  RestDataClient,
  type RestDataClientOptions,
  type RestFetchKlinesOptions,
} from "./src/rest/client.ts";
export type { ClientStats, ProgressEvent } from "./src/client_stats.ts";

// The data.
export {
  DataSource,
  type KlineChunk,
  type KlineColumn,
  type KlineColumns,
  type KlineRecord,
  Klines,
  type KlinesMeta,
  SOURCE_CODES,
} from "./src/klines.ts";
export { KLINE_COLUMNS } from "./src/columns.ts";
export { Interval, MarketType } from "./src/market.ts";
export type { TimeInput, TimeRange } from "./src/time.ts";

// Lifecycle and resources.
export type { Lifecycle, LifecycleOptions, LifecycleState } from "./src/resource/lifecycle.ts";
export {
  type CleanupTask,
  type CleanupTaskReport,
  type CleanupTaskStatus,
  DeadlineCleanupManager,
  type DeadlineCleanupManagerOptions,
  DisposeError,
  type DisposeErrorOptions,
  type DisposeReport,
  type DisposeStepReport,
  ResourceOwner,
  type ResourceOwnerOptions,
  type RunOptions,
} from "./src/resource/mod.ts";

// Errors: every one extends VisionDataError.
export {
  ArchiveError,
  BinanceApiError,
  CacheCorruptError,
  CacheDataError,
  ChecksumMismatchError,
  ClientClosedError,
  HttpStatusError,
  InvalidRangeError,
  InvalidSymbolError,
  IpBannedError,
  MalformedResponseError,
  NetworkError,
  RateLimitError,
  RequestTimeoutError,
  UnsupportedIntervalError,
  VisionDataError,
} from "./src/errors.ts";
export { InvalidOptionError } from "./src/option_error.ts";

// Bounds on hostile input (see the README's Limits table).
export {
  BodyTooLargeError,
  ContentLengthError,
  CorruptRowError,
  InvalidTimeError,
  LimitExceededError,
  SourceTimeoutError,
  TempDirError,
} from "./src/limit_errors.ts";

// Live klines over WebSocket (more in `./live`).
export { KlineStream, type KlineStreamOptions, type KlineUpdate } from "./src/live/mod.ts";

// More market data: kline kinds, funding rates, aggregate trades (more in `./funding`,
// `./agg-trades`).
export { KlineKind } from "./src/kline_kind.ts";
export { DataType } from "./src/data_types.ts";
export { UnsupportedDataError } from "./src/data_errors.ts";
export { FundingRates, type GetFundingOptions } from "./src/funding/mod.ts";
export {
  type AggTradeColumns,
  AggTradesTooLargeError,
  type StreamAggTradesOptions,
} from "./src/agg_trades/mod.ts";
