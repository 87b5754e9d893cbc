/**
 * A counting semaphore whose waits are abortable, to bound how many of something (archives
 * held in memory) exist at once without ever blocking a dispose.
 *
 * @module
 */

/**
 * At most `permits` holders at once; the others wait in FIFO order.
 *
 * @example
 * ```ts
 * import { Semaphore } from "./_semaphore.ts";
 * const slots = new Semaphore(2);
 * const release = await slots.acquire(new AbortController().signal);
 * try {
 *   // … at most two of these at a time
 * } finally {
 *   release();
 * }
 * ```
 */
export class Semaphore {
  /** Permits in all. */
  readonly permits: number;
  #free: number;
  readonly #waiting: { grant: () => void }[] = [];

  /** @param permits how many holders at once (at least 1) */
  constructor(permits: number) {
    this.permits = Math.max(1, Math.floor(permits) || 1);
    this.#free = this.permits;
  }

  /** Permits not held right now. */
  get free(): number {
    return this.#free;
  }

  /**
   * Resolves with a release function once a permit is free (at once when one is). Rejects
   * with the signal's reason when it aborts first; the permit is then never taken. Calling
   * the release function more than once releases once.
   */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#releaser());
    }
    const { promise, resolve, reject } = Promise.withResolvers<() => void>();
    const waiter = {
      grant: () => {
        signal.removeEventListener("abort", onAbort);
        resolve(this.#releaser());
      },
    };
    const onAbort = () => {
      const at = this.#waiting.indexOf(waiter);
      if (at >= 0) this.#waiting.splice(at, 1);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    this.#waiting.push(waiter);
    return promise;
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // Handed straight to the next waiter: the permit is never seen free in between.
      if (next) next.grant();
      else this.#free++;
    };
  }
}
