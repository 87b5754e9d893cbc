/**
 * Pure planning for {@linkcode DataSourceManager}: which spans of a request the cache, the
 * Vision archive and the REST API are asked for, and which fetched days may be cached.
 * No I/O here, so every rule is unit-tested without a server.
 *
 * @module
 */
import { UnsupportedIntervalError } from "../errors.ts";
import {
  DataSource,
  findGaps,
  type KlineColumns,
  type Klines,
  mergeRanges,
  SOURCE_CODES,
} from "../klines.ts";
import { lowerBound } from "../_float64.ts";
import {
  assertIntervalSupported,
  candleFloor,
  firstOpenAtOrAfter,
  type Interval,
  intervalMs,
  isMonthlyOnly,
  marketCapabilities,
  type MarketType,
} from "../market.ts";
import {
  DAY_MS,
  daysOf,
  dayStart,
  monthStart,
  planArchives,
  type TimeRange,
  utcDay,
} from "../time.ts";

/** Source code of a row in `Klines.sources`, by name. */
export const CODE: Readonly<Record<"cache" | "vision" | "rest", number>> = {
  cache: SOURCE_CODES.indexOf("cache"),
  vision: SOURCE_CODES.indexOf("vision"),
  rest: SOURCE_CODES.indexOf("rest"),
};

// The candle grid lives in market.ts; re-exported for the planner's callers.
export { candleFloor };

/** Open time of the first candle opening at or after `t` (see {@linkcode candleFloor}). */
export const candleCeil: (interval: Interval, t: number) => number = firstOpenAtOrAfter;

/**
 * The span whose candles a request can return: from the first candle opening at or after
 * `start`, to `end` — or, unless the open candle is wanted, to the open time of the candle
 * still open at `now` (a candle that has not closed is not missing, it just is not over).
 * `range` is already validated and clamped to `now` by `resolveRange`.
 */
export function candleRange(
  range: TimeRange,
  interval: Interval,
  now: number,
  includeOpenCandle: boolean,
): TimeRange {
  const start = candleCeil(interval, range.start);
  const end = includeOpenCandle ? range.end : Math.min(range.end, candleFloor(interval, now));
  return { start, end: Math.max(start, end) };
}

/** `from` minus `remove`, sorted and coalesced. */
export function subtractRanges(
  from: readonly TimeRange[],
  remove: readonly TimeRange[],
): TimeRange[] {
  const cuts = mergeRanges(remove);
  const out: TimeRange[] = [];
  for (const r of mergeRanges(from)) {
    let start = r.start;
    for (const c of cuts) {
      if (c.end <= start) continue;
      if (c.start >= r.end) break;
      if (c.start > start) out.push({ start, end: c.start });
      start = Math.max(start, c.end);
      if (start >= r.end) break;
    }
    if (start < r.end) out.push({ start, end: r.end });
  }
  return out;
}

/** The parts of `ranges` inside `[lo, hi)`. */
export function clipRanges(ranges: readonly TimeRange[], lo: number, hi: number): TimeRange[] {
  const out: TimeRange[] = [];
  for (const r of ranges) {
    const start = Math.max(r.start, lo);
    const end = Math.min(r.end, hi);
    if (start < end) out.push({ start, end });
  }
  return out;
}

/**
 * Whether klines of this interval are cached: one file per UTC day holds whole candles
 * only for intervals that divide a day. `3d`, `1w` and `1M` candles straddle days, and a
 * request for them is a handful of rows anyway, so they are always fetched.
 */
export function isCacheable(interval: Interval): boolean {
  return !isMonthlyOnly(interval);
}

/** A UTC day of the cache. */
export interface CacheDay {
  /** `YYYY-MM-DD`. */
  day: string;
  /** First ms of the day. */
  start: number;
  /** First ms of the next day. */
  end: number;
}

/**
 * Whether every candle of the day closed at least one interval before `now`. Only such
 * days are looked up in or written to the cache: a younger day may still change.
 */
export function isClosedDay(dayStartMs: number, interval: Interval, now: number): boolean {
  return dayStartMs + DAY_MS <= now - intervalMs(interval);
}

/** The closed UTC days overlapping `range`: the days the cache may hold. */
export function cacheDaysOf(range: TimeRange, interval: Interval, now: number): CacheDay[] {
  const out: CacheDay[] = [];
  if (!isCacheable(interval) || range.start >= range.end) return out;
  for (let t = dayStart(range.start); t < range.end; t += DAY_MS) {
    if (!isClosedDay(t, interval, now)) break;
    out.push({ day: utcDay(t), start: t, end: t + DAY_MS });
  }
  return out;
}

/**
 * Where the Vision archive ends for this interval: a daily file exists only for a day that
 * is over, and `3d`/`1w`/`1M` exist only as monthly files for months that are over.
 * Anything later can only come from REST. (Files not yet published below this horizon are
 * found out by asking: Vision reports them as gaps and REST fills them.)
 */
export function visionHorizon(interval: Interval, now: number): number {
  return isCacheable(interval) ? dayStart(now) : monthStart(now);
}

/** How the missing spans of a request are split between Vision and REST. */
export interface SourceSplit {
  /** Spans to ask the Vision archive for (widened to whole days when `widenToDays`). */
  vision: TimeRange[];
  /** Spans to ask REST for right away (past the Vision horizon, or Vision not allowed). */
  rest: TimeRange[];
}

/** Options for {@linkcode splitMissing}. */
export interface SplitOptions {
  /** Which remote sources may be used. */
  vision: boolean;
  /** Which remote sources may be used. */
  rest: boolean;
  /** See {@linkcode visionHorizon}; ignored when only Vision is allowed. */
  horizon: number;
  /**
   * Widen Vision spans to whole UTC days (clipped to the horizon): the archive is per day
   * anyway, and a whole day can be cached while a slice of one cannot.
   */
  widenToDays: boolean;
}

/**
 * Splits the spans the cache did not have between Vision and REST. When both are allowed,
 * Vision gets what lies before its horizon and REST the rest; when only one is allowed it
 * gets everything (what it lacks becomes a gap).
 */
export function splitMissing(missing: readonly TimeRange[], options: SplitOptions): SourceSplit {
  if (!options.vision) return { vision: [], rest: options.rest ? mergeRanges(missing) : [] };
  const horizon = options.rest ? options.horizon : Infinity;
  let vision = clipRanges(missing, -Infinity, horizon);
  if (options.widenToDays) {
    vision = mergeRanges(vision.map((r) => ({
      start: dayStart(r.start),
      end: Math.min(dayStart(r.end - 1) + DAY_MS, Math.max(horizon, r.end)),
    })));
  }
  const rest = options.rest ? clipRanges(missing, horizon, Infinity) : [];
  return { vision: mergeRanges(vision), rest: mergeRanges(rest) };
}

/**
 * The smaller archive spans to retry a failed Vision span with: its archive periods (whole
 * months, edge days), or a lone month's days; `[]` when the span is one file already (then
 * REST gets it). One bad file thus costs REST one day or month, not the whole request.
 */
export function splitForRetry(span: TimeRange, interval: Interval): TimeRange[] {
  const periods = planArchives(span, { interval });
  const units = periods.length === 1 && periods[0].kind === "monthly" && isCacheable(interval)
    ? daysOf(periods[0])
    : periods;
  return units.length <= 1 ? [] : clipRanges(units, span.start, span.end);
}

/** Options for {@linkcode daysToCache}. */
export interface DaysToCacheOptions {
  /** The interval. */
  interval: Interval;
  /** "Now", epoch ms. */
  now: number;
  /** Spans fetched from Vision or REST in full (asked for, whatever came back). */
  fetched: readonly TimeRange[];
}

/**
 * The days of `rows` worth caching. A day is cached when it is closed
 * ({@linkcode isClosedDay}), was asked of the remote sources in full, and either has
 * every candle (`DAY_MS / interval` rows) or is a listing day served by Vision: rows only
 * from the archive, contiguous from the first candle to the end of the day. Anything else
 * — a partial day, a day with a hole, a truncated archive file, the open candle — is never
 * cached, so a later call asks again instead of trusting an incomplete copy.
 *
 * `rows` must be sorted and de-duplicated, with `sources`.
 */
export function daysToCache(rows: Klines, options: DaysToCacheOptions): CacheDay[] {
  const { interval, now } = options;
  const out: CacheDay[] = [];
  if (!isCacheable(interval) || rows.length === 0) return out;
  const full = DAY_MS / intervalMs(interval);
  for (const span of mergeRanges(options.fetched)) {
    for (let t = dayStart(span.start); t < span.end; t += DAY_MS) {
      const end = t + DAY_MS;
      if (t < span.start || end > span.end || !isClosedDay(t, interval, now)) continue;
      const day = rows.between(t, end);
      if (day.length === 0) continue;
      const closedLast = day.closeTime[day.length - 1] < now && !day.lastIsOpen;
      if (!closedLast) continue;
      if (day.length === full || isListingDay(day, interval, end)) {
        out.push({ day: utcDay(t), start: t, end });
      }
    }
  }
  return out;
}

/** A cache day and its rows `[lo, hi)` in some columns. */
export interface DayRows extends CacheDay {
  /** First row of the day. */
  lo: number;
  /** One past the last row of the day. */
  hi: number;
}

/** Options for {@linkcode completeDaysOf}. */
export interface CompleteDaysOptions {
  /** The interval. */
  interval: Interval;
  /** "Now", epoch ms. */
  now: number;
  /** The span asked of the source in full; only days inside it count. */
  span: TimeRange;
}

/**
 * The days of one archive's rows that can be cached before the fetch is over: closed days
 * ({@linkcode isClosedDay}) inside `span` that hold every candle of the day, exactly on
 * the interval's grid. Such a day is complete whatever else the fetch returns (no other
 * source is asked for a span an archive covered), so {@linkcode daysToCache} would pick
 * it from the merged rows too; writing it early only moves the write forward. Listing
 * days and anything irregular are left to {@linkcode daysToCache}, as is every row of an
 * archive whose open times are not strictly increasing.
 */
export function completeDaysOf(columns: KlineColumns, options: CompleteDaysOptions): DayRows[] {
  const { interval, now, span } = options;
  const { openTime, closeTime } = columns;
  const out: DayRows[] = [];
  const n = openTime.length;
  if (!isCacheable(interval) || n === 0) return out;
  for (let i = 1; i < n; i++) if (!(openTime[i] > openTime[i - 1])) return out;
  const step = intervalMs(interval);
  const full = DAY_MS / step;
  const last = openTime[n - 1];
  for (let t = Math.max(dayStart(span.start), dayStart(openTime[0])); t <= last; t += DAY_MS) {
    const end = t + DAY_MS;
    if (end > span.end) break;
    if (t < span.start || !isClosedDay(t, interval, now)) continue;
    const lo = lowerBound(openTime, t);
    const hi = lo + full;
    if (hi <= n && closeTime[hi - 1] < now && onGrid(openTime, lo, hi, t, step)) {
      out.push({ day: utcDay(t), start: t, end, lo, hi });
    }
  }
  return out;
}

/** Whether `openTime[lo + k]` is `t + k * step` for every row of `[lo, hi)`. */
function onGrid(openTime: Float64Array, lo: number, hi: number, t: number, step: number): boolean {
  for (let i = lo; i < hi; i++, t += step) if (openTime[i] !== t) return false;
  return true;
}

function isListingDay(day: Klines, interval: Interval, end: number): boolean {
  const sources = day.sources;
  if (!sources || sources.some((s) => s !== CODE.vision)) return false;
  return findGaps(day.openTime, interval, { start: day.openTime[0], end }).length === 0;
}

/** Which sources a request may use, after validating the interval against them. */
export interface AllowedSources {
  /** The cache may be read (and written). */
  cache: boolean;
  /** The Vision archive may be asked. */
  vision: boolean;
  /** The REST API may be asked. */
  rest: boolean;
}

/**
 * Validates `interval` for the mode and says which sources serve it. `AUTO` and `CACHE`
 * need the interval offered by Vision or REST; `VISION` and `REST` by that source. Throws
 * {@linkcode UnsupportedIntervalError} otherwise.
 */
export function allowedSources(
  market: MarketType,
  interval: Interval,
  mode: DataSource,
  useCache: boolean,
): AllowedSources {
  if (mode === DataSource.VISION) {
    assertIntervalSupported(market, interval, "vision");
    return { cache: useCache, vision: true, rest: false };
  }
  if (mode === DataSource.REST) {
    assertIntervalSupported(market, interval, "rest");
    return { cache: useCache, vision: false, rest: true };
  }
  if (mode !== DataSource.AUTO && mode !== DataSource.CACHE) {
    throw new TypeError(
      `Unknown enforceSource ${JSON.stringify(mode)}; allowed: ${
        Object.values(DataSource).join(", ")
      }`,
    );
  }
  const caps = marketCapabilities(market);
  const vision = caps.visionMonthly.includes(interval) || caps.visionDaily.includes(interval);
  const rest = caps.rest.includes(interval);
  if (!vision && !rest) {
    const allowed = [...new Set([...caps.visionMonthly, ...caps.rest])];
    throw new UnsupportedIntervalError(interval, `${market} (Vision or REST)`, allowed);
  }
  if (mode === DataSource.CACHE) return { cache: useCache, vision: false, rest: false };
  return { cache: useCache, vision, rest };
}
