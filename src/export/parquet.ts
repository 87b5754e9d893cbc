/**
 * Parquet output: the CSV's column names, all REQUIRED; `open_time`/`close_time` as INT64
 * TIMESTAMP(MILLIS, UTC-adjusted), `count` as INT64, the rest DOUBLE; Snappy pages, column
 * statistics, one row group per 100 000 rows, each written out as soon as it is encoded (the
 * writer is arrow-rs in WASM, see `_parquet_wasm.ts`; the same one streams chunks).
 *
 * @module
 */
import { KLINE_COLUMNS, type KlineColumns } from "../klines.ts";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { parquetWasmWriter } from "./_parquet_wasm.ts";

/** Options for {@linkcode writeParquet}. */
export interface ParquetOptions {
  /** Rows per row group. @default {100000} */
  rowGroupSize?: number;
  /** Aborting stops the write between row groups; no file is left behind. */
  signal?: AbortSignal;
}

/**
 * Writes klines as Parquet to `path`, atomically (temp file + rename).
 *
 * @returns the bytes written
 * @example
 * ```ts ignore
 * import { writeParquet } from "@vision-data/client/export";
 * await writeParquet(klines, "btc.parquet");
 * ```
 */
export function writeParquet(
  columns: KlineColumns,
  path: string,
  options: ParquetOptions = {},
): Promise<number> {
  const { signal } = options;
  const size = Math.max(1, Math.floor(options.rowGroupSize ?? 100_000));
  return writeFileAtomic(path, async (file) => {
    const writer = parquetWasmWriter((bytes) => {
      signal?.throwIfAborted();
      return writeAll(file, bytes);
    }, size);
    try {
      // One batch per row group, so an abort is seen between row groups.
      const n = columns.openTime.length;
      for (let at = 0; at < n; at += size) {
        const part = {} as KlineColumns;
        for (const name of KLINE_COLUMNS) part[name] = columns[name].subarray(at, at + size);
        await writer.write(part);
        signal?.throwIfAborted();
      }
      await writer.finish();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }, { signal, hidden: true });
}
