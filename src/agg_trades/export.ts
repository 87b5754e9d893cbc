/**
 * Streams aggregate-trade chunks to CSV, an Arrow IPC file (one record batch per chunk, like
 * the kline exports) or Parquet (row groups, the kline exports' parquet-wasm writer), written
 * to a temp file and renamed when the stream ends — memory holds one chunk and one row group,
 * not the whole range; an error or abort leaves no file.
 *
 * @module
 */
import {
  Bool,
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
} from "apache-arrow";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { toInt64 } from "../_float64.ts";
import { type ExportFormat, exportFormatOf, formatNumber } from "../export/mod.ts";
import { recordBatchParquetWriter } from "../export/_parquet_wasm.ts";
import { recordBatchArrowWriter } from "../export/_arrow_file.ts";
import { type AggTradeColumns, allocateAggTradeColumns, sliceAggTrades } from "./columns.ts";

/**
 * The exported column names, in order.
 *
 * @example
 * ```ts
 * import { AGG_TRADES_EXPORT_COLUMNS } from "@vision-data/client/agg-trades";
 * AGG_TRADES_EXPORT_COLUMNS.length; // 7
 * ```
 */
export const AGG_TRADES_EXPORT_COLUMNS = [
  "agg_trade_id",
  "price",
  "quantity",
  "first_trade_id",
  "last_trade_id",
  "transact_time",
  "is_buyer_maker",
] as const;

/** Options of {@linkcode writeAggTrades}. */
export interface WriteAggTradesOptions {
  /** The format; by default from the extension (`.csv`, `.arrow`, `.parquet`). */
  format?: ExportFormat;
  /** Aborting stops between chunks; no file is left behind. */
  signal?: AbortSignal;
  /** Parquet rows per row group (also the most rows handed to an encoder at once). @default {100000} */
  rowGroupSize?: number;
}

/**
 * Writes every chunk of `chunks` to `path`, atomically.
 *
 * @returns rows and bytes written
 * @example
 * ```ts ignore
 * import { VisionDataClient, writeAggTrades } from "@vision-data/client/agg-trades";
 * await using vision = new VisionDataClient({ marketType: "spot" });
 * const stream = vision.streamAggTrades({ symbol: "BTCUSDT", start: "2024-01-01", end: "2024-01-02" });
 * await writeAggTrades(stream, "btc-aggtrades.parquet");
 * ```
 */
export async function writeAggTrades(
  chunks: AsyncIterable<AggTradeColumns>,
  path: string,
  options: WriteAggTradesOptions = {},
): Promise<{ rows: number; bytes: number }> {
  const format = options.format ?? exportFormatOf(path);
  if (format === undefined) throw new TypeError(`No export format for ${JSON.stringify(path)}`);
  const { signal } = options;
  const rowGroupSize = Math.max(1, Math.floor(options.rowGroupSize ?? 100_000));
  let rows = 0;
  const bytes = await writeFileAtomic(path, async (file) => {
    const sink = sinkOf(format, file, rowGroupSize);
    try {
      for await (const c of chunks) {
        signal?.throwIfAborted();
        rows += c.aggTradeId.length;
        await sink.write(c);
      }
      await sink.finish();
    } catch (err) {
      await sink.abort();
      throw err;
    }
  }, { signal, hidden: true });
  return { rows, bytes };
}

interface Sink {
  write(c: AggTradeColumns): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

const encoder = new TextEncoder();

function csvSink(file: Deno.FsFile): Sink {
  let started = false;
  return {
    async write(c) {
      let s = started ? "" : AGG_TRADES_EXPORT_COLUMNS.join(",") + "\n";
      started = true;
      for (let i = 0; i < c.aggTradeId.length; i++) {
        s += `${c.aggTradeId[i]},${formatNumber(c.price[i])},${formatNumber(c.quantity[i])},` +
          `${c.firstTradeId[i]},${c.lastTradeId[i]},${c.transactTime[i]},` +
          `${c.isBuyerMaker[i] ? "true" : "false"}\n`;
        if (s.length > 1 << 20) {
          await writeAll(file, encoder.encode(s));
          s = "";
        }
      }
      await writeAll(file, encoder.encode(s));
    },
    async finish() {
      if (!started) {
        await writeAll(file, encoder.encode(AGG_TRADES_EXPORT_COLUMNS.join(",") + "\n"));
      }
    },
    abort: () => Promise.resolve(),
  };
}

/** The export schema: ids `Int64`, prices `Float64`, the time `Timestamp(ms, "UTC")`. */
function aggTradesArrowSchema(): Schema {
  const int = new Int64();
  const dbl = new Float64();
  const types = [int, dbl, dbl, int, int, new TimestampMillisecond("UTC"), new Bool()];
  return new Schema(AGG_TRADES_EXPORT_COLUMNS.map((name, i) => new Field(name, types[i], false)));
}

/** One record batch of `c` (prices zero-copy; ids and times converted to int64). */
function aggTradesRecordBatch(schema: Schema, c: AggTradeColumns): RecordBatch {
  const rows = c.aggTradeId.length;
  // Arrow booleans are bit-packed.
  const bits = new Uint8Array((rows + 7) >> 3);
  for (let i = 0; i < rows; i++) if (c.isBuyerMaker[i]) bits[i >> 3] |= 1 << (i & 7);
  const values = [
    toInt64(c.aggTradeId),
    c.price,
    c.quantity,
    toInt64(c.firstTradeId),
    toInt64(c.lastTradeId),
    toInt64(c.transactTime),
    bits,
  ];
  const children = schema.fields.map((f, i) =>
    makeData({ type: f.type, length: rows, nullCount: 0, data: values[i] } as never)
  );
  const data = makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

function emptyColumns(): AggTradeColumns {
  return allocateAggTradeColumns(0);
}

/**
 * The chunk writer of `format`: CSV rows, an Arrow IPC file (one record batch per chunk) or
 * Parquet (the klines' parquet-wasm writer, row groups of `rowGroupSize` rows written out as
 * they are encoded). Chunks are fed in slices of at most `rowGroupSize` rows, so the
 * encoder's memory is bounded by a row group whatever the chunk size.
 */
function sinkOf(format: ExportFormat, file: Deno.FsFile, rowGroupSize: number): Sink {
  if (format === "csv") return csvSink(file);
  const schema = aggTradesArrowSchema();
  const toBatch = (c: AggTradeColumns) => aggTradesRecordBatch(schema, c);
  const out = (bytes: Uint8Array) => writeAll(file, bytes);
  const writer = format === "arrow"
    ? recordBatchArrowWriter(out, toBatch, emptyColumns)
    : recordBatchParquetWriter(out, rowGroupSize, toBatch, emptyColumns);
  return {
    async write(c) {
      const n = c.aggTradeId.length;
      for (let at = 0; at < n; at += rowGroupSize) {
        await writer.write(sliceAggTrades(c, at, Math.min(n, at + rowGroupSize)));
      }
    },
    finish: () => writer.finish(),
    abort: () => writer.abort(),
  };
}
