/**
 * Decoding REST kline rows (12-element arrays mixing JSON numbers and decimal strings)
 * into columns. `Number(text)` is exact in the sense that matters: it yields the same
 * double as the Vision CSV parser for the same decimal text.
 *
 * @module
 */
import { MalformedResponseError } from "../errors.ts";
import { CorruptRowError } from "../limit_errors.ts";
import { allocateColumns, KLINE_COLUMNS, type KlineColumns } from "../klines.ts";
// Spot switched its archive timestamps to µs; REST answers ms unless asked otherwise,
// but normalise by magnitude anyway so a µs answer can never poison a result.
import { decimalAt, MICROS_THRESHOLD, POW10 } from "../_decimal.ts";

/**
 * Decodes a parsed klines response body into columns (in the server's order: the caller
 * sorts, de-duplicates and filters). Throws a {@linkcode MalformedResponseError} naming
 * the URL, the row and the field when the body is not an array of kline rows.
 *
 * @example
 * ```ts
 * import { decodeKlineRows } from "./_decode.ts";
 * const row = [0, "1.5", "2", "1", "1.75", "10", 59_999, "17.5", 3, "5", "8.75", "0"];
 * decodeKlineRows([row], "https://x/api/v3/klines").close[0]; // 1.75
 * ```
 */
export function decodeKlineRows(body: unknown, url: string): KlineColumns {
  if (!Array.isArray(body)) {
    throw new MalformedResponseError(url, `expected a JSON array of kline rows, got ${kind(body)}`);
  }
  const n = body.length;
  const cols = allocateColumns(n);
  const arrays = KLINE_COLUMNS.map((name) => cols[name]);
  for (let i = 0; i < n; i++) {
    const row = body[i];
    if (!Array.isArray(row) || row.length < KLINE_COLUMNS.length) {
      throw new MalformedResponseError(
        url,
        `row ${i}: expected an array of at least ${KLINE_COLUMNS.length} fields, got ${kind(row)}`,
      );
    }
    for (let j = 0; j < arrays.length; j++) {
      const v = row[j];
      const x = typeof v === "number"
        ? v
        : typeof v === "string" && v.trim() !== ""
        ? Number(v)
        : NaN;
      if (!Number.isFinite(x)) {
        // A number too large for a double (`1e400`) is a corrupt row, not a malformed body.
        if (Math.abs(x) === Infinity) {
          throw new CorruptRowError(`page ${url}`, i + 1, KLINE_COLUMNS[j], `${v} overflows`);
        }
        throw new MalformedResponseError(
          url,
          `row ${i} field ${KLINE_COLUMNS[j]}: not a number: ${JSON.stringify(v)}`,
        );
      }
      arrays[j][i] = x;
    }
  }
  for (const t of [cols.openTime, cols.closeTime]) {
    for (let i = 0; i < n; i++) if (t[i] >= MICROS_THRESHOLD) t[i] = Math.floor(t[i] / 1000);
  }
  return cols;
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`.slice(0, 80);
}

const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const DOT = 0x2e;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const FIELDS = 12; // 11 numeric + "ignore"
const NUMERIC = KLINE_COLUMNS.length;

/**
 * Decodes a klines response body straight from its bytes: one pass, no `JSON.parse`
 * (which would allocate an array and nine strings per row). Anything the scanner does not
 * expect — whitespace, escapes, a wrong field count, a non-numeric field — falls back to
 * `JSON.parse` + {@linkcode decodeKlineRows}, which accepts any valid JSON and reports
 * errors precisely. Values are the same doubles either way.
 *
 * @param bytes the response body
 * @param url the URL, for error messages
 * @param expectedRows a capacity hint (the page's `limit`)
 *
 * @example
 * ```ts
 * import { decodeKlineBody } from "./_decode.ts";
 * const body = new TextEncoder().encode('[[0,"1.5","2","1","1.75","10",59999,"17.5",3,"5","8.75","0"]]');
 * decodeKlineBody(body, "https://x/api/v3/klines").open[0]; // 1.5
 * ```
 */
export function decodeKlineBody(bytes: Uint8Array, url: string, expectedRows = 0): KlineColumns {
  const fast = scanRows(bytes, expectedRows);
  if (fast) return fast;
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new MalformedResponseError(url, "body is not JSON", { cause });
  }
  return decodeKlineRows(body, url);
}

/** The fast path: `null` when the body is not in Binance's exact compact shape. */
function scanRows(bytes: Uint8Array, hint: number): KlineColumns | null {
  const end = bytes.length;
  if (end < 2 || bytes[0] !== LBRACKET) return null;
  if (bytes[1] === RBRACKET) return end === 2 ? allocateColumns(0) : null;
  let cap = Math.max(16, hint | 0);
  let rows = new Float64Array(cap * NUMERIC); // row-major while the count is unknown
  let n = 0;
  let i = 1;
  for (;;) {
    if (n === cap) {
      const grown = new Float64Array(cap * 2 * NUMERIC);
      grown.set(rows);
      rows = grown;
      cap *= 2;
    }
    i = scanRow(bytes, i, rows, n * NUMERIC);
    if (i < 0) return null;
    n++;
    const c = bytes[i++];
    if (c === COMMA) continue;
    if (c === RBRACKET && i === end) break;
    return null;
  }
  const cols = allocateColumns(n);
  const arrays = KLINE_COLUMNS.map((name) => cols[name]);
  for (let f = 0; f < NUMERIC; f++) {
    const col = arrays[f];
    for (let r = 0, k = f; r < n; r++, k += NUMERIC) col[r] = rows[k];
  }
  return cols;
}

/**
 * One `[…]` row at `i` into `rows[base…base+11)`; returns the index after its `]`, or −1.
 * Kept apart (and monomorphic) so V8 optimizes the hot loop on its own.
 */
function scanRow(bytes: Uint8Array, i: number, rows: Float64Array, base: number): number {
  const end = bytes.length;
  if (bytes[i++] !== LBRACKET) return -1;
  for (let f = 0; f < FIELDS; f++) {
    if (i >= end) return -1;
    const quoted = bytes[i] === QUOTE;
    if (quoted) i++;
    if (f === FIELDS - 1) {
      // "ignore": any token without quotes, commas or brackets inside.
      while (i < end && bytes[i] !== QUOTE && bytes[i] !== RBRACKET && bytes[i] !== COMMA) i++;
    } else {
      const start = i;
      let c = i < end ? bytes[i] : 0;
      const negative = c === MINUS;
      if (negative) c = ++i < end ? bytes[i] : 0;
      // Digits go into an int32 nine at a time (int arithmetic is far cheaper than a float64
      // multiply-add chain), folded into a float64 between chunks.
      let high = 0;
      let low = 0;
      let lowDigits = 0;
      let digits = 0;
      let scale = -1; // digits after the dot; −1 while no dot was seen
      for (;;) {
        if (c >= ZERO && c <= NINE) {
          if (lowDigits === 9) {
            high = high * 1e9 + low;
            low = 0;
            lowDigits = 0;
          }
          low = (low * 10 + (c - ZERO)) | 0;
          lowDigits++;
          digits++;
          if (scale >= 0) scale++;
        } else if (c === DOT && scale < 0) {
          scale = 0;
        } else break;
        c = ++i < end ? bytes[i] : 0;
      }
      if (scale < 0) scale = 0;
      let value: number;
      if (digits > 0 && digits <= 15 && c === (quoted ? QUOTE : COMMA)) {
        // An integer below 10^15 and 10^scale are exact doubles, so one correctly rounded
        // division gives the double nearest the decimal: what Number(text) returns.
        const mantissa = high * POW10[lowDigits] + low;
        value = scale === 0 ? mantissa : mantissa / POW10[scale];
        if (negative) value = -value;
      } else {
        // Long mantissas (µs timestamps), exponents, or something to reject.
        while (i < end && bytes[i] !== QUOTE && bytes[i] !== COMMA && bytes[i] !== RBRACKET) i++;
        value = decimalAt(bytes, start, i);
        // Overflowing exponents too: the JSON path reports them (one verdict for both paths).
        if (!Number.isFinite(value)) return -1;
      }
      if (value >= MICROS_THRESHOLD && (f === 0 || f === 6)) value = Math.floor(value / 1000);
      rows[base + f] = value;
    }
    if (quoted && bytes[i++] !== QUOTE) return -1;
    if (bytes[i++] !== (f === FIELDS - 1 ? RBRACKET : COMMA)) return -1;
  }
  return i;
}
