/**
 * Parquet output via `hyparquet-writer`: the CSV's column names, all REQUIRED;
 * `open_time`/`close_time` as INT64 TIMESTAMP(MILLIS, UTC-adjusted), `count` as INT64,
 * the rest DOUBLE; Snappy pages, column statistics, one row group per 100 000 rows,
 * each flushed to disk as soon as it is encoded.
 *
 * @module
 */
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import type { KlineColumns } from "../klines.ts";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { toInt64 } from "../_float64.ts";
import { EXPORT_COLUMNS } from "../columns.ts";

/** Options for {@linkcode writeParquet}. */
export interface ParquetOptions {
  /** Rows per row group. @default {100000} */
  rowGroupSize?: number;
  /** Aborting stops the write between row groups; no file is left behind. */
  signal?: AbortSignal;
}

type SchemaElement = NonNullable<Parameters<typeof parquetWrite>[0]["schema"]>[number];

/** The Parquet schema of the export columns (root first). */
export function exportSchema(): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: "root", num_children: EXPORT_COLUMNS.length }];
  for (const col of EXPORT_COLUMNS) {
    if (col.kind === "float") {
      schema.push({ name: col.name, type: "DOUBLE", repetition_type: "REQUIRED" });
    } else if (col.kind === "int") {
      schema.push({ name: col.name, type: "INT64", repetition_type: "REQUIRED" });
    } else {
      // The legacy converted type means "UTC-adjusted millis" too, so old and new readers agree.
      schema.push({
        name: col.name,
        type: "INT64",
        repetition_type: "REQUIRED",
        converted_type: "TIMESTAMP_MILLIS",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
      });
    }
  }
  return schema;
}

/** A ByteWriter whose buffer is drained to a file (or any byte sink) after every row group. */
export class FileFlushWriter extends ByteWriter {
  #sink: (bytes: Uint8Array) => Promise<unknown>;
  #signal?: AbortSignal;
  constructor(file: Deno.FsFile | ((bytes: Uint8Array) => Promise<unknown>), signal?: AbortSignal) {
    super(1 << 20);
    this.#sink = typeof file === "function" ? file : (bytes) => writeAll(file, bytes);
    this.#signal = signal;
  }
  async flush(): Promise<void> {
    this.#signal?.throwIfAborted();
    await this.#sink(new Uint8Array(this.buffer, 0, this.index));
    this.index = 0;
  }
  override finish(): Promise<void> {
    return this.flush();
  }
}

/**
 * Writes klines as Parquet to `path`, atomically (temp file + rename).
 *
 * @returns the bytes written
 * @example
 * ```ts ignore
 * import { writeParquet } from "@vision-data/client";
 * await writeParquet(klines, "btc.parquet");
 * ```
 */
export function writeParquet(
  columns: KlineColumns,
  path: string,
  options: ParquetOptions = {},
): Promise<number> {
  const { signal, rowGroupSize = 100_000 } = options;
  return writeFileAtomic(path, async (file) => {
    const writer = new FileFlushWriter(file, signal);
    await parquetWrite({
      writer,
      schema: exportSchema(),
      columnData: EXPORT_COLUMNS.map((col) => ({
        name: col.name,
        // TIMESTAMP columns convert numbers themselves; a bare INT64 column wants bigints.
        data: col.kind === "int" ? toInt64(columns[col.field]) : columns[col.field],
      })),
      rowGroupSize,
      createdBy: "vision-data",
    });
  }, { signal, hidden: true });
}
