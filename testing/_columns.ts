/**
 * Column helpers shared by the replica's modules. The layout itself (`KLINE_COLUMNS`,
 * `allocateColumns`) is the library's `src/columns.ts`; only operations the library has no
 * dependency-free export for live here (its `Klines.slice`/`concat` and binary search belong
 * to the Arrow-backed `Klines` class, which the replica does not load, so it starts fast).
 *
 * @module
 */
import { allocateColumns, KLINE_COLUMNS, type KlineColumns } from "../src/columns.ts";

/** Rows `[from, to)` copied into fresh columns. */
export function sliceColumns(c: KlineColumns, from: number, to: number): KlineColumns {
  const out = allocateColumns(Math.max(0, to - from));
  for (const name of KLINE_COLUMNS) out[name].set(c[name].subarray(from, to));
  return out;
}

/** Concatenates column sets (in the given order). */
export function concatColumns(parts: readonly KlineColumns[]): KlineColumns {
  if (parts.length === 1) return parts[0];
  const n = parts.reduce((s, p) => s + p.openTime.length, 0);
  const out = allocateColumns(n);
  let at = 0;
  for (const p of parts) {
    for (const name of KLINE_COLUMNS) out[name].set(p[name], at);
    at += p.openTime.length;
  }
  return out;
}

/**
 * First index `i` with `a[i] >= x` in an ascending array (`a.length` when there is none).
 * The replica's own: it imports only the library's public modules, and as the tests' oracle
 * it should not share the code it checks.
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
