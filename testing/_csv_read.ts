/**
 * A small, strict reader for the kline CSVs mounted as replica fixtures. (The library's own
 * parser lives in `src/vision/csv_parser.ts`; the replica must not depend on it, since the
 * replica is what that parser is tested against.)
 *
 * @module
 */
import { allocateColumns, KLINE_COLUMNS, type KlineColumns } from "../src/columns.ts";

/** A parsed fixture file. */
export interface ReadCsv {
  /** Rows, times in ms (a µs close time is floored to whole ms, as REST reports it). */
  columns: KlineColumns;
  /** Whether the first line was a header. */
  header: boolean;
  /** Byte offset where the data rows start (after the header line, if any). */
  dataOffset: number;
  /** Unit the file used. */
  timeUnit: "ms" | "us";
}

/** Parses a kline CSV; throws a TypeError naming the line on malformed input. */
export function readKlineCsv(bytes: Uint8Array, file = "csv"): ReadCsv {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  let header = false;
  let dataOffset = 0;
  if (lines.length > 0 && !/^\d/.test(lines[0])) {
    header = true;
    dataOffset = new TextEncoder().encode(lines[0] + "\n").length;
    lines.shift();
  }
  const out = allocateColumns(lines.length);
  let unit: "ms" | "us" = "ms";
  lines.forEach((raw, i) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    const f = line.split(",");
    if (f.length < 11) {
      throw new TypeError(`${file}: line ${i + 1 + (header ? 1 : 0)} has ${f.length} fields`);
    }
    KLINE_COLUMNS.forEach((name, k) => {
      const v = Number(f[k]);
      if (!Number.isFinite(v)) {
        throw new TypeError(
          `${file}: line ${i + 1 + (header ? 1 : 0)} field ${k + 1} is not a number`,
        );
      }
      out[name][i] = v;
    });
    if (out.openTime[i] >= 1e15) {
      unit = "us";
      out.openTime[i] = out.openTime[i] / 1000;
      out.closeTime[i] = Math.floor(out.closeTime[i] / 1000);
    }
  });
  return { columns: out, header, dataOffset, timeUnit: unit };
}
