/**
 * A signal-aware bounded worker loop. `pooledMap` cannot be cancelled by breaking out of
 * it (denoland/std#2197: unhandled rejections), so batches use N plain async workers
 * pulling from a queue, with one controller that stops them all on the first failure.
 *
 * @module
 */

/** Options for {@linkcode runWorkerLoop}. */
export interface WorkerLoopOptions<T> {
  /** Most items handled at once (at least 1). */
  concurrency: number;
  /** Aborting it stops the batch; the loop then rejects with its reason. */
  signal: AbortSignal;
  /**
   * Handles one item. `signal` aborts when the batch fails or the outer signal aborts;
   * `enqueue` adds follow-up items (e.g. the days of a missing month).
   */
  handle: (item: T, signal: AbortSignal, enqueue: (...items: T[]) => void) => Promise<void>;
}

/**
 * Runs `handle` over `items` (and anything enqueued later) with at most `concurrency`
 * running. On the first failure no new item starts, the others are aborted, all are
 * awaited (so no rejection goes unhandled), then the first error is thrown. An abort of
 * the outer signal rejects with the signal's reason.
 *
 * @example
 * ```ts ignore
 * await runWorkerLoop([1, 2, 3], {
 *   concurrency: 2,
 *   signal: new AbortController().signal,
 *   handle: async (n) => console.log(n),
 * });
 * ```
 */
export async function runWorkerLoop<T>(
  items: Iterable<T>,
  options: WorkerLoopOptions<T>,
): Promise<void> {
  const { signal, handle } = options;
  const limit = Math.max(1, Math.floor(options.concurrency) || 1);
  signal.throwIfAborted();
  const batch = new AbortController();
  const linked = AbortSignal.any([signal, batch.signal]);
  const queue: T[] = [...items];
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;

  const stopped = () => failure !== undefined || linked.aborted;
  const worker = async (): Promise<void> => {
    while (queue.length > 0 && !stopped()) {
      const item = queue.shift()!;
      try {
        await handle(item, linked, enqueue);
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          batch.abort(error);
        }
        return;
      }
    }
  };
  const spawn = () => {
    // Running workers are busy with an item already taken off the queue.
    let idle = Math.min(limit - running.size, queue.length);
    while (idle-- > 0 && !stopped()) {
      const p = worker();
      running.add(p);
      p.finally(() => running.delete(p));
    }
  };
  function enqueue(...more: T[]): void {
    if (stopped()) return;
    queue.push(...more);
    spawn();
  }

  spawn();
  // Workers may spawn others (via enqueue) while we wait: loop until none are left.
  while (running.size > 0) await Promise.all(running);
  if (failure !== undefined && !signal.aborted) throw failure.error;
  signal.throwIfAborted();
}

/**
 * Runs `jobs` with at most `limit` at once and returns their results in order; the first
 * failure aborts the rest (see {@linkcode runWorkerLoop}).
 *
 * @example
 * ```ts ignore
 * const [a, b] = await runLimited([async () => 1, async () => 2], 2, signal);
 * ```
 */
export async function runLimited<R>(
  jobs: readonly ((signal: AbortSignal) => Promise<R>)[],
  limit: number,
  signal: AbortSignal,
): Promise<R[]> {
  const results = new Array<R>(jobs.length);
  await runWorkerLoop(jobs.keys(), {
    concurrency: limit,
    signal,
    handle: async (i, sig) => {
      results[i] = await jobs[i](sig);
    },
  });
  return results;
}
