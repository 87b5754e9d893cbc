/**
 * The one rule for what a kline row may hold, applied to every source's rows before they
 * are returned or cached (archive parts, REST pages, cache writes, `cache verify`): one
 * cheap pass over the columns, outside the parsers' hot loops.
 *
 * @module
 */
import type { KlineColumns } from "./columns.ts";
import { CorruptRowError } from "./limit_errors.ts";
import type { KlineKind } from "./kline_kind.ts";
import { firstOpenAtOrAfter, type Interval, intervalMs } from "./market.ts";

/** Fields that are prices or volumes: finite and never negative. */
const NON_NEGATIVE = [
  "open",
  "high",
  "low",
  "close",
  "volume",
  "quoteVolume",
  "trades",
  "takerBuyBaseVolume",
  "takerBuyQuoteVolume",
] as const;

const PRICES: ReadonlySet<string> = new Set(["open", "high", "low", "close"]);

/**
 * Throws {@linkcode CorruptRowError} for the first row that cannot be a kline of
 * `interval`: a non-finite value, a negative price, volume or trade count, `high < low`,
 * or an open time that is fractional or off the interval's UTC grid (see
 * `firstOpenAtOrAfter`). `where` names the file or page; rows are reported 1-based, plus
 * `rowOffset` (e.g. 1 for a CSV header line). Premium-index klines (`kind`) may be negative.
 *
 * @example
 * ```ts ignore
 * import { checkKlineRows } from "./_row_check.ts";
 * checkKlineRows(columns, "1m", "BTCUSDT-1m-2024-01-01.csv");
 * ```
 */
export function checkKlineRows(
  columns: KlineColumns,
  interval: Interval,
  where: string,
  rowOffset = 0,
  kind?: KlineKind,
): void {
  // A premium index is a price difference: negative values are real data, not corruption.
  const floor = kind === "premium" ? -Number.MAX_VALUE : 0;
  let from = 0;
  for (;;) {
    const i = firstSuspectRow(columns, interval, from, floor);
    if (i < 0) return;
    const reason = diagnose(columns, interval, i, floor);
    if (reason) throw new CorruptRowError(where, i + 1 + rowOffset, reason[0], reason[1]);
    from = i + 1;
  }
}

const MAX_DATE_MS = 8.64e15;

/**
 * The hot pass: the first row at or after `from` that may break the rule, or −1. Only
 * comparisons on local typed arrays (a year of 1m rows in a few ms); the message is built
 * by {@linkcode diagnose} for that one row.
 */
function firstSuspectRow(
  c: KlineColumns,
  interval: Interval,
  from: number,
  floor: number,
): number {
  const { openTime, closeTime, open, high, low, close, volume, quoteVolume, trades } = c;
  const { takerBuyBaseVolume: takerBase, takerBuyQuoteVolume: takerQuote } = c;
  const n = openTime.length;
  const grid = interval !== "1M" && interval !== "3d";
  const step = grid ? intervalMs(interval) : 0;
  // 1970-01-05 was the first Monday: weekly candles open on Mondays (as firstOpenAtOrAfter).
  const offset = interval === "1w" ? 4 * 86_400_000 : 0;
  for (let i = from; i < n; i++) {
    const lo = low[i];
    const hi = high[i];
    // `x >= 0 && x < Infinity` is false for NaN, negatives and Infinity alike.
    if (
      !(lo >= floor && hi >= lo && hi < Infinity && open[i] >= floor && open[i] < Infinity &&
        close[i] >= floor && close[i] < Infinity && volume[i] >= 0 && volume[i] < Infinity &&
        quoteVolume[i] >= 0 && quoteVolume[i] < Infinity && trades[i] >= 0 &&
        trades[i] < Infinity && takerBase[i] >= 0 && takerBase[i] < Infinity &&
        takerQuote[i] >= 0 && takerQuote[i] < Infinity)
    ) return i;
    const t = openTime[i];
    const ct = closeTime[i];
    if (!(t >= -MAX_DATE_MS && t <= MAX_DATE_MS && Math.floor(ct) === ct)) return i;
    if (grid ? (t - offset) % step !== 0 : firstOpenAtOrAfter(interval, t) !== t) return i;
  }
  return -1;
}

/** What is wrong with row `i` (field, reason naming the value), or `undefined`. */
function diagnose(
  c: KlineColumns,
  interval: Interval,
  i: number,
  floor: number,
): [string, string] | undefined {
  for (const name of NON_NEGATIVE) {
    const v = c[name][i];
    const min = PRICES.has(name) ? floor : 0;
    if (!(v >= min && v < Infinity)) {
      return [name, `${v} is not a finite number${min === 0 ? " >= 0" : ""}`];
    }
  }
  if (c.high[i] < c.low[i]) return ["high", `high ${c.high[i]} is below low ${c.low[i]}`];
  const t = c.openTime[i];
  if (!Number.isSafeInteger(t) || Math.abs(t) > MAX_DATE_MS) {
    return ["openTime", `${t} is not an integer epoch ms in the Date range`];
  }
  const ct = c.closeTime[i];
  if (!Number.isSafeInteger(ct)) return ["closeTime", `${ct} is not an integer epoch ms`];
  if (firstOpenAtOrAfter(interval, t) !== t) {
    return [
      "openTime",
      `${t} (${new Date(t).toISOString()}) is not on the ${interval} candle grid`,
    ];
  }
  return undefined;
}
