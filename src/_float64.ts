/**
 * Helpers over sorted or integral `Float64Array` columns, shared by the result type, the
 * cache and the writers.
 *
 * @module
 */

const TWO_32 = 4294967296;

/**
 * First index `i` with `a[i] >= x` in an ascending array (`a.length` when there is none).
 *
 * @example
 * ```ts
 * import { lowerBound } from "./_float64.ts";
 * lowerBound(new Float64Array([1, 3, 5]), 3); // 1
 * ```
 */
export function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Integral float64 values (epoch ms, trade counts) as int64, without a `BigInt` per value.
 * Values outside the int64 range wrap, as a `BigInt64Array` store does.
 *
 * @throws {RangeError} when a value is not an integer (`NaN`, `±Infinity`, `1.5`)
 * @example
 * ```ts
 * import { toInt64 } from "./_float64.ts";
 * toInt64(new Float64Array([-1, 2 ** 40]))[1]; // 1099511627776n
 * ```
 */
export function toInt64(src: Float64Array): BigInt64Array {
  const out = new BigInt64Array(src.length);
  const words = new Uint32Array(out.buffer);
  for (let i = 0, j = 0; i < src.length; i++, j += 2) {
    const x = src[i];
    if (!Number.isInteger(x)) {
      throw new RangeError(`${x} is not an integer, cannot store it as int64`);
    }
    const hi = Math.floor(x / TWO_32);
    words[j] = x - hi * TWO_32;
    words[j + 1] = hi; // two's complement via Uint32 wrap-around
  }
  return out;
}
