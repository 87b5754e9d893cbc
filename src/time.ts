/**
 * UTC time ranges and archive planning: which monthly and daily files cover a range.
 *
 * @module
 */
import { InvalidRangeError } from "./errors.ts";
import { InvalidTimeError } from "./limit_errors.ts";
import { MARKET_FIRST_DATA } from "./limits.ts";
import { type Interval, isMonthlyOnly, type MarketType } from "./market.ts";

/**
 * A point in time: a `Date`, epoch milliseconds, or a string — ISO-8601 (UTC if no zone),
 * epoch ms as digits, `now`, or a time relative to now: `-7d`, `now-12h`, `-30m`, `+1h`
 * (units `s`, `m`, `h`, `d`, `w`; grammar `[now](+|-)<integer><unit>`). See
 * {@linkcode toEpochMs} for what is rejected.
 */
export type TimeInput = Date | number | string;

/** Milliseconds in a UTC day. */
export const DAY_MS = 86_400_000;

/** A half-open `[start, end)` span in epoch ms. */
export interface TimeRange {
  /** Inclusive start, epoch ms. */
  start: number;
  /** Exclusive end, epoch ms. */
  end: number;
}

const HAS_ZONE = /(Z|[+-]\d\d:?\d\d)$/i;
const RELATIVE = /^(?:now)?\s*([+-])\s*(\d{1,12})\s*([smhdw])$/i;
const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: DAY_MS,
  w: 7 * DAY_MS,
};
/** The JS Date range: ±100,000,000 days around the epoch. */
const MAX_DATE_MS = 8.64e15;
/**
 * Epoch values in `[1e9, 1e11)` are read as ms from 1970-01-12 to 1973-03-03 — but as
 * *seconds* they are 2001–5138: a caller passing seconds. Rejected (no kline exists before
 * 2017 anyway), rather than silently served as 1970.
 */
const SECONDS_LIKE = [1e9, 1e11] as const;

/** Options for {@linkcode toEpochMs}. */
export interface ToEpochMsOptions {
  /** "Now" for `now` and relative times. @default {Date.now()} */
  now?: number;
}

/**
 * Converts a {@linkcode TimeInput} to epoch ms; strings without a zone are read as UTC.
 *
 * Rejected with {@linkcode InvalidTimeError} (an `InvalidRangeError`) naming the value:
 * unparseable text, impossible calendar dates (`2024-02-30`), values outside the JS Date
 * range (±8.64e15 ms), fractional ms, and numbers that look like epoch **seconds**
 * (`1e9` ≤ n < `1e11`: pass milliseconds).
 *
 * @example
 * ```ts
 * import { toEpochMs } from "@vision-data/client/market";
 * toEpochMs("2024-01-01"); // 1704067200000
 * toEpochMs("-1d", "start", { now: 1704067200000 }); // 1703980800000
 * ```
 */
export function toEpochMs(value: TimeInput, name = "time", options: ToEpochMsOptions = {}): number {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === "number") ms = value;
  else if (typeof value === "string") ms = parseTimeText(value, name, options.now);
  else ms = NaN;
  if (!Number.isFinite(ms) || !Number.isInteger(ms)) {
    throw new InvalidTimeError(
      name,
      value,
      "expected a Date, integer epoch ms, an ISO-8601 string, `now` or a relative time like -7d",
    );
  }
  if (Math.abs(ms) > MAX_DATE_MS) {
    throw new InvalidTimeError(name, value, `outside the JS Date range of ±${MAX_DATE_MS} ms`);
  }
  const epoch = typeof value === "number" ||
    (typeof value === "string" && /^\d+$/.test(value.trim()));
  if (epoch) {
    if (ms >= SECONDS_LIKE[0] && ms < SECONDS_LIKE[1]) {
      throw new InvalidTimeError(
        name,
        value,
        `looks like epoch seconds (${iso(ms * 1000)}); epoch values are milliseconds: pass ${
          ms * 1000
        }`,
      );
    }
  }
  return ms;
}

function parseTimeText(text: string, name: string, now?: number): number {
  const s = text.trim();
  if (/^now$/i.test(s)) return now ?? Date.now();
  const rel = RELATIVE.exec(s);
  if (rel) {
    const delta = Number(rel[2]) * UNIT_MS[rel[3].toLowerCase()];
    return (now ?? Date.now()) + (rel[1] === "-" ? -delta : delta);
  }
  if (/^\d+$/.test(s)) return s.length > 17 ? NaN : Number(s);
  const date = /^([+-]\d{6}|\d{4})-(\d\d)-(\d\d)(?=T|\s|$)/i.exec(s);
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const days = m >= 1 && m <= 12 ? new Date(Date.UTC(2000, m, 0)).getUTCDate() : 0;
    const leapFeb = m === 2 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0));
    if (days === 0 || d < 1 || d > (leapFeb ? 28 : days)) {
      throw new InvalidTimeError(
        name,
        text,
        `no such calendar date (month ${m} of ${y} has ${leapFeb ? 28 : days} days)`,
      );
    }
  }
  return /^\d{4}-\d\d-\d\dT/.test(s) && !HAS_ZONE.test(s) ? Date.parse(s + "Z") : Date.parse(s);
}

/** Options for {@linkcode resolveRange}. */
export interface ResolveRangeOptions {
  /** "Now", for clamping and relative times; defaults to `Date.now()`. */
  now?: number;
  /**
   * The market asked: a start before its first data ({@linkcode MARKET_FIRST_DATA}) is
   * clamped to it, so a far-past start costs nothing.
   */
  market?: MarketType;
}

/**
 * A range as callers give it: `start` and `end`, or `days` back from `end` (default now).
 *
 * @example
 * ```ts
 * import type { RangeInput } from "@vision-data/client/market";
 * const lastWeek: RangeInput = { days: 7 };
 * ```
 */
export interface RangeInput {
  /** Inclusive start; exclusive with `days`. */
  start?: TimeInput;
  /** Exclusive end. @default {"now"} */
  end?: TimeInput;
  /** Days back from `end` (whole or fractional, > 0); exclusive with `start`. */
  days?: number;
}

/** Longest `days` accepted: a century. */
const MAX_DAYS = 36_600;

/**
 * Validates a user range: both bounds parse, start < end, start not in the future. An end
 * past "now" is clamped to now (nothing exists there yet); with `market`, a start before
 * the market's first data is clamped to that day. `days` (back from `end`, default now)
 * replaces `start`; giving both is an `InvalidRangeError`.
 *
 * @example
 * ```ts
 * import { resolveRange } from "@vision-data/client/market";
 * resolveRange({ start: "2024-01-01", end: "2024-01-02" });
 * resolveRange({ days: 7 }, { market: "spot" }); // the last 7 days
 * ```
 */
export function resolveRange(range: RangeInput, options: ResolveRangeOptions = {}): TimeRange {
  const now = options.now ?? Date.now();
  const end = toEpochMs(range.end ?? now, "end", { now });
  let start: number;
  if (range.days !== undefined) {
    if (range.start !== undefined) {
      throw new InvalidRangeError(
        `days ${range.days} conflicts with start ${
          JSON.stringify(String(range.start))
        }: give start (and end) or days (back from end, default now), not both`,
      );
    }
    const days = range.days;
    if (typeof days !== "number" || !Number.isFinite(days) || days <= 0 || days > MAX_DAYS) {
      throw new InvalidRangeError(
        `Invalid days ${JSON.stringify(days)}: expected a number of days > 0 and <= ${MAX_DAYS}`,
      );
    }
    start = end - Math.round(days * DAY_MS);
  } else if (range.start === undefined) {
    throw new InvalidRangeError("Missing start: give start (and end), or days");
  } else {
    start = toEpochMs(range.start, "start", { now });
  }
  if (start >= end) {
    throw new InvalidRangeError(
      `start ${iso(start)} must be before end ${iso(end)} (the range is half-open [start, end))`,
    );
  }
  if (start >= now) {
    throw new InvalidRangeError(
      `start ${iso(start)} is in the future (now is ${iso(now)}); no klines exist there yet`,
    );
  }
  if (options.market !== undefined) {
    const first = MARKET_FIRST_DATA[options.market];
    if (end <= first) {
      throw new InvalidRangeError(
        `end ${iso(end)} is before the first ${options.market} klines (${
          iso(first)
        }): nothing exists in that range`,
      );
    }
    start = Math.max(start, first);
  }
  return { start, end: Math.min(end, now) };
}

/**
 * ISO-8601 text of epoch ms.
 *
 * @example
 * ```ts
 * import { iso } from "@vision-data/client/market";
 * iso(0); // "1970-01-01T00:00:00.000Z"
 * ```
 */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Start of the UTC day containing `ms`.
 *
 * @example
 * ```ts
 * import { dayStart } from "@vision-data/client/market";
 * dayStart(90_000_000); // 86400000
 * ```
 */
export function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/**
 * Start of the UTC month containing `ms`, shifted by `add` months.
 *
 * @example
 * ```ts
 * import { monthStart } from "@vision-data/client/market";
 * monthStart(Date.UTC(2024, 1, 10), 1) === Date.UTC(2024, 2, 1);
 * ```
 */
export function monthStart(ms: number, add = 0): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1);
}

/**
 * `YYYY-MM-DD` of the UTC day containing `ms`.
 *
 * @example
 * ```ts
 * import { utcDay } from "@vision-data/client/market";
 * utcDay(0); // "1970-01-01"
 * ```
 */
export function utcDay(ms: number): string {
  return iso(ms).slice(0, 10);
}

/**
 * `YYYY-MM` of the UTC month containing `ms`.
 *
 * @example
 * ```ts
 * import { utcMonth } from "@vision-data/client/market";
 * utcMonth(0); // "1970-01"
 * ```
 */
export function utcMonth(ms: number): string {
  return iso(ms).slice(0, 7);
}

/** One archive file a plan asks for. */
export interface ArchivePeriod {
  /** Daily or monthly file. */
  kind: "daily" | "monthly";
  /** `YYYY-MM-DD` or `YYYY-MM`, as in the file name. */
  label: string;
  /** The period's first ms (UTC). */
  start: number;
  /** The period's end, exclusive. */
  end: number;
}

/** Options for {@linkcode planArchives}. */
export interface PlanOptions {
  /** Use monthly files for whole months inside the range. @default {true} */
  preferMonthly?: boolean;
  /** Intervals with monthly files only (3d, 1w, 1M) are planned as months even when partial. */
  interval?: Interval;
}

/**
 * Splits `[start, end)` into archive periods: whole UTC months inside the range as monthly
 * files, the ragged edges as daily files, in time order. Pure: publication and listing
 * are the client's concern (a monthly 404 falls back to its days).
 *
 * @example
 * ```ts
 * import { planArchives } from "@vision-data/client/market";
 * planArchives({ start: Date.UTC(2024, 0, 30), end: Date.UTC(2024, 2, 2) }).map((p) => p.label);
 * // ["2024-01-30", "2024-01-31", "2024-02", "2024-03-01"]
 * ```
 */
export function planArchives(range: TimeRange, options: PlanOptions = {}): ArchivePeriod[] {
  const { preferMonthly = true, interval } = options;
  const out: ArchivePeriod[] = [];
  const monthlyOnly = interval !== undefined && isMonthlyOnly(interval);
  let t = monthlyOnly ? monthStart(range.start) : dayStart(range.start);
  while (t < range.end) {
    const mEnd = monthStart(t, 1);
    if (monthlyOnly || (preferMonthly && t === monthStart(t) && mEnd <= range.end)) {
      out.push({ kind: "monthly", label: utcMonth(t), start: t, end: mEnd });
      t = mEnd;
    } else {
      out.push({ kind: "daily", label: utcDay(t), start: t, end: t + DAY_MS });
      t += DAY_MS;
    }
  }
  return out;
}

/**
 * The daily periods covering a monthly period (used when a monthly file is absent).
 *
 * @example
 * ```ts
 * import { daysOf } from "@vision-data/client/market";
 * daysOf({ kind: "monthly", label: "2024-02", start: Date.UTC(2024, 1), end: Date.UTC(2024, 2) }).length; // 29
 * ```
 */
export function daysOf(period: ArchivePeriod): ArchivePeriod[] {
  const out: ArchivePeriod[] = [];
  for (let t = period.start; t < period.end; t += DAY_MS) {
    out.push({ kind: "daily", label: utcDay(t), start: t, end: t + DAY_MS });
  }
  return out;
}
