/**
 * Reconnect pacing: exponential backoff with equal jitter (half fixed, half random), so that
 * many clients dropped together do not come back together.
 *
 * @module
 */

/** Backoff parameters. */
export interface Backoff {
  minMs: number;
  maxMs: number;
  random: () => number;
}

/**
 * The wait before reconnect attempt `failures + 1` (0 after a healthy connection):
 * `min(maxMs, minMs · 2^failures)`, of which half is fixed and half random.
 */
export function backoffMs(failures: number, b: Backoff): number {
  const base = Math.min(b.maxMs, b.minMs * 2 ** Math.min(failures, 30));
  return Math.round(base / 2 + (base / 2) * b.random());
}
