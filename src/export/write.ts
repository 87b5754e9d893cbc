/**
 * Picking the output format from a file name and writing klines in it.
 *
 * @module
 */
import type { KlineColumns } from "../klines.ts";
import { writeArrow } from "./arrow.ts";
import { writeCsv } from "./csv.ts";
import { writeParquet } from "./parquet.ts";

/**
 * The output formats, named by their file extension.
 *
 * @example
 * ```ts
 * import { EXPORT_FORMATS } from "@vision-data/client/export";
 * EXPORT_FORMATS.includes("parquet"); // true
 * ```
 */
export const EXPORT_FORMATS = ["csv", "arrow", "parquet"] as const;
/**
 * One of {@linkcode EXPORT_FORMATS}.
 *
 * @example
 * ```ts
 * import type { ExportFormat } from "@vision-data/client/export";
 * const format: ExportFormat = "arrow";
 * ```
 */
export type ExportFormat = typeof EXPORT_FORMATS[number];

/**
 * The format a file name asks for (`.csv`, `.arrow`/`.feather`/`.ipc`, `.parquet`/`.pq`),
 * or `undefined` when the extension is none of them.
 *
 * @example
 * ```ts
 * import { exportFormatOf } from "@vision-data/client/export";
 * exportFormatOf("btc.parquet"); // "parquet"
 * ```
 */
export function exportFormatOf(path: string): ExportFormat | undefined {
  const ext = path.slice(path.lastIndexOf(".") + 1).toLowerCase();
  if (ext === "csv") return "csv";
  if (ext === "arrow" || ext === "feather" || ext === "ipc") return "arrow";
  if (ext === "parquet" || ext === "pq") return "parquet";
  return undefined;
}

/**
 * Options for {@linkcode writeKlines}.
 *
 * @example
 * ```ts
 * import type { WriteKlinesOptions } from "@vision-data/client/export";
 * const options: WriteKlinesOptions = { format: "csv", signal: AbortSignal.timeout(60_000) };
 * ```
 */
export interface WriteKlinesOptions {
  /** The format; by default taken from the file extension. */
  format?: ExportFormat;
  /** Aborting stops the write; no file is left behind. */
  signal?: AbortSignal;
}

/**
 * Writes klines to `path` in the format its extension names, atomically.
 *
 * @returns the bytes written
 * @example
 * ```ts ignore
 * import { writeKlines } from "@vision-data/client/export";
 * await writeKlines(klines, "btc-2024.parquet");
 * ```
 */
export function writeKlines(
  columns: KlineColumns,
  path: string,
  options: WriteKlinesOptions = {},
): Promise<number> {
  const format = options.format ?? exportFormatOf(path);
  const { signal } = options;
  switch (format) {
    case "csv":
      return writeCsv(columns, path, { signal });
    case "arrow":
      return writeArrow(columns, path, { signal });
    case "parquet":
      return writeParquet(columns, path, { signal });
    default:
      return Promise.reject(
        new TypeError(
          `Unknown output format for ${JSON.stringify(path)}: use a .csv, .arrow or .parquet file`,
        ),
      );
  }
}
