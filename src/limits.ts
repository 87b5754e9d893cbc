/**
 * Every bound the library applies to what comes from the network or the user, with its
 * default and the option that changes it, in one place (the README's "Limits" table lists
 * the same). Exceeding a bound is a typed error from `limit_errors.ts`, never a crash, a
 * hang or unbounded memory/disk.
 *
 * @module
 */
import type { MarketType } from "./market.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * The defaults of the bounds (options of the same name override them where noted).
 *
 * @example
 * ```ts
 * import { LIMITS } from "@vision-data/client/market";
 * LIMITS.maxPageBytes; // 4194304
 * ```
 */
export const LIMITS = {
  /**
   * Largest archive accepted (`VisionDataClient` option `maxArchiveBytes`): the biggest
   * Vision files (monthly trades of the busiest symbols) stay well below; an archive must
   * also declare its size and may not exceed it.
   */
  maxArchiveBytes: 4 * GiB,
  /** Largest `.CHECKSUM` body (one line, ~100 bytes). Not configurable. */
  maxChecksumBytes: 64 * KiB,
  /**
   * Largest REST klines page body (`RestDataClient` option `maxPageBytes`): a 1500-row page
   * is ~300 KB, so an endless body is cut before it costs memory worth mentioning.
   */
  maxPageBytes: 4 * MiB,
  /** Largest `exchangeInfo` body (spot lists thousands of symbols). Not configurable. */
  maxExchangeInfoBytes: 64 * MiB,
  /**
   * Longest `Retry-After` acted on, ms (418 bans last up to 3 days): larger or unreadable
   * values are capped here, so a lying header cannot overflow a date.
   */
  maxRetryAfterMs: 3 * 86_400_000,
  /**
   * Longest 429 `Retry-After` a REST call waits out, ms (`RestDataClient` option
   * `maxRateLimitWaitMs`); a longer one fails the call with `LimitExceededError`.
   */
  maxRateLimitWaitMs: 120_000,
  /**
   * Longest a Vision span may go without finishing an archive in `DataSourceManager` AUTO
   * before it goes to REST, ms (manager option `sourceTimeoutMs`): a stalling archive host
   * would otherwise cost 4 attempts × 30 s header timeouts plus backoff.
   */
  sourceTimeoutMs: 60_000,
  /** Largest cache day file read, bytes: 1s klines of a day are ~7.6 MB. Not configurable. */
  maxCacheFileBytes: 64 * MiB,
} as const;

/**
 * The first UTC day each market has klines for; range starts before it are clamped to it.
 * Where the facts come from (the protocol spec lists no dates): spot 2017-08-17 — the real
 * archive file `BTCUSDT-1m-2017-08-17.csv` (tests/fixtures, see its SOURCES.md) starts at
 * 04:00 UTC, when Binance spot trading began; USDⓈ-M 2019-09-08 (BTCUSDT perpetual, the
 * market's launch) and COIN-M 2020-08-10 (BTCUSD_PERP, the market's launch) — Binance's
 * listing dates, as the bundled replica's default symbols encode them (`testing/_dataset.ts`).
 * The day is taken whole (from 00:00 UTC), so the first candles are never clamped away.
 *
 * @example
 * ```ts
 * import { MARKET_FIRST_DATA } from "@vision-data/client/market";
 * new Date(MARKET_FIRST_DATA.um).toISOString(); // "2019-09-08T00:00:00.000Z"
 * ```
 */
export const MARKET_FIRST_DATA: Readonly<Record<MarketType, number>> = {
  spot: Date.UTC(2017, 7, 17),
  um: Date.UTC(2019, 8, 8),
  cm: Date.UTC(2020, 7, 10),
};
