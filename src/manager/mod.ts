/**
 * {@linkcode DataSourceManager}: klines from the cache, the Vision archive and the REST API
 * with failover, and {@linkcode fetchMarketData} for one-shot use.
 *
 * @module
 */
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
} from "./manager.ts";
