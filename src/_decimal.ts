/**
 * The number rules the Vision CSV parser and the REST decoder share, so both give the same
 * double for the same text: plain decimal syntax, exact powers of ten for the fast paths,
 * and the magnitude at which a timestamp is taken as microseconds. Import-free: parse
 * workers load it.
 *
 * @module
 */

/**
 * Times at or above this are microseconds (1e15 µs is 2001-09-09; 1e15 ms is year 33658).
 *
 * @example
 * ```ts
 * import { MICROS_THRESHOLD } from "./_decimal.ts";
 * 1735693199999999 >= MICROS_THRESHOLD; // true: spot's µs close time
 * ```
 */
export const MICROS_THRESHOLD = 1e15;

/**
 * Exact powers of ten: every 10^k with k <= 22 is representable in a double.
 *
 * @example
 * ```ts
 * import { POW10 } from "./_decimal.ts";
 * POW10[3]; // 1000
 * ```
 */
export const POW10: readonly number[] = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * The accepted number syntax: optional minus, digits with an optional dot, optional
 * exponent (`Number` accepts it, so Binance may send it). No spaces, `NaN`, hex or `+`.
 *
 * @example
 * ```ts
 * import { DECIMAL_PATTERN } from "./_decimal.ts";
 * DECIMAL_PATTERN.test("1e-8"); // true
 * ```
 */
export const DECIMAL_PATTERN: RegExp = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

const latin1 = new TextDecoder("latin1");

/**
 * `Number(text)` of the ASCII bytes `bytes[start, end)`, restricted to
 * {@linkcode DECIMAL_PATTERN}; `NaN` for anything else. The slow path of both parsers.
 *
 * @example
 * ```ts
 * import { decimalAt } from "./_decimal.ts";
 * decimalAt(new TextEncoder().encode("x,1e-8,"), 2, 6); // 1e-8
 * ```
 */
export function decimalAt(bytes: Uint8Array, start: number, end: number): number {
  const text = latin1.decode(bytes.subarray(start, end));
  return DECIMAL_PATTERN.test(text) ? Number(text) : NaN;
}
