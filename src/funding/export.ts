/**
 * Funding rates to CSV, Arrow IPC or Parquet, written atomically (temp file + rename), with
 * the columns `funding_time` (UTC ms timestamp; epoch ms in CSV), `funding_rate`,
 * `mark_price` (empty in CSV / NaN where unknown) and `interval_hours`.
 *
 * @module
 */
import {
  Float64,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  TimestampMillisecond,
} from "apache-arrow";
import { ByteWriter, parquetWrite } from "hyparquet-writer";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { toInt64 } from "../_float64.ts";
import { type ExportFormat, exportFormatOf, formatNumber } from "../export/mod.ts";
import type { FundingColumns } from "./funding_rates.ts";

/** The exported columns: file name ← field. */
const COLUMNS = [
  ["funding_time", "fundingTime"],
  ["funding_rate", "fundingRate"],
  ["mark_price", "markPrice"],
  ["interval_hours", "intervalHours"],
] as const;

/** Options of {@linkcode writeFunding}. */
export interface WriteFundingOptions {
  /** The format; by default from the file's extension. */
  format?: ExportFormat;
  /** Aborting leaves no file behind. */
  signal?: AbortSignal;
}

/**
 * Writes funding rows to `path` (CSV, Arrow IPC file or Parquet).
 *
 * @returns the bytes written
 * @example
 * ```ts ignore
 * import { writeFunding } from "@vision-data/client/funding";
 * await writeFunding(funding, "btc-funding.parquet");
 * ```
 */
export function writeFunding(
  columns: FundingColumns,
  path: string,
  options: WriteFundingOptions = {},
): Promise<number> {
  const format = options.format ?? exportFormatOf(path);
  if (format === undefined) {
    return Promise.reject(new TypeError(`No export format for ${JSON.stringify(path)}`));
  }
  const bytes = format === "csv"
    ? csvBytes(columns)
    : format === "arrow"
    ? tableToIPC(fundingArrowTable(columns), "file")
    : parquetBytes(columns);
  return writeFileAtomic(path, (file) => writeAll(file, bytes), {
    signal: options.signal,
    hidden: true,
  });
}

/**
 * The rows as an Arrow table (`funding_time` a UTC ms timestamp, the rest float64).
 *
 * @example
 * ```ts
 * import { allocateFundingColumns, fundingArrowTable } from "@vision-data/client/funding";
 * fundingArrowTable(allocateFundingColumns(0)).numRows; // 0
 * ```
 */
export function fundingArrowTable(columns: FundingColumns): Table {
  return new Table({
    funding_time: makeVector(
      makeData({ type: new TimestampMillisecond("UTC"), data: toInt64(columns.fundingTime) }),
    ),
    funding_rate: makeVector(makeData({ type: new Float64(), data: columns.fundingRate })),
    mark_price: makeVector(makeData({ type: new Float64(), data: columns.markPrice })),
    interval_hours: makeVector(makeData({ type: new Float64(), data: columns.intervalHours })),
  });
}

function csvBytes(c: FundingColumns): Uint8Array {
  const lines = [COLUMNS.map(([name]) => name).join(",")];
  for (let i = 0; i < c.fundingTime.length; i++) {
    lines.push(
      COLUMNS.map(([, f]) => Number.isNaN(c[f][i]) ? "" : formatNumber(c[f][i])).join(","),
    );
  }
  return new TextEncoder().encode(lines.join("\n") + "\n");
}

function parquetBytes(c: FundingColumns): Uint8Array {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    schema: [
      { name: "root", num_children: COLUMNS.length },
      {
        name: "funding_time",
        type: "INT64",
        repetition_type: "REQUIRED",
        converted_type: "TIMESTAMP_MILLIS",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
      },
      ...COLUMNS.slice(1).map(([name]) => ({
        name,
        type: "DOUBLE" as const,
        repetition_type: "REQUIRED" as const,
      })),
    ],
    columnData: COLUMNS.map(([name, f]) => ({ name, data: c[f] })),
    createdBy: "vision-data",
  });
  return writer.getBytes();
}
