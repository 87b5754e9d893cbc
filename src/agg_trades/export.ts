/**
 * Streams aggregate-trade chunks to CSV, Arrow IPC (stream format: one record batch per
 * chunk) or Parquet (one row group per chunk), written to a temp file and renamed when the
 * stream ends — memory holds one chunk, not the whole range; an error or abort leaves no file.
 *
 * @module
 */
import {
  Bool,
  Float64,
  Int64,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  TimestampMillisecond,
} from "apache-arrow";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { toInt64 } from "../_float64.ts";
import { type ExportFormat, exportFormatOf, formatNumber } from "../export/mod.ts";
import type { AggTradeColumns } from "./columns.ts";

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
  let rows = 0;
  const bytes = await writeFileAtomic(path, async (file) => {
    const sink = format === "csv"
      ? csvSink(file)
      : format === "arrow"
      ? arrowSink(file)
      : parquetSink(file);
    for await (const c of chunks) {
      signal?.throwIfAborted();
      rows += c.aggTradeId.length;
      await sink.write(c);
    }
    await sink.finish();
  }, { signal, hidden: true });
  return { rows, bytes };
}

interface Sink {
  write(c: AggTradeColumns): Promise<void>;
  finish(): Promise<void>;
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
  };
}

function arrowTable(c: AggTradeColumns): Table {
  const int = (a: Float64Array) => makeVector(makeData({ type: new Int64(), data: toInt64(a) }));
  const dbl = (a: Float64Array) => makeVector(makeData({ type: new Float64(), data: a }));
  // Arrow booleans are bit-packed.
  const bits = new Uint8Array((c.isBuyerMaker.length + 7) >> 3);
  c.isBuyerMaker.forEach((b, i) => {
    if (b) bits[i >> 3] |= 1 << (i & 7);
  });
  return new Table({
    agg_trade_id: int(c.aggTradeId),
    price: dbl(c.price),
    quantity: dbl(c.quantity),
    first_trade_id: int(c.firstTradeId),
    last_trade_id: int(c.lastTradeId),
    transact_time: makeVector(
      makeData({ type: new TimestampMillisecond("UTC"), data: toInt64(c.transactTime) }),
    ),
    is_buyer_maker: makeVector(
      makeData({ type: new Bool(), data: bits, length: c.isBuyerMaker.length }),
    ),
  });
}

/**
 * Arrow IPC stream: each chunk's own stream minus its end marker, and after the first chunk
 * minus its schema message too (the same schema), then one end marker.
 */
function arrowSink(file: Deno.FsFile): Sink {
  let first = true;
  const EOS = 8; // continuation 0xFFFFFFFF + length 0
  return {
    async write(c) {
      const ipc = tableToIPC(arrowTable(c), "stream");
      const view = new DataView(ipc.buffer, ipc.byteOffset, ipc.byteLength);
      const schemaEnd = 8 + view.getInt32(4, true);
      await writeAll(file, ipc.subarray(first ? 0 : schemaEnd, ipc.length - EOS));
      first = false;
    },
    async finish() {
      if (first) await writeAll(file, tableToIPC(arrowTable(emptyColumns()), "stream"));
      else await writeAll(file, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]));
    },
  };
}

function emptyColumns(): AggTradeColumns {
  const z = new Float64Array(0);
  return {
    aggTradeId: z,
    price: z,
    quantity: z,
    firstTradeId: z,
    lastTradeId: z,
    transactTime: z,
    isBuyerMaker: new Uint8Array(0),
  };
}

/** A ByteWriter drained to the file after each row group. */
class DrainingWriter extends ByteWriter {
  readonly #file: Deno.FsFile;
  constructor(file: Deno.FsFile) {
    super(1 << 20);
    this.#file = file;
  }
  async flush(): Promise<void> {
    await writeAll(this.#file, new Uint8Array(this.buffer, 0, this.index));
    this.index = 0;
  }
  override finish(): Promise<void> {
    return this.flush();
  }
}

function parquetSink(file: Deno.FsFile): Sink {
  const writer = new DrainingWriter(file);
  const int64 = { type: "INT64", repetition_type: "REQUIRED" } as const;
  const double = { type: "DOUBLE", repetition_type: "REQUIRED" } as const;
  const pq = new ParquetWriter({
    writer,
    createdBy: "vision-data",
    schema: [
      { name: "root", num_children: AGG_TRADES_EXPORT_COLUMNS.length },
      { name: "agg_trade_id", ...int64 },
      { name: "price", ...double },
      { name: "quantity", ...double },
      { name: "first_trade_id", ...int64 },
      { name: "last_trade_id", ...int64 },
      {
        name: "transact_time",
        ...int64,
        converted_type: "TIMESTAMP_MILLIS",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
      },
      { name: "is_buyer_maker", type: "BOOLEAN", repetition_type: "REQUIRED" },
    ],
  });
  return {
    async write(c) {
      const n = c.aggTradeId.length;
      if (n === 0) return;
      await pq.write({
        columnData: [
          // Ids and times are (nearly) all distinct: no dictionary attempt for them.
          { name: "agg_trade_id", data: toInt64(c.aggTradeId), encoding: "PLAIN" },
          { name: "price", data: c.price },
          { name: "quantity", data: c.quantity },
          { name: "first_trade_id", data: toInt64(c.firstTradeId), encoding: "PLAIN" },
          { name: "last_trade_id", data: toInt64(c.lastTradeId), encoding: "PLAIN" },
          { name: "transact_time", data: c.transactTime, encoding: "PLAIN" },
          { name: "is_buyer_maker", data: Array.from(c.isBuyerMaker, (b) => b === 1) },
        ],
        rowGroupSize: n,
      });
    },
    async finish() {
      await pq.finish();
    },
  };
}
