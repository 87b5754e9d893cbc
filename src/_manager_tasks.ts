/**
 * A signal-aware worker pool for the manager: at most `limit` jobs at once; the first
 * failure aborts the others (through the signal each job gets) and is thrown once every
 * started job has settled, so nothing keeps running behind the caller's back.
 *
 * @module
 */

/**
 * Runs `jobs` with at most `limit` in flight and returns their results in order.
 * Aborting `signal` aborts every running job; no job starts after a failure or an abort.
 */
export async function runLimited<R>(
  jobs: readonly ((signal: AbortSignal) => Promise<R>)[],
  limit: number,
  signal: AbortSignal,
): Promise<R[]> {
  signal.throwIfAborted();
  const results = new Array<R>(jobs.length);
  if (jobs.length === 0) return results;
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && !controller.signal.aborted && next < jobs.length) {
      const i = next++;
      try {
        results[i] = await jobs[i](controller.signal);
      } catch (error) {
        // The first error is the one worth reporting; the others are mostly its echo (aborts).
        if (!failure) {
          failure = { error };
          controller.abort(error);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, jobs.length)) }, worker));
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (failure) throw failure.error;
  // Aborted between jobs with no job failing: still report the abort, never partial results.
  signal.throwIfAborted();
  return results;
}
