/**
 * Output writers for klines: CSV, Arrow IPC and Parquet, all with the same columns
 * (`open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,
 * taker_buy_quote_volume`), all written atomically (temp file + rename).
 *
 * @module
 */
export { CSV_HEADER, csvChunks, type CsvOptions, formatNumber, writeCsv } from "./csv.ts";
export { type ArrowOptions, klinesToArrowTable, writeArrow } from "./arrow.ts";
export { type ParquetOptions, writeParquet } from "./parquet.ts";
export {
  EXPORT_FORMATS,
  type ExportFormat,
  exportFormatOf,
  writeKlines,
  type WriteKlinesOptions,
} from "./write.ts";
export { EXPORT_COLUMNS, type ExportColumn, type ExportKind } from "../columns.ts";
export {
  type ByteSink,
  type KlineChunks,
  type StreamWriteOptions,
  writeChunks,
  writeKlinesStream,
} from "./stream.ts";
