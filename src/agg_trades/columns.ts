/**
 * Aggregate trades as columns.
 *
 * @module
 */

/**
 * Columns of aggregate trades: ids and times as `Float64Array` (exact below 2^53), the
 * buyer-maker flag as `Uint8Array` (1 = the buyer was the maker).
 *
 * @example
 * ```ts
 * import { allocateAggTradeColumns } from "@vision-data/client/agg-trades";
 * allocateAggTradeColumns(2).price.length; // 2
 * ```
 */
export interface AggTradeColumns {
  /** Aggregate trade id. */
  aggTradeId: Float64Array;
  /** Price. */
  price: Float64Array;
  /** Quantity. */
  quantity: Float64Array;
  /** First trade id. */
  firstTradeId: Float64Array;
  /** Last trade id. */
  lastTradeId: Float64Array;
  /** Transaction time, epoch ms (spot's µs files from 2025 are normalised). */
  transactTime: Float64Array;
  /** 1 when the buyer was the maker. */
  isBuyerMaker: Uint8Array;
}

/**
 * The numeric columns, in CSV order.
 *
 * @example
 * ```ts
 * import { AGG_TRADE_NUMERIC } from "@vision-data/client/agg-trades";
 * AGG_TRADE_NUMERIC[5]; // "transactTime"
 * ```
 */
export const AGG_TRADE_NUMERIC = [
  "aggTradeId",
  "price",
  "quantity",
  "firstTradeId",
  "lastTradeId",
  "transactTime",
] as const;

/**
 * Columns for `n` rows: the numeric ones views of one buffer.
 *
 * @example
 * ```ts
 * import { allocateAggTradeColumns } from "@vision-data/client/agg-trades";
 * allocateAggTradeColumns(0).aggTradeId.length; // 0
 * ```
 */
export function allocateAggTradeColumns(n: number, buffer?: ArrayBuffer): AggTradeColumns {
  const all = buffer ? new Float64Array(buffer, 0, n * 6) : new Float64Array(n * 6);
  const col = (k: number) => all.subarray(k * n, (k + 1) * n);
  return {
    aggTradeId: col(0),
    price: col(1),
    quantity: col(2),
    firstTradeId: col(3),
    lastTradeId: col(4),
    transactTime: col(5),
    isBuyerMaker: new Uint8Array(n),
  };
}

/**
 * Rows `[a, b)` of `c` (views).
 *
 * @example
 * ```ts
 * import { allocateAggTradeColumns, sliceAggTrades } from "@vision-data/client/agg-trades";
 * sliceAggTrades(allocateAggTradeColumns(3), 1, 2).price.length; // 1
 * ```
 */
export function sliceAggTrades(c: AggTradeColumns, a: number, b: number): AggTradeColumns {
  return {
    aggTradeId: c.aggTradeId.subarray(a, b),
    price: c.price.subarray(a, b),
    quantity: c.quantity.subarray(a, b),
    firstTradeId: c.firstTradeId.subarray(a, b),
    lastTradeId: c.lastTradeId.subarray(a, b),
    transactTime: c.transactTime.subarray(a, b),
    isBuyerMaker: c.isBuyerMaker.subarray(a, b),
  };
}

/**
 * Parts concatenated into fresh columns.
 *
 * @example
 * ```ts
 * import { allocateAggTradeColumns, concatAggTrades } from "@vision-data/client/agg-trades";
 * concatAggTrades([allocateAggTradeColumns(1), allocateAggTradeColumns(2)]).price.length; // 3
 * ```
 */
export function concatAggTrades(parts: readonly AggTradeColumns[]): AggTradeColumns {
  const n = parts.reduce((s, p) => s + p.aggTradeId.length, 0);
  const out = allocateAggTradeColumns(n);
  let at = 0;
  for (const p of parts) {
    for (const k of AGG_TRADE_NUMERIC) out[k].set(p[k], at);
    out.isBuyerMaker.set(p.isBuyerMaker, at);
    at += p.aggTradeId.length;
  }
  return out;
}
