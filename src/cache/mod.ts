/**
 * The local kline cache: one uncompressed Arrow IPC file per (market, symbol, interval,
 * UTC day), browsable like the Vision archive:
 *
 * ```text
 * {dir}/spot/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.arrow
 * {dir}/futures/um/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01-01.arrow
 * {dir}/futures/cm/klines/BTCUSD_PERP/1mo/BTCUSD_PERP-1mo-2024-01-01.arrow
 * ```
 *
 * `dir` defaults to {@linkcode defaultCacheDir} (`$VISION_DATA_CACHE_DIR`, else the
 * platform cache directory + `/vision-data`).
 *
 * ## File schema (format version 1)
 *
 * One record batch, no nulls, no compression, columns in Binance CSV order:
 *
 * | column | Arrow type | notes |
 * | --- | --- | --- |
 * | `open_time` | `Timestamp(ms, "UTC")` | candle open, inside the file's UTC day, strictly increasing |
 * | `open`, `high`, `low`, `close`, `volume` | `Float64` | |
 * | `close_time` | `Timestamp(ms, "UTC")` | open + interval − 1 ms |
 * | `quote_volume` | `Float64` | |
 * | `count` | `Int64` | number of trades |
 * | `taker_buy_volume`, `taker_buy_quote_volume` | `Float64` | |
 *
 * Schema metadata: `vision-data.version` (`"1"`), `vision-data.rows`,
 * `vision-data.checksum` (`crc32:` + 8 hex digits: CRC-32 of the 11 column value buffers, in
 * column order, as stored), `vision-data.market` (`spot`/`um`/`cm`), `vision-data.symbol`,
 * `vision-data.interval` (REST name, e.g. `1M`), `vision-data.day` (`YYYY-MM-DD`).
 *
 * Read from Python (Polars sees `Datetime(ms, UTC)` times and an `Int64` count):
 *
 * ```text
 * import polars as pl, pyarrow as pa
 * root = "~/.cache/vision-data/spot/klines/BTCUSDT/1m"
 * df = pl.read_ipc(f"{root}/BTCUSDT-1m-2024-01-01.arrow")          # one day
 * df = pl.scan_ipc(f"{root}/*.arrow").collect()                    # every cached day
 * t = pa.ipc.open_file(f"{root}/BTCUSDT-1m-2024-01-01.arrow").read_all()
 * t.schema.metadata[b"vision-data.rows"]
 * ```
 *
 * Files are written by apache-arrow's file writer (the schema lives in the footer) and
 * are never modified in place: a new version replaces the old by an atomic rename.
 *
 * In memory every column is a `Float64Array` view of the file's bytes: the times and the
 * count are converted from int64 in place (both are 8 bytes per value), so a read is one
 * `Deno.readFile` plus a CRC-32 pass, with no copy.
 *
 * @example
 * ```ts
 * import { allocateColumns } from "@vision-data/client/market";
 * import { KlineCache } from "@vision-data/client/cache";
 * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
 * const key = { marketType: "spot", symbol: "BTCUSDT", interval: "1d", day: "2024-01-01" } as const;
 * const columns = allocateColumns(1);
 * columns.openTime[0] = Date.UTC(2024, 0, 1);
 * await cache.write(key, columns);
 * const r = await cache.readRange(key, { start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 0, 3) });
 * r.days; // ["2024-01-01"]
 * r.missing; // ["2024-01-02"]
 * ```
 *
 * @module
 */
export { CACHE_DIR_ENV, defaultCacheDir, type DefaultCacheDirOptions } from "./default_dir.ts";
export { type CacheKey, normalizeCacheKey } from "./key.ts";
export {
  type CacheClearResult,
  type CacheDaysQuery,
  type CacheDaysResult,
  type CachedDay,
  type CacheEntry,
  type CacheFilter,
  type CacheInfo,
  type CacheInfoGroup,
  type CacheRangeResult,
  type CacheVerifyOptions,
  type CacheVerifyResult,
  type CacheWriteOptions,
  KlineCache,
  type KlineCacheOptions,
} from "./kline_cache.ts";
