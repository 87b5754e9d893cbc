/**
 * A byte-level parser for Binance Vision kline CSVs: one pass over the bytes, straight into
 * typed columns, with decimals bit-identical to `Number(text)`.
 *
 * @module
 */
import { ArchiveError } from "../errors.ts";
// Not ../klines.ts: its apache-arrow import would slow every parse worker's start-up.
import { allocateColumns, KLINE_COLUMNS, type KlineColumns } from "../columns.ts";
import * as decimal from "../_decimal.ts";

/** Options for {@linkcode parseKlineCsv}. */
export interface ParseCsvOptions {
  /** The file name used in error messages (e.g. `BTCUSDT-1m-2024-01-01.csv`). */
  file?: string;
  /**
   * Free `bytes`' buffer (detach it) as soon as the last row is read, before the columns
   * are copied to their exact size: for a caller that owns the bytes and is done with them,
   * so the CSV (~7 MB for a month of 1m) and the result are never held at once.
   * @default {false}
   */
  releaseInput?: boolean;
}

// Module-local copies: read through import bindings, the hot loop measured ~2% slower.
const { DECIMAL_PATTERN, decimalAt, MICROS_THRESHOLD, POW10 } = decimal;
const LF = 10;
const CR = 13;
const COMMA = 44;
const DOT = 46;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
/** The 11 numeric fields; the 12th ("ignore") is read and discarded. */
const NUMERIC_FIELDS = KLINE_COLUMNS.length;
const FIELDS = NUMERIC_FIELDS + 1;
const OPEN_TIME = KLINE_COLUMNS.indexOf("openTime");
const CLOSE_TIME = KLINE_COLUMNS.indexOf("closeTime");
const TWO_POW_53 = 2 ** 53;

/**
 * Parses a Binance kline CSV (spot, USD-M or COIN-M; daily or monthly) into columns.
 *
 * - A first line whose first field does not start with a digit is a header and is skipped.
 * - Every row has exactly 12 fields; the 12th ("ignore") is discarded.
 * - `open_time` and `close_time` at or above 1e15 are microseconds (spot from 2025) and are
 *   normalized to ms by flooring: `1735693199999999` µs → `1735693199999` ms, which is exactly
 *   the value the ms files carry (`open + interval − 1`).
 * - Decimals are bit-identical to `Number(text)`; a decimal exponent (`1e-8`) is accepted
 *   because `Number` accepts it; anything else (empty, `NaN`, spaces, hex) is an error.
 * - LF or CRLF; the final newline is optional; an empty file gives zero rows.
 *
 * The columns are views of one `ArrayBuffer`, laid out as `allocateColumns` in `klines.ts`
 * does, so they can be transferred between threads without copying.
 *
 * @param bytes the CSV bytes (ASCII)
 * @param options the file name for error messages
 * @returns the columns, one `Float64Array` per field
 * @throws {ArchiveError} on a malformed row, naming the file, the 1-based line and the text
 *
 * @example
 * ```ts
 * import { parseKlineCsv } from "@vision-data/client/vision";
 * const csv = "1502942400000,4261.48,4261.48,4261.48,4261.48,1.775183,1502942459999," +
 *   "7564.90685084,3,0.075183,320.39085084,0\n";
 * const cols = parseKlineCsv(new TextEncoder().encode(csv), { file: "x.csv" });
 * cols.open[0]; // 4261.48
 * ```
 */
export function parseKlineCsv(bytes: Uint8Array, options: ParseCsvOptions = {}): KlineColumns {
  let end = bytes.length;
  // Trailing line breaks are not rows: trim them once so every remaining line must be a row.
  while (end > 0 && (bytes[end - 1] === LF || bytes[end - 1] === CR)) end--;
  let pos = 0;
  // A UTF-8 byte-order mark is not part of the first field.
  if (end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) pos = 3;
  if (pos >= end) return allocateColumns(0);

  let firstLine = 1;
  if (!(bytes[pos] >= ZERO && bytes[pos] <= NINE)) {
    const nl = bytes.indexOf(LF, pos);
    if (nl < 0 || nl >= end) return allocateColumns(0); // a header and nothing else
    pos = nl + 1;
    firstLine = 2;
  }
  // Size the columns from the first row's length, grow if that was short, and copy into
  // exact columns at the end. Counting line breaks first (native indexOf) measured ~20% of
  // the whole parse; this final copy is a memcpy of the output, a few %.
  const firstEnd = bytes.indexOf(LF, pos);
  const firstLength = firstEnd < 0 || firstEnd >= end ? end - pos + 1 : firstEnd - pos + 1;
  let capacity = Math.ceil(((end - pos + 1) / firstLength) * 1.25) + 16;
  let all = new Float64Array(capacity * NUMERIC_FIELDS);
  const state: ParseState = { i: pos, row: 0 };
  for (;;) {
    parseRows(bytes, end, all, capacity, state, firstLine, options.file);
    if (state.i >= end) break;
    const larger = new Float64Array(capacity * 2 * NUMERIC_FIELDS);
    copyColumns(all, capacity, larger, capacity * 2, state.row);
    all = larger;
    capacity *= 2;
  }
  const n = state.row;
  if (options.releaseInput) release(bytes.buffer);
  if (n === capacity) return allocateColumns(n, all.buffer);
  const columns = allocateColumns(n);
  copyColumns(all, capacity, new Float64Array(columns.openTime.buffer), n, n);
  // Hand the oversized scratch buffer back now rather than at the next GC: with two workers
  // parsing monthly archives this measured 15–20 MB off a cold year's peak memory.
  if (all.buffer.byteLength >= 1 << 16) (all.buffer as ArrayBuffer).transfer(0);
  return columns;
}

/** Detaches `buffer` (freeing its memory now) unless it is shared, detached or small. */
function release(buffer: ArrayBufferLike): void {
  // Below 64 KiB a buffer may be one of Node's shared `Buffer` pool slabs: left alone.
  if (buffer instanceof ArrayBuffer && !buffer.detached && buffer.byteLength >= 1 << 16) {
    buffer.transfer(0);
  }
}

/** Where {@linkcode parseRows} stopped: next byte, rows written so far. */
interface ParseState {
  i: number;
  row: number;
}

/** Copies `rows` rows of column-major data from stride `fromStride` to stride `toStride`. */
function copyColumns(
  from: Float64Array,
  fromStride: number,
  to: Float64Array,
  toStride: number,
  rows: number,
): void {
  for (let f = 0; f < NUMERIC_FIELDS; f++) {
    to.set(from.subarray(f * fromStride, f * fromStride + rows), f * toStride);
  }
}

/**
 * The hot loop, kept apart from the setup so V8 optimizes it on its own with stable types
 * (mixed into the setup, the optimized code kept deoptimizing on every call).
 */
function parseRows(
  bytes: Uint8Array,
  end: number,
  all: Float64Array,
  n: number,
  state: ParseState,
  firstLine: number,
  file: string | undefined,
): void {
  let i = state.i;
  let row = state.row;
  for (; row < n && i < end; row++) {
    const lineStart = i;
    for (let f = 0; f < NUMERIC_FIELDS; f++) {
      const fieldStart = i;
      // Reads past the buffer give `undefined`, which is neither a digit nor a comma, so the
      // loops stop and the slow path (which checks bounds) reports the row.
      let c = bytes[i];
      let negative = false;
      if (c === MINUS) {
        negative = true;
        c = bytes[++i];
      }
      // Digits go into an int32 first: a 9-digit int32 multiply-add chain is several times
      // cheaper than a float64 one. Longer runs (timestamps) are re-read as float64.
      const intStart = i;
      let int32 = 0;
      while (c >= ZERO && c <= NINE) {
        int32 = (int32 * 10 + (c - ZERO)) | 0;
        c = bytes[++i];
      }
      let mantissa = i - intStart > 9 ? digitRun(bytes, intStart, i) : int32;
      let digits = i - intStart;
      let scale = 0;
      if (c === DOT) {
        const fracStart = ++i;
        c = bytes[i];
        let frac = 0;
        while (c >= ZERO && c <= NINE) {
          frac = (frac * 10 + (c - ZERO)) | 0;
          c = bytes[++i];
        }
        scale = i - fracStart;
        digits += scale;
        if (scale <= 22) {
          // Exact while the result stays below 2^53 (checked below): every step is an
          // integer below 2^53, and rounding is monotonic, so a true result >= 2^53 cannot
          // come out below it.
          mantissa = mantissa * POW10[scale] +
            (scale > 9 ? digitRun(bytes, fracStart, i) : frac);
        }
      }
      let value: number;
      if (c === COMMA && digits > 0 && mantissa < TWO_POW_53 && scale <= 22) {
        // Both the integer mantissa and 10^scale are exact doubles, so one IEEE division is
        // the correctly rounded value of the decimal: the same double `Number(text)` gives.
        value = mantissa / POW10[scale];
        if (negative) value = -value;
      } else {
        // Rare: more digits than a double holds exactly, an exponent, or a malformed field.
        while (i < end && bytes[i] !== COMMA && bytes[i] !== LF) i++;
        if (i >= end || bytes[i] !== COMMA) {
          throw badLine(bytes, lineStart, end, row + firstLine, file);
        }
        value = decimalAt(bytes, fieldStart, i);
        if (Number.isNaN(value)) throw badLine(bytes, lineStart, end, row + firstLine, file);
      }
      if ((f === OPEN_TIME || f === CLOSE_TIME) && value >= MICROS_THRESHOLD) {
        // Exact integer floor division (no rounding up of ...999.999 to the next ms).
        value = (value - (value % 1000)) / 1000;
      }
      all[f * n + row] = value;
      i++; // the comma
    }
    // The "ignore" field: anything up to the line break, but no further comma.
    while (i < end) {
      const c = bytes[i];
      if (c === LF) break;
      if (c === COMMA) throw badLine(bytes, lineStart, end, row + firstLine, file);
      i++;
    }
    i++; // the LF (a CR before it was part of the ignore field)
  }
  state.i = i;
  state.row = row;
}

/** The digits `bytes[start..end)` as a float64 integer (exact below 2^53). */
function digitRun(bytes: Uint8Array, start: number, end: number): number {
  let v = 0;
  for (let k = start; k < end; k++) v = v * 10 + (bytes[k] - ZERO);
  return v;
}

/** Diagnoses a line the fast path rejected: field count, or the first bad field. */
function badLine(
  bytes: Uint8Array,
  lineStart: number,
  end: number,
  line: number,
  file: string | undefined,
): ArchiveError {
  let lineEnd = bytes.indexOf(LF, lineStart);
  if (lineEnd < 0 || lineEnd > end) lineEnd = end;
  if (lineEnd > lineStart && bytes[lineEnd - 1] === CR) lineEnd--;
  const text = new TextDecoder().decode(bytes.subarray(lineStart, lineEnd));
  const fields = text.split(",");
  const where = `${file ?? "CSV"} line ${line}`;
  const shown = JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
  let problem: string;
  if (fields.length !== FIELDS) {
    problem = `expected ${FIELDS} fields, got ${fields.length}`;
  } else {
    const bad = fields.findIndex((f, k) => k < NUMERIC_FIELDS && !DECIMAL_PATTERN.test(f));
    if (bad < 0) return new ArchiveError(`${where}: unreadable row: ${shown}`, { file, line });
    const name = KLINE_COLUMNS[bad] ?? "?";
    problem = fields[bad] === ""
      ? `field ${bad + 1} (${name}) is empty`
      : `field ${bad + 1} (${name}) is not a number: ${JSON.stringify(fields[bad])}`;
  }
  return new ArchiveError(`${where}: ${problem}: ${shown}`, { file, line });
}
