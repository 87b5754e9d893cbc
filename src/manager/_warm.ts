/**
 * A call's result straight from its cached days: one chunk per day, no per-chunk planning,
 * no merge.
 *
 * @module
 */
import {
  findGaps,
  KLINE_COLUMNS,
  type KlineColumns,
  Klines,
  type KlinesMeta,
  mergeRanges,
} from "../klines.ts";
import { intervalMs } from "../market.ts";
import { DAY_MS, type TimeRange } from "../time.ts";
import { lowerBound } from "../_float64.ts";
import { type CacheDay, CODE } from "./_plan.ts";

/**
 * The rows of `range` from cached days that cover it, in day order, as views of the day
 * files (sources: the cache). A cache file is validated when written and checksummed when
 * read: its open times are on the interval's grid, strictly increasing and inside its day,
 * so a day holding all its candles has no gap and needs no scan; only a partial day (a
 * listing day) or a day cut by the range is scanned for gaps.
 */
export function klinesOfCachedDays(
  meta: KlinesMeta,
  range: TimeRange,
  days: readonly { day: CacheDay; columns: KlineColumns }[],
): Klines {
  const full = DAY_MS / intervalMs(meta.interval);
  const parts: KlineColumns[] = [];
  const gaps: TimeRange[] = [];
  let total = 0;
  for (const { day, columns } of days) {
    const span = { start: Math.max(day.start, range.start), end: Math.min(day.end, range.end) };
    if (span.start >= span.end) continue;
    let c = columns;
    if (span.start !== day.start || span.end !== day.end) {
      const lo = lowerBound(c.openTime, span.start);
      const hi = Math.max(lo, lowerBound(c.openTime, span.end));
      c = {} as KlineColumns;
      for (const name of KLINE_COLUMNS) c[name] = columns[name].subarray(lo, hi);
    } else if (c.openTime.length === full) {
      parts.push(c);
      total += c.openTime.length;
      continue;
    }
    gaps.push(...findGaps(c.openTime, meta.interval, span));
    if (c.openTime.length > 0) parts.push(c);
    total += c.openTime.length;
  }
  // One sources array for the whole result, viewed per chunk.
  const sources = new Uint8Array(total).fill(CODE.cache);
  let at = 0;
  const chunks = parts.map((columns) => {
    const n = columns.openTime.length;
    return { columns, sources: sources.subarray(at, at += n) };
  });
  return new Klines({ ...meta, chunks, gaps: mergeRanges(gaps) });
}
