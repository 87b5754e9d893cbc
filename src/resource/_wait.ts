/**
 * Bounded waiting shared by the owner and the cleanup manager.
 *
 * @module
 */

/** Longest delay `setTimeout` accepts; longer values would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolves `true` once every promise has settled, or `false` when `ms` elapse or `signal`
 * aborts first. The promises must never reject (pass `p.then(noop, noop)`-style wrappers).
 * The timer and the abort listener are always removed, so a fast path leaves nothing pending.
 */
export function settledWithin(
  promises: readonly Promise<unknown>[],
  ms: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (promises.length === 0) return Promise.resolve(true);
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    let done = false;
    const finish = (value: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(value);
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(false), Math.min(Math.max(0, ms), MAX_TIMER_MS));
    signal?.addEventListener("abort", onAbort, { once: true });
    Promise.all(promises).then(() => finish(true));
  });
}

/** Whether `value` is a thenable (a step or task that returned a promise). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === "object" || typeof value === "function") && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/** A rounded millisecond count for reports and messages. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
