/**
 * Arrow IPC file output (`.arrow`, Feather v2): the CSV's column names; `open_time` and
 * `close_time` as `Timestamp(ms, "UTC")`, `count` as `Int64`, the rest `Float64`.
 *
 * @module
 */
import { type Table, tableToIPC } from "apache-arrow";
import type { KlineColumns } from "../klines.ts";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { klineArrowTable } from "../_arrow_schema.ts";

/** Options for {@linkcode writeArrow}. */
export interface ArrowOptions {
  /** Aborting before the rename leaves no file behind. */
  signal?: AbortSignal;
}

/**
 * An Arrow table with the export schema (times are UTC instants in ms; prices zero-copy).
 *
 * @example
 * ```ts
 * import { allocateColumns } from "@vision-data/client/market";
 * import { klinesToArrowTable } from "@vision-data/client/export";
 * klinesToArrowTable(allocateColumns(0)).schema.fields.map((f) => f.name)[0]; // "open_time"
 * ```
 */
export function klinesToArrowTable(columns: KlineColumns): Table {
  return klineArrowTable([columns]);
}

/**
 * Writes klines as an Arrow IPC file to `path`, atomically (temp file + rename).
 *
 * @returns the bytes written
 * @example
 * ```ts ignore
 * import { writeArrow } from "@vision-data/client/export";
 * await writeArrow(klines, "btc.arrow");
 * ```
 */
export function writeArrow(
  columns: KlineColumns,
  path: string,
  options: ArrowOptions = {},
): Promise<number> {
  const bytes = tableToIPC(klinesToArrowTable(columns), "file");
  return writeFileAtomic(path, (file) => writeAll(file, bytes), {
    signal: options.signal,
    hidden: true,
  });
}
