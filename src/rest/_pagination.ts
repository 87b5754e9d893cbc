/**
 * Page planning for REST klines: every page's window is computed up front from the
 * interval, so pages can run in parallel and never overlap.
 *
 * @module
 */
import { type Interval, intervalMs, marketCapabilities, type MarketType } from "../market.ts";
import { monthStart, type TimeRange } from "../time.ts";

/** One REST klines request: candles opening in `[start, end)`. */
export interface PageWindow {
  /** Position in the plan, from 0. */
  index: number;
  /** Inclusive start (sent as `startTime`). */
  start: number;
  /** Exclusive end (sent as `endTime = end − 1`). */
  end: number;
  /** The most candles that can open in the window (sent as `limit`). */
  limit: number;
  /** The request weight of this page (`marketCapabilities(m).restWeight(limit)`). */
  weight: number;
}

/** Options for {@linkcode planPages}. */
export interface PlanPagesOptions {
  /** The market (page size, weight tiers, COIN-M span cap). */
  market: MarketType;
  /** The kline interval. */
  interval: Interval;
  /** Override the market's largest `limit` (tests, benches). */
  maxLimit?: number;
}

// 1M windows are counted in calendar months; a span cap must hold for the longest month.
const LONGEST_MONTH_MS = 31 * 86_400_000;

/**
 * Splits `[start, end)` into non-overlapping page windows, each holding at most the
 * market's `limit` candles and — on COIN-M — never spanning more than 200 days.
 * Fixed intervals use windows of `limit · interval` from `range.start` (any half-open span
 * of that length holds at most `limit` candle opens, whatever the grid's alignment);
 * `1M` uses calendar months.
 *
 * Sending `endTime = end − 1` makes each window exact for COIN-M too, where Binance
 * returns "the most recent `limit` candles before endTime".
 *
 * @example
 * ```ts
 * import { planPages } from "./_pagination.ts";
 * const pages = planPages({ start: 0, end: 30 * 86_400_000 }, { market: "spot", interval: "1m" });
 * pages.length; // 44
 * ```
 */
export function planPages(range: TimeRange, options: PlanPagesOptions): PageWindow[] {
  const caps = marketCapabilities(options.market);
  const maxLimit = Math.max(1, Math.floor(options.maxLimit ?? caps.restMaxLimit));
  const pages: PageWindow[] = [];
  const push = (start: number, end: number, limit: number) => {
    if (limit < 1) return; // no candle can open there (a 1M range inside one month)
    pages.push({ index: pages.length, start, end, limit, weight: caps.restWeight(limit) });
  };
  if (range.end <= range.start) return pages;
  if (options.interval === "1M") {
    let perPage = maxLimit;
    if (Number.isFinite(caps.restMaxSpanMs)) {
      perPage = Math.max(1, Math.min(perPage, Math.floor(caps.restMaxSpanMs / LONGEST_MONTH_MS)));
    }
    let start = range.start;
    for (let k = 1; start < range.end; k++) {
      const end = Math.min(monthStart(range.start, k * perPage), range.end);
      push(start, end, countMonthStarts(start, end));
      start = end;
    }
    return pages;
  }
  const iv = intervalMs(options.interval);
  let perPage = maxLimit;
  if (Number.isFinite(caps.restMaxSpanMs)) {
    perPage = Math.max(1, Math.min(perPage, Math.floor(caps.restMaxSpanMs / iv)));
  }
  const span = perPage * iv;
  for (let start = range.start; start < range.end; start += span) {
    const end = Math.min(start + span, range.end);
    push(start, end, Math.ceil((end - start) / iv));
  }
  return pages;
}

/** How many UTC month starts lie in `[start, end)`. */
function countMonthStarts(start: number, end: number): number {
  let n = 0;
  for (let t = monthStart(start) < start ? monthStart(start, 1) : start; t < end;) {
    n++;
    t = monthStart(t, 1);
  }
  return n;
}
