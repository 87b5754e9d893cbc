/**
 * Streaming output: chunks of klines written to a file (or any byte sink) as they come —
 * CSV rows, one Arrow IPC record batch per chunk, Parquet row groups — so memory holds a
 * chunk or a row group, never the whole range.
 *
 * @module
 */
import { KLINE_COLUMNS, type KlineColumns, Klines } from "../klines.ts";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { klineArrowSchema, klineRecordBatch } from "../_arrow_schema.ts";
import { csvChunks } from "./csv.ts";
import { recordBatchArrowWriter } from "./_arrow_file.ts";
import { type ChunkWriter, parquetWasmWriter } from "./_parquet_wasm.ts";
import { type ExportFormat, exportFormatOf } from "./write.ts";

/**
 * Options for {@linkcode writeKlinesStream} and {@linkcode writeChunks}.
 *
 * @example
 * ```ts
 * import type { StreamWriteOptions } from "@vision-data/client/export";
 * const o: StreamWriteOptions = { format: "parquet", rowGroupSize: 250_000 };
 * ```
 */
export interface StreamWriteOptions {
  /** The format; by default taken from the file extension. */
  format?: ExportFormat;
  /** Parquet rows per row group (chunks are gathered up to it). @default {100000} */
  rowGroupSize?: number;
  /** Aborting stops the write between chunks; no file is left behind. */
  signal?: AbortSignal;
  /** Called after each chunk is written, with the rows so far. */
  onChunk?: (rows: number) => void;
}

/** Where bytes go, in order; the returned promise settles when they are taken. */
export type ByteSink = (bytes: Uint8Array) => Promise<unknown>;

/** Anything that yields klines in order: a `stream()`, or an iterable of `Klines`/columns. */
export type KlineChunks = AsyncIterable<Klines | KlineColumns> | Iterable<Klines | KlineColumns>;

/**
 * Writes chunks to `path` as they come, atomically (temp file + rename; an abort, error or
 * kill leaves no file under `path`).
 *
 * @returns bytes and rows written
 * @example
 * ```ts ignore
 * import { writeKlinesStream } from "@vision-data/client";
 * await writeKlinesStream(manager.stream({ symbol: "BTCUSDT", interval: "1m", start, end }), "btc.parquet");
 * ```
 */
export async function writeKlinesStream(
  chunks: KlineChunks,
  path: string,
  options: StreamWriteOptions = {},
): Promise<{ bytes: number; rows: number }> {
  const format = options.format ?? exportFormatOf(path);
  if (!format) {
    throw new TypeError(
      `Unknown output format for ${JSON.stringify(path)}: use a .csv, .arrow or .parquet file`,
    );
  }
  let rows = 0;
  const bytes = await writeFileAtomic(path, async (file) => {
    rows = await writeChunks(chunks, (b) => writeAll(file, b), { ...options, format });
  }, { signal: options.signal, hidden: true });
  return { bytes, rows };
}

/**
 * Writes chunks to a byte sink in `format` (CSV to stdout, a socket…), as they come.
 *
 * @returns rows written
 * @example
 * ```ts ignore
 * import { writeChunks } from "@vision-data/client";
 * await writeChunks([klines], (b) => Deno.stdout.write(b), { format: "csv" });
 * ```
 */
export async function writeChunks(
  chunks: KlineChunks,
  sink: ByteSink,
  options: StreamWriteOptions & { format: ExportFormat },
): Promise<number> {
  const { signal } = options;
  const writer = options.format === "csv"
    ? csvWriter(sink)
    : options.format === "arrow"
    ? arrowWriter(sink)
    : parquetWasmWriter(sink, options.rowGroupSize ?? 100_000);
  let rows = 0;
  try {
    for await (const chunk of chunks) {
      signal?.throwIfAborted();
      for (const columns of columnsOf(chunk)) {
        await writer.write(columns);
        rows += columns.openTime.length;
      }
      options.onChunk?.(rows);
    }
    signal?.throwIfAborted();
    await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return rows;
}

/** The column chunks of one item: a Klines' chunks (views), or the columns themselves. */
function columnsOf(item: Klines | KlineColumns): KlineColumns[] {
  return item instanceof Klines ? item.chunks.map((c) => c.columns) : [item];
}

const encoder = new TextEncoder();

function csvWriter(sink: ByteSink): ChunkWriter {
  let header = true;
  return {
    async write(columns) {
      for (const text of csvChunks(columns, { header })) await sink(encoder.encode(text));
      header = false;
    },
    async finish() {
      // No rows at all: the file still has its header, as the in-memory writer's has.
      if (header) await sink(encoder.encode([...csvChunks(emptyColumns())][0]));
    },
    abort: () => Promise.resolve(),
  };
}

/** Arrow IPC file, one record batch per chunk (see `_arrow_file.ts`). */
function arrowWriter(sink: ByteSink): ChunkWriter {
  const schema = klineArrowSchema();
  return recordBatchArrowWriter(
    sink,
    (c: KlineColumns) => klineRecordBatch(schema, c),
    emptyColumns,
  );
}

function emptyColumns(): KlineColumns {
  const out = {} as KlineColumns;
  for (const name of KLINE_COLUMNS) out[name] = new Float64Array(0);
  return out;
}
