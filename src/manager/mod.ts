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
  fetchMarketData,
  type FetchMarketDataOptions,
  type GetDataOptions,
} from "./manager.ts";
