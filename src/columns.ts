/**
 * The column layout of kline data, free of dependencies so that parse workers can load it
 * without pulling in `apache-arrow` (measured: ~55 ms of each worker's start-up).
 *
 * @module
 */

/** The numeric columns of a kline table, in Binance's CSV order. */
export const KLINE_COLUMNS = [
  "openTime",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "closeTime",
  "quoteVolume",
  "trades",
  "takerBuyBaseVolume",
  "takerBuyQuoteVolume",
] as const;
/** A column name of {@linkcode KLINE_COLUMNS}. */
export type KlineColumn = typeof KLINE_COLUMNS[number];

/**
 * The columns: one `Float64Array` each (exact for epoch ms and trade counts). Times are
 * epoch ms, whatever unit the source used.
 */
export type KlineColumns = Record<KlineColumn, Float64Array>;

/**
 * Fresh zeroed columns of `n` rows, all views of one buffer (one allocation, transferable).
 *
 * @example
 * ```ts
 * import { allocateColumns } from "@vision-data/client";
 * allocateColumns(10).open.length; // 10
 * ```
 */
export function allocateColumns(n: number, buffer?: ArrayBuffer): KlineColumns {
  const buf = buffer ?? new ArrayBuffer(n * 8 * KLINE_COLUMNS.length);
  const out = {} as KlineColumns;
  KLINE_COLUMNS.forEach((name, i) => out[name] = new Float64Array(buf, i * n * 8, n));
  return out;
}
