/**
 * The one rule for what a kline row may hold, applied to every source's rows before they
 * are returned or cached (archive parts, REST pages, cache writes, `cache verify`): one
 * cheap pass over the columns, outside the parsers' hot loops.
 *
 * @module
 */
import type { KlineColumns } from "./columns.ts";
import { CorruptRowError } from "./limit_errors.ts";
import { firstOpenAtOrAfter, type Interval } from "./market.ts";

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

/**
 * Throws {@linkcode CorruptRowError} for the first row that cannot be a kline of
 * `interval`: a non-finite value, a negative price, volume or trade count, `high < low`,
 * or an open time that is fractional or off the interval's UTC grid (see
 * `firstOpenAtOrAfter`). `where` names the file or page; rows are reported 1-based, plus
 * `rowOffset` (e.g. 1 for a CSV header line).
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
): void {
  const n = columns.openTime.length;
  const { openTime, closeTime, high, low } = columns;
  const fail = (i: number, field: string, reason: string): never => {
    throw new CorruptRowError(where, i + 1 + rowOffset, field, reason);
  };
  for (const name of NON_NEGATIVE) {
    const col = columns[name];
    for (let i = 0; i < n; i++) {
      const v = col[i];
      // `!(v >= 0)` is true for NaN and negatives; Infinity is caught by the second test.
      if (!(v >= 0) || v === Infinity) {
        fail(i, name, `${v} is not a finite number >= 0`);
      }
    }
  }
  for (let i = 0; i < n; i++) {
    if (high[i] < low[i]) fail(i, "high", `high ${high[i]} is below low ${low[i]}`);
    const t = openTime[i];
    if (!Number.isSafeInteger(t) || Math.abs(t) > 8.64e15) {
      fail(i, "openTime", `${t} is not an integer epoch ms in the Date range`);
    }
    if (!Number.isSafeInteger(closeTime[i])) {
      fail(i, "closeTime", `${closeTime[i]} is not an integer epoch ms`);
    }
    if (firstOpenAtOrAfter(interval, t) !== t) {
      fail(
        i,
        "openTime",
        `${t} (${new Date(t).toISOString()}) is not on the ${interval} candle grid`,
      );
    }
  }
}
