/**
 * Offline stand-in for the parts of `@std/async` this project uses, built on Web APIs.
 * Same signatures and documented behaviour as `jsr:@std/async@^1`; mapped by
 * `offline/import_map.json` for machines that reach npm but not JSR.
 *
 * @module
 */

/** Options for {@linkcode delay}. */
export interface DelayOptions {
  /** Signal used to abort the delay. */
  signal?: AbortSignal;
  /** Whether the timer keeps the process alive. @default {true} */
  persistent?: boolean;
}

/**
 * Resolves after `ms` milliseconds; rejects with the signal's reason when aborted.
 *
 * @example
 * ```ts
 * import { delay } from "@std/async";
 * await delay(1);
 * ```
 */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { signal, persistent = true } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(id);
      reject(signal?.reason);
    };
    const id = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, Math.min(ms, 2 ** 31 - 1));
    signal?.addEventListener("abort", abort, { once: true });
    if (!persistent) Deno.unrefTimer(id);
  });
}

/**
 * Makes a promise abortable: rejects with the signal's reason once it aborts.
 * The original promise keeps running; its late rejection is ignored.
 *
 * @example
 * ```ts
 * import { abortable } from "@std/async";
 * const c = new AbortController();
 * const p = abortable(new Promise(() => {}), c.signal);
 * c.abort();
 * await p.catch(() => {});
 * ```
 */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  const abort = () => reject(signal.reason);
  signal.addEventListener("abort", abort, { once: true });
  p.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  return promise;
}

/** Options for {@linkcode deadline}. */
export interface DeadlineOptions {
  /** Signal used to abort the deadline. */
  signal?: AbortSignal;
}

/**
 * Rejects with a `DOMException` named `"TimeoutError"` when `p` has not settled within
 * `ms` (or with the signal's reason when aborted first). It does not cancel `p`.
 *
 * @example
 * ```ts
 * import { deadline } from "@std/async";
 * await deadline(Promise.resolve(1), 100);
 * ```
 */
export function deadline<T>(p: Promise<T>, ms: number, options: DeadlineOptions = {}): Promise<T> {
  const controller = new AbortController();
  const id = setTimeout(
    () => controller.abort(new DOMException("Signal timed out.", "TimeoutError")),
    Math.max(0, Math.min(ms, 2 ** 31 - 1)),
  );
  const signal = options.signal
    ? AbortSignal.any([controller.signal, options.signal])
    : controller.signal;
  return abortable(p, signal).finally(() => clearTimeout(id));
}

/** Error thrown by {@linkcode retry} once the maximum number of attempts is reached. */
export class RetryError extends Error {
  /**
   * @param cause the last error
   * @param attempts the number of attempts made
   */
  constructor(cause: unknown, attempts: number) {
    super(`Retrying exceeded the maxAttempts (${attempts}).`);
    this.name = "RetryError";
    this.cause = cause;
  }
}

/** Options for {@linkcode retry}. */
export interface RetryOptions {
  /** How much to back off after each retry. @default {2} */
  multiplier?: number;
  /** The maximum milliseconds between attempts. @default {60000} */
  maxTimeout?: number;
  /** The maximum number of attempts. @default {5} */
  maxAttempts?: number;
  /** The initial and minimum milliseconds between attempts. @default {1000} */
  minTimeout?: number;
  /** Share of each wait that is random, 0 to 1. @default {1} */
  jitter?: number;
  /** Whether an error is worth another attempt. @default {() => true} */
  isRetriable?: (err: unknown) => boolean;
  /** Aborts the waits between attempts and prevents new ones. */
  signal?: AbortSignal;
}

/**
 * Calls `fn` until it succeeds, waiting with exponential backoff and jitter between
 * attempts; throws {@linkcode RetryError} (cause: the last error) when attempts run out.
 *
 * @example
 * ```ts
 * import { retry } from "@std/async";
 * const v = await retry(() => 42, { minTimeout: 1 });
 * ```
 */
export async function retry<T>(
  fn: (() => Promise<T>) | (() => T),
  options?: RetryOptions,
): Promise<T> {
  const {
    multiplier = 2,
    maxTimeout = 60000,
    maxAttempts = 5,
    minTimeout = 1000,
    jitter = 1,
    isRetriable = () => true,
    signal,
  } = options ?? {};
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`Cannot retry as 'maxAttempts' must be a positive integer`);
  }
  if (minTimeout > maxTimeout) {
    throw new RangeError(`Cannot retry as 'minTimeout' must be <= 'maxTimeout'`);
  }
  let attempt = 0;
  while (true) {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (error) {
      if (!isRetriable(error)) throw error;
      if (attempt + 1 >= maxAttempts) throw new RetryError(error, maxAttempts);
      const backoff = Math.min(maxTimeout, minTimeout * multiplier ** attempt);
      await delay(Math.round((1 - jitter * Math.random()) * backoff), signal ? { signal } : {});
    }
    attempt++;
  }
}
