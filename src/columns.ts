/**
 * The column layout of kline data, in memory (camelCase fields) and in files (Binance's
 * snake_case names and storage kinds), free of dependencies so that parse workers can load
 * it without pulling in `apache-arrow` (measured: ~55 ms of each worker's start-up).
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
 * import { allocateColumns } from "@vision-data/client/market";
 * allocateColumns(10).open.length; // 10
 * ```
 */
export function allocateColumns(n: number, buffer?: ArrayBuffer): KlineColumns {
  const buf = buffer ?? new ArrayBuffer(n * 8 * KLINE_COLUMNS.length);
  const out = {} as KlineColumns;
  KLINE_COLUMNS.forEach((name, i) => out[name] = new Float64Array(buf, i * n * 8, n));
  return out;
}

/**
 * How a column is typed in files: an epoch-ms timestamp (`Timestamp(ms, "UTC")` in Arrow,
 * `TIMESTAMP(MILLIS)` in Parquet), an integer count (`Int64`), or a `Float64`.
 *
 * @example
 * ```ts
 * import type { ExportKind } from "@vision-data/client/market";
 * const kind: ExportKind = "time";
 * ```
 */
export type ExportKind = "time" | "int" | "float";

/**
 * One column as files name and type it.
 *
 * @example
 * ```ts
 * import type { ExportColumn } from "@vision-data/client/market";
 * const col: ExportColumn = { name: "count", field: "trades", kind: "int" };
 * ```
 */
export interface ExportColumn {
  /** Column name in the file (Binance's CSV header name). */
  readonly name: string;
  /** The {@linkcode KlineColumns} field it comes from. */
  readonly field: KlineColumn;
  /** Storage kind in Arrow/Parquet. */
  readonly kind: ExportKind;
}

/**
 * The columns of every file this library writes — the CSV, Arrow and Parquet exports and
 * the cache's Arrow files — in Binance's CSV order, with Binance's CSV header names.
 *
 * @example
 * ```ts
 * import { EXPORT_COLUMNS } from "@vision-data/client/market";
 * EXPORT_COLUMNS.map((c) => c.name).join(","); // "open_time,open,…,taker_buy_quote_volume"
 * ```
 */
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
