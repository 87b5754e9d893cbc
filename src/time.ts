/**
 * UTC time ranges and archive planning: which monthly and daily files cover a range.
 *
 * @module
 */
import { InvalidRangeError } from "./errors.ts";
import { type Interval, isMonthlyOnly } from "./market.ts";

/** A point in time: a `Date`, epoch milliseconds, or an ISO-8601 string (UTC if no zone). */
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

/**
 * Converts a {@linkcode TimeInput} to epoch ms; strings without a zone are read as UTC.
 * Throws {@linkcode InvalidRangeError} naming the bad value.
 *
 * @example
 * ```ts
 * import { toEpochMs } from "@vision-data/client/market";
 * toEpochMs("2024-01-01"); // 1704067200000
 * ```
 */
export function toEpochMs(value: TimeInput, name = "time"): number {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === "number") ms = value;
  else if (typeof value === "string") {
    const s = value.trim();
    ms = /^\d{4}-\d\d-\d\dT/.test(s) && !HAS_ZONE.test(s) ? Date.parse(s + "Z") : Date.parse(s);
  } else ms = NaN;
  if (!Number.isFinite(ms) || !Number.isInteger(ms)) {
    throw new InvalidRangeError(
      `Invalid ${name} ${
        JSON.stringify(String(value))
      }: expected a Date, integer epoch ms or ISO-8601 string`,
    );
  }
  return ms;
}

/** Options for {@linkcode resolveRange}. */
export interface ResolveRangeOptions {
  /** "Now", for clamping; defaults to `Date.now()`. */
  now?: number;
}

/**
 * Validates a user range: both bounds parse, start < end, start not in the future. An end
 * past "now" is clamped to now (nothing exists there yet).
 *
 * @example
 * ```ts
 * import { resolveRange } from "@vision-data/client/market";
 * resolveRange({ start: "2024-01-01", end: "2024-01-02" });
 * ```
 */
export function resolveRange(
  range: { start: TimeInput; end: TimeInput },
  options: ResolveRangeOptions = {},
): TimeRange {
  const start = toEpochMs(range.start, "start");
  const end = toEpochMs(range.end, "end");
  const now = options.now ?? Date.now();
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
