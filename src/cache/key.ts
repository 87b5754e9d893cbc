/**
 * Cache keys and the on-disk layout, which mirrors the Vision archive's paths so the cache
 * can be browsed: `{dir}/{spot|futures/um|futures/cm}/klines/{SYM}/{iv}/{SYM}-{iv}-{day}.arrow`.
 *
 * @module
 */
import { join } from "@std/path";
import { TEMP_INFIX } from "../_atomic_file.ts";
import { InvalidRangeError, UnsupportedIntervalError } from "../errors.ts";
import {
  ALL_INTERVALS,
  type Interval,
  marketCapabilities,
  type MarketType,
  normalizeSymbol,
  parseInterval,
  visionIntervalName,
} from "../market.ts";
import { DAY_MS, utcDay } from "../time.ts";
import { assertKlineKind, type KlineKind, klineKindDir } from "../kline_kind.ts";

/**
 * One cached file: the klines of one symbol and interval on one market for one UTC day.
 *
 * @example
 * ```ts
 * import type { CacheKey } from "@vision-data/client/cache";
 * const key: CacheKey = { marketType: "spot", symbol: "BTCUSDT", interval: "1m", day: "2024-01-01" };
 * ```
 */
export interface CacheKey {
  /** The market. */
  marketType: MarketType;
  /** The symbol (normalized to upper case). */
  symbol: string;
  /** The interval. */
  interval: Interval;
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  /**
   * Which klines (futures only for non-trade kinds). `trades` (or absent) keeps the
   * `klines/` path; the others live under the archive's folder name, e.g. `markPriceKlines/`.
   */
  kind?: KlineKind;
}

const DAY_PATTERN = /^\d{4}-\d\d-\d\d$/;

/**
 * Epoch ms of the start of a `YYYY-MM-DD` UTC day, throwing {@linkcode InvalidRangeError}
 * for anything else (including impossible dates such as `2024-02-30`).
 *
 * @example
 * ```ts
 * import { dayStartOf } from "./key.ts";
 * dayStartOf("1970-01-02"); // 86400000
 * ```
 */
export function dayStartOf(day: string): number {
  const ms = DAY_PATTERN.test(day) ? Date.parse(day + "T00:00:00Z") : NaN;
  if (!Number.isFinite(ms) || utcDay(ms) !== day) {
    throw new InvalidRangeError(`Invalid day ${JSON.stringify(day)}: expected YYYY-MM-DD (UTC)`);
  }
  return ms;
}

/**
 * Validates a key and returns it normalized (upper-case symbol); throws the library's
 * typed errors for a bad market, symbol, interval or day.
 *
 * @example
 * ```ts
 * import { normalizeCacheKey } from "@vision-data/client/cache";
 * normalizeCacheKey({ marketType: "um", symbol: "btcusdt", interval: "1h", day: "2024-01-01" }).symbol;
 * // "BTCUSDT"
 * ```
 */
export function normalizeCacheKey(key: CacheKey): CacheKey {
  marketCapabilities(key.marketType);
  if (!(ALL_INTERVALS as readonly string[]).includes(key.interval)) {
    throw new UnsupportedIntervalError(String(key.interval), "the cache", ALL_INTERVALS);
  }
  dayStartOf(key.day);
  const kind = assertKlineKind(key.marketType, key.kind);
  const out: CacheKey = {
    marketType: key.marketType,
    symbol: normalizeSymbol(key.symbol),
    interval: key.interval,
    day: key.day,
  };
  if (kind !== "trades") out.kind = kind;
  return out;
}

/** The directory of a market's klines below the cache root (`spot/klines`, `futures/um/klines`). */
export function marketDir(dir: string, marketType: MarketType): string {
  return join(dir, ...marketCapabilities(marketType).visionPrefix.split("/"), "klines");
}

/** The path of a normalized key's file. */
export function keyPath(dir: string, key: CacheKey): string {
  const iv = visionIntervalName(key.interval);
  // Trade klines keep their historical path; other kinds sit beside them (`markPriceKlines`).
  const base = key.kind === undefined || key.kind === "trades"
    ? marketDir(dir, key.marketType)
    : join(
      dir,
      ...marketCapabilities(key.marketType).visionPrefix.split("/"),
      klineKindDir(key.kind),
    );
  return join(
    base,
    key.symbol,
    iv,
    `${key.symbol}-${iv}-${key.day}.arrow`,
  );
}

/** Parses `{SYM}-{iv}-{day}.arrow` inside `{SYM}/{iv}/`, or `null` for any other name. */
export function parseFileName(
  marketType: MarketType,
  symbol: string,
  ivDir: string,
  name: string,
): CacheKey | null {
  const prefix = `${symbol}-${ivDir}-`;
  if (!name.startsWith(prefix) || !name.endsWith(".arrow")) return null;
  const day = name.slice(prefix.length, -".arrow".length);
  if (!DAY_PATTERN.test(day)) return null;
  try {
    dayStartOf(day);
    const interval = parseInterval(ivDir);
    return visionIntervalName(interval) === ivDir ? { marketType, symbol, interval, day } : null;
  } catch {
    return null;
  }
}

/**
 * Whether a file name is a cache write's temp file (`*.arrow.tmp-*`, see `writeFileAtomic`).
 *
 * @example
 * ```ts
 * import { isTempName } from "./key.ts";
 * isTempName("BTCUSDT-1m-2024-01-01.arrow.tmp-42-x1y2"); // true
 * ```
 */
export function isTempName(name: string): boolean {
  return name.includes(".arrow" + TEMP_INFIX);
}

/** Every `YYYY-MM-DD` from `startDay` to `endDay`, both included. */
export function daysBetween(startDay: string, endDay: string): string[] {
  const out: string[] = [];
  const end = dayStartOf(endDay);
  for (let t = dayStartOf(startDay); t <= end; t += DAY_MS) out.push(utcDay(t));
  return out;
}
