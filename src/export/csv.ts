/**
 * CSV output: Binance's column names as the header, epoch-ms integer times, numbers in
 * their shortest round-trip decimal form (never exponent notation), streamed to the file
 * in chunks and renamed into place only when complete.
 *
 * @module
 */
import type { KlineColumns } from "../klines.ts";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { EXPORT_COLUMNS } from "../columns.ts";
import { numberOption } from "../_options.ts";

/** The CSV header line (without the newline). */
export const CSV_HEADER: string = EXPORT_COLUMNS.map((c) => c.name).join(",");

/** Options for {@linkcode writeCsv} and {@linkcode csvChunks}. */
export interface CsvOptions {
  /** Rows per chunk written at once. @default {8192} */
  chunkRows?: number;
  /** Aborting stops the write between chunks; no file is left behind. */
  signal?: AbortSignal;
}

/**
 * The shortest decimal text that reads back as exactly `x`, in plain notation:
 * `1.2e-7` becomes `0.00000012`, so spreadsheets and strict parsers see a plain number.
 *
 * @example
 * ```ts
 * import { formatNumber } from "@vision-data/client/export";
 * formatNumber(1.2e-7); // "0.00000012"
 * ```
 */
export function formatNumber(x: number): string {
  const s = String(x);
  const e = s.indexOf("e");
  if (e < 0) return s;
  const sign = s[0] === "-" ? "-" : "";
  const mantissa = s.slice(sign.length, e);
  const exp = Number(s.slice(e + 1));
  const digits = mantissa.replace(".", "");
  const point = (mantissa.indexOf(".") < 0 ? mantissa.length : mantissa.indexOf(".")) + exp;
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + "0".repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * The CSV text in chunks of `chunkRows` rows, header first (unless `header: false`); each
 * chunk ends with a newline.
 *
 * @example
 * ```ts
 * import { allocateColumns } from "@vision-data/client/market";
 * import { csvChunks } from "@vision-data/client/export";
 * [...csvChunks(allocateColumns(0))]; // ["open_time,open,...\n"]
 * ```
 */
export function* csvChunks(
  columns: KlineColumns,
  options: Pick<CsvOptions, "chunkRows"> & { header?: boolean } = {},
): Generator<string> {
  const chunkRows = numberOption("chunkRows", options.chunkRows, 8192, { min: 1, integer: true });
  const cols = EXPORT_COLUMNS.map((c) => columns[c.field]);
  const n = columns.openTime.length;
  if (options.header ?? true) yield CSV_HEADER + "\n";
  for (let start = 0; start < n; start += chunkRows) {
    const end = Math.min(n, start + chunkRows);
    let out = "";
    for (let i = start; i < end; i++) {
      let line = formatNumber(cols[0][i]);
      for (let c = 1; c < cols.length; c++) line += "," + formatNumber(cols[c][i]);
      out += line + "\n";
    }
    yield out;
  }
}

/**
 * Writes klines as CSV to `path`, atomically (temp file + rename).
 *
 * @returns the bytes written
 * @example
 * ```ts ignore
 * import { writeCsv } from "@vision-data/client/export";
 * await writeCsv(klines, "btc.csv");
 * ```
 */
export function writeCsv(
  columns: KlineColumns,
  path: string,
  options: CsvOptions = {},
): Promise<number> {
  const { signal } = options;
  return writeFileAtomic(path, async (file) => {
    const encoder = new TextEncoder();
    for (const chunk of csvChunks(columns, options)) {
      signal?.throwIfAborted();
      await writeAll(file, encoder.encode(chunk));
    }
  }, { signal, hidden: true });
}
