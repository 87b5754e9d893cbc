/**
 * The Vision `aggTrades` CSV: `agg_trade_id,price,quantity,first_trade_id,last_trade_id,
 * transact_time,is_buyer_maker[,is_best_match]` (binance-public-data README, "aggTrades";
 * spot files carry `is_best_match`, futures files a header and no `is_best_match`). Spot
 * timestamps are µs from 2025-01-01 like the klines (binance_protocol.md §A5): normalised to
 * ms by magnitude. Numbers use the kline parser's rule (an integer mantissa over 10^scale is
 * the double `Number(text)` gives), with `decimalAt` as the slow path.
 *
 * @module
 */
import { decimalAt, MICROS_THRESHOLD, POW10 } from "../_decimal.ts";
import { ArchiveError } from "../errors.ts";
import { type AggTradeColumns, allocateAggTradeColumns } from "./columns.ts";

const LF = 10;
const CR = 13;
const COMMA = 44;
const DOT = 46;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
const TWO_POW_53 = 2 ** 53;
const NUMERIC = 6;

/**
 * Parses aggTrades CSV bytes (header or not) into columns. Throws {@linkcode ArchiveError}
 * naming the file and line of a malformed row. `header: false` (a piece after a file's
 * start) refuses a header; `firstLine` numbers the first line for errors.
 *
 * @example
 * ```ts
 * import { parseAggTradesCsv } from "./_csv.ts";
 * const csv = new TextEncoder().encode("1,42000.5,0.010,10,12,1735689600000000,True,True\n");
 * parseAggTradesCsv(csv, "x.csv").transactTime[0]; // 1735689600000 (µs → ms)
 * ```
 */
export function parseAggTradesCsv(
  bytes: Uint8Array,
  file: string,
  options: { header?: boolean; firstLine?: number } = {},
): AggTradeColumns {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === LF || bytes[end - 1] === CR)) end--;
  let pos = 0;
  if (end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) pos = 3;
  if (pos >= end) return allocateAggTradeColumns(0);
  let line = options.firstLine ?? 1;
  // A header only where the file starts (a piece of a file has none: a bad row is an error).
  if (options.header !== false && !(bytes[pos] >= ZERO && bytes[pos] <= NINE)) {
    const nl = bytes.indexOf(LF, pos);
    if (nl < 0 || nl >= end) return allocateAggTradeColumns(0);
    pos = nl + 1;
    line++;
  }
  const firstEnd = bytes.indexOf(LF, pos);
  const firstLength = firstEnd < 0 || firstEnd >= end ? end - pos + 1 : firstEnd - pos + 1;
  let cap = Math.ceil(((end - pos + 1) / firstLength) * 1.25) + 16;
  let num = new Float64Array(cap * NUMERIC);
  let flags = new Uint8Array(cap);
  let row = 0;
  let i = pos;
  while (i < end) {
    if (row === cap) {
      const bigger = new Float64Array(cap * 2 * NUMERIC);
      for (let f = 0; f < NUMERIC; f++) {
        bigger.set(num.subarray(f * cap, f * cap + row), f * cap * 2);
      }
      const biggerFlags = new Uint8Array(cap * 2);
      biggerFlags.set(flags);
      num = bigger;
      flags = biggerFlags;
      cap *= 2;
    }
    const lineStart = i;
    for (let f = 0; f < NUMERIC; f++) {
      const fieldStart = i;
      let c = bytes[i];
      let negative = false;
      if (c === MINUS) {
        negative = true;
        c = bytes[++i];
      }
      const intStart = i;
      let mantissa = 0;
      while (c >= ZERO && c <= NINE) {
        mantissa = mantissa * 10 + (c - ZERO);
        c = bytes[++i];
      }
      let digits = i - intStart;
      let scale = 0;
      if (c === DOT) {
        const fracStart = ++i;
        c = bytes[i];
        while (c >= ZERO && c <= NINE) {
          mantissa = mantissa * 10 + (c - ZERO);
          c = bytes[++i];
        }
        scale = i - fracStart;
        digits += scale;
      }
      let value: number;
      if (c === COMMA && digits > 0 && mantissa < TWO_POW_53 && scale <= 22) {
        value = mantissa / POW10[scale];
        if (negative) value = -value;
      } else {
        while (i < end && bytes[i] !== COMMA && bytes[i] !== LF) i++;
        value = bytes[i] === COMMA ? decimalAt(bytes, fieldStart, i) : NaN;
        if (Number.isNaN(value)) throw badLine(bytes, lineStart, end, line + row, file);
      }
      if (f === 5 && value >= MICROS_THRESHOLD) value = (value - (value % 1000)) / 1000;
      num[f * cap + row] = value;
      i++; // the comma
    }
    // is_buyer_maker: True/False (any case); the optional is_best_match is skipped.
    const b = bytes[i];
    if (b === 0x74 || b === 0x54) flags[row] = 1;
    else if (!(b === 0x66 || b === 0x46)) throw badLine(bytes, lineStart, end, line + row, file);
    while (i < end && bytes[i] !== LF) i++;
    i++;
    row++;
  }
  // The columns are the scratch buffer compacted in place (column f moves from f * cap to
  // f * row: never over a column not yet moved), not a copy: a busy day's scratch is
  // ~130 MB, and a copy (or a shrinking transfer, which copies too) would hold both at once.
  // The slack past the last column (cap - row rows) stays with the buffer.
  for (let f = 1; f < NUMERIC; f++) num.copyWithin(f * row, f * cap, f * cap + row);
  const out = allocateAggTradeColumns(row, num.buffer);
  out.isBuyerMaker = flags.subarray(0, row);
  return out;
}

function badLine(
  bytes: Uint8Array,
  lineStart: number,
  end: number,
  line: number,
  file: string,
): ArchiveError {
  let lineEnd = bytes.indexOf(LF, lineStart);
  if (lineEnd < 0 || lineEnd > end) lineEnd = end;
  const text = new TextDecoder().decode(
    bytes.subarray(lineStart, Math.min(lineEnd, lineStart + 200)),
  );
  return new ArchiveError(
    `${file} line ${line}: expected agg_trade_id,price,quantity,first_trade_id,last_trade_id,` +
      `transact_time,is_buyer_maker[,is_best_match]: ${JSON.stringify(text)}`,
    { file, line },
  );
}

/**
 * Detaches `buffer` (freeing its memory now) unless it is shared, detached or small (below
 * 64 KiB it may be one of the runtime's shared pool slabs).
 */
export function release(buffer: ArrayBufferLike): void {
  if (buffer instanceof ArrayBuffer && !buffer.detached && buffer.byteLength >= 1 << 16) {
    buffer.transfer(0);
  }
}
