/**
 * A signal-aware worker loop for parallel pages. Unlike breaking out of `pooledMap`
 * (denoland/std#2197: unhandled rejections), a fatal error aborts the shared signal, the
 * other workers unwind, and every one of them is awaited before the error is rethrown.
 *
 * @module
 */

/** Options for {@linkcode runWorkers}. */
export interface RunWorkersOptions {
  /** How many items run at once (at least 1). */
  concurrency: number;
  /** Aborting it stops new items and aborts running ones (through the signal `fn` gets). */
  signal: AbortSignal;
}

/**
 * Runs `fn` over `items` with at most `concurrency` at a time. The first failure aborts the
 * signal handed to the others and, once all have settled, is rethrown (later failures —
 * usually that abort echoing back — are dropped). No promise is left unawaited.
 *
 * @example
 * ```ts
 * import { runWorkers } from "./_pool.ts";
 * const seen: number[] = [];
 * await runWorkers([1, 2, 3], { concurrency: 2, signal: new AbortController().signal }, async (x) => {
 *   seen.push(x);
 * });
 * ```
 */
export async function runWorkers<T>(
  items: readonly T[],
  options: RunWorkersOptions,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const { signal } = options;
  signal.throwIfAborted();
  const ac = new AbortController();
  const onAbort = () => ac.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!ac.signal.aborted && next < items.length) {
      const item = items[next++];
      try {
        await fn(item, ac.signal);
      } catch (error) {
        if (!failure) {
          failure = { error };
          ac.abort(error);
        }
        return;
      }
    }
  };
  const n = Math.max(1, Math.min(Math.floor(options.concurrency) || 1, items.length));
  try {
    await Promise.all(Array.from({ length: n }, worker)); // workers never reject
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (failure) throw failure.error;
  signal.throwIfAborted();
}
