/**
 * The exported column layout shared by every output writer: Binance's CSV column names,
 * in Binance's order, and how each column is typed in the binary formats.
 *
 * @module
 */
import type { KlineColumn, KlineColumns } from "../klines.ts";

/** How a column is stored: epoch-ms timestamp, integer count, or float64. */
export type ExportKind = "time" | "int" | "float";

/** One exported column. */
export interface ExportColumn {
  /** Column name in the file (Binance's CSV header name). */
  readonly name: string;
  /** The {@linkcode KlineColumns} field it comes from. */
  readonly field: KlineColumn;
  /** Storage kind in Arrow/Parquet. */
  readonly kind: ExportKind;
}

/** The columns every writer emits, in order. */
export const EXPORT_COLUMNS: readonly ExportColumn[] = [
  { name: "open_time", field: "openTime", kind: "time" },
  { name: "open", field: "open", kind: "float" },
  { name: "high", field: "high", kind: "float" },
  { name: "low", field: "low", kind: "float" },
  { name: "close", field: "close", kind: "float" },
  { name: "volume", field: "volume", kind: "float" },
  { name: "close_time", field: "closeTime", kind: "time" },
  { name: "quote_volume", field: "quoteVolume", kind: "float" },
  { name: "count", field: "trades", kind: "int" },
  { name: "taker_buy_volume", field: "takerBuyBaseVolume", kind: "float" },
  { name: "taker_buy_quote_volume", field: "takerBuyQuoteVolume", kind: "float" },
];

/** Row count of a column set (the open-time column's length). */
export function rowCount(columns: KlineColumns): number {
  return columns.openTime.length;
}

/** Integral float64 values as int64 (epoch ms and trade counts are exact integers). */
export function toBigInt64(values: Float64Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
  return out;
}
