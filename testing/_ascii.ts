/**
 * A growable ASCII byte buffer that writes numbers without building strings (the hot path of
 * CSV and JSON generation).
 *
 * @module
 */

/** Powers of ten 10^0 … 10^12 (exact doubles). */
export const POW10: readonly number[] = [
  1,
  10,
  100,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
];
// Below 2^51 the product x * 10^dp is within 0.25 of the exact integer, so rounding recovers
// the decimal the double came from; above it toFixed's exact arithmetic is used instead.
const FAST_LIMIT = 2 ** 51;

const INT_LIMIT = 2 ** 31;

/**
 * Writes the non-negative integer `v` (< 2^53) at `p`, zero-padded to `width` digits; returns
 * the position after it. Int32 arithmetic below 2^31 (most fields), 9-digit halves above
 * (timestamps), so no float division runs per digit. The caller guarantees the room.
 */
export function putUint(b: Uint8Array, p: number, v: number, width = 1): number {
  if (v >= INT_LIMIT) {
    const hi = Math.floor(v / 1e9);
    p = putUint(b, p, hi, width - 9);
    return putUint(b, p, v - hi * 1e9, 9);
  }
  let n = v < 10
    ? 1
    : v < 100
    ? 2
    : v < 1e3
    ? 3
    : v < 1e4
    ? 4
    : v < 1e5
    ? 5
    : v < 1e6
    ? 6
    : v < 1e7
    ? 7
    : v < 1e8
    ? 8
    : v < 1e9
    ? 9
    : 10;
  if (n < width) n = width;
  const end = p + n;
  let at = end;
  let x = v | 0;
  while (at > p) {
    const q = (x / 10) | 0;
    b[--at] = 48 + x - q * 10;
    x = q;
  }
  return end;
}

/**
 * Writes `x` with exactly `dp` decimals at `p` and returns the position after it, or -1 when
 * the value needs the exact slow path (negative, ≥ 2^51 scaled, or more than 12 decimals).
 * For a double parsed from a `dp`-decimal string this writes that string again.
 */
export function putDecimal(b: Uint8Array, p: number, x: number, dp: number): number {
  const s = POW10[dp];
  const scaled = Math.round(x * s);
  if (!(scaled >= 0 && scaled < FAST_LIMIT) || dp > 12) return -1;
  if (dp === 0) return putUint(b, p, scaled);
  const whole = Math.floor(scaled / s);
  p = putUint(b, p, whole);
  b[p++] = 46;
  return putUint(b, p, scaled - whole * s, dp);
}

/** An ASCII byte buffer that grows; numbers are written without intermediate strings. */
export class AsciiWriter {
  /** The buffer (valid up to `pos`). */
  buf: Uint8Array;
  /** Bytes written. */
  pos = 0;
  /** @param size initial capacity */
  constructor(size: number) {
    this.buf = new Uint8Array(Math.max(64, size));
  }
  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  /** ASCII text. */
  text(s: string): void {
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }
  /** One byte. */
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
  /** A non-negative integer below 2^53, padded with zeros to `width` digits. */
  uint(v: number, width = 1): void {
    this.ensure(Math.max(16, width));
    this.pos = putUint(this.buf, this.pos, v, width);
  }
  /**
   * `x` with exactly `dp` decimals: for a double parsed from a `dp`-decimal string, that string
   * again (the round trip archive fidelity relies on).
   */
  decimal(x: number, dp: number): void {
    this.ensure(40);
    const end = putDecimal(this.buf, this.pos, x, dp);
    if (end < 0) this.text(x.toFixed(dp));
    else this.pos = end;
  }
  /** Any integer (fast path for safe non-negative ones). */
  integer(v: number): void {
    if (Number.isSafeInteger(v) && v >= 0) this.uint(v);
    else this.text(String(v));
  }

  /** The written bytes (a view). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
