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
    let n = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
    if (n < width) n = width;
    this.ensure(n);
    let end = this.pos + n;
    this.pos = end;
    const b = this.buf;
    while (n-- > 0) {
      const q = Math.floor(v / 10);
      b[--end] = 48 + (v - q * 10);
      v = q;
    }
  }
  /**
   * `x` with exactly `dp` decimals: for a double parsed from a `dp`-decimal string, that string
   * again (the round trip archive fidelity relies on).
   */
  decimal(x: number, dp: number): void {
    const p = POW10[dp];
    const scaled = Math.round(x * p);
    if (!(scaled >= 0 && scaled < FAST_LIMIT) || dp > 12) return this.text(x.toFixed(dp));
    if (dp === 0) return this.uint(scaled);
    const whole = Math.floor(scaled / p);
    this.uint(whole);
    this.byte(46);
    this.uint(scaled - whole * p, dp);
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
