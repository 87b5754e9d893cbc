/**
 * The Vision `fundingRate` archive's CSV: `calc_time,funding_interval_hours,last_funding_rate`
 * (binance_protocol.md §A5; binance-public-data README, futures "fundingRate" monthly files),
 * times in ms, with or without a header. Numbers go through the kline parser's `decimalAt`.
 *
 * @module
 */
import { decimalAt, MICROS_THRESHOLD } from "../_decimal.ts";
import { ArchiveError } from "../errors.ts";
import { allocateFundingColumns, type FundingColumns } from "./funding_rates.ts";

/** Rows of one file at most: a month of 1 h funding is 744. Guards a hostile archive. */
const MAX_ROWS = 100_000;

/**
 * Parses a funding CSV into columns (`markPrice` NaN: the archive has none), sorted as
 * written. Throws {@linkcode ArchiveError} naming the file and line on a malformed row.
 *
 * @example
 * ```ts
 * import { parseFundingCsv } from "./_csv.ts";
 * const csv = new TextEncoder().encode("calc_time,funding_interval_hours,last_funding_rate\n1704067200000,8,0.00010000\n");
 * parseFundingCsv(csv, "BTCUSDT-fundingRate-2024-01.csv").fundingRate[0]; // 0.0001
 * ```
 */
export function parseFundingCsv(bytes: Uint8Array, file: string): FundingColumns {
  const rows: [number, number, number][] = [];
  let line = 0;
  let at = 0;
  while (at < bytes.length) {
    let end = bytes.indexOf(0x0a, at);
    if (end < 0) end = bytes.length;
    const next = end + 1;
    if (end > at && bytes[end - 1] === 0x0d) end--;
    line++;
    if (end > at) {
      const fields: number[] = [];
      let f = at;
      for (let i = at; i <= end; i++) {
        if (i === end || bytes[i] === 0x2c) {
          fields.push(decimalAt(bytes, f, i));
          f = i + 1;
        }
      }
      // A non-numeric first field on line 1 is the header (sniffed like the kline files).
      if (!(line === 1 && Number.isNaN(fields[0]))) {
        if (fields.length !== 3 || fields.some((x) => Number.isNaN(x))) {
          throw new ArchiveError(
            `${file} line ${line}: expected calc_time,funding_interval_hours,last_funding_rate`,
            { file, line },
          );
        }
        if (rows.length >= MAX_ROWS) {
          throw new ArchiveError(`${file}: over ${MAX_ROWS} rows, not a funding file`, { file });
        }
        const t = fields[0] >= MICROS_THRESHOLD ? Math.floor(fields[0] / 1000) : fields[0];
        rows.push([t, fields[1], fields[2]]);
      }
    }
    at = next;
  }
  const c = allocateFundingColumns(rows.length);
  c.markPrice.fill(NaN);
  for (let i = 0; i < rows.length; i++) {
    c.fundingTime[i] = rows[i][0];
    c.intervalHours[i] = rows[i][1];
    c.fundingRate[i] = rows[i][2];
  }
  return c;
}
