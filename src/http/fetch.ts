/**
 * `fetch` that never hangs and never leaks: every request and body read is linked to a
 * signal, stalls become typed retriable errors, and every path that does not hand the
 * body to the caller cancels it (an unread body is a leaked resource in Deno).
 *
 * @module
 */
import { retry, RetryError } from "@std/async";
import { HttpStatusError, NetworkError, RequestTimeoutError } from "../errors.ts";

/** Options for {@linkcode fetchResponse}. */
export interface FetchOptions {
  /** Linked: aborting it aborts the request and any later read of the body. */
  signal: AbortSignal;
  /** No response headers within this many ms → {@linkcode RequestTimeoutError} (retriable). */
  headersTimeoutMs?: number;
  /** Request headers. */
  headers?: HeadersInit;
  /** The HTTP client (connection pool) to send through. */
  client?: Deno.HttpClient;
  /** HTTP method. @default {"GET"} */
  method?: string;
  /**
   * Statuses handed back as a `Response` instead of thrown as {@linkcode HttpStatusError}.
   * The caller then owns the body and must read or cancel it. @default {2xx only}
   */
  acceptStatus?: (status: number) => boolean;
}

const isOk = (status: number): boolean => status >= 200 && status < 300;

/**
 * Sends a request and resolves with the response once its headers arrived.
 *
 * Rejects with the signal's reason when aborted, {@linkcode RequestTimeoutError}
 * (`phase: "headers"`) when headers do not come in time, {@linkcode NetworkError} on a
 * transport failure, and {@linkcode HttpStatusError} (body cancelled first) for a status
 * that `acceptStatus` refuses — 404/403 included: the caller decides what "absent" means.
 *
 * @example
 * ```ts ignore
 * import { fetchResponse, readBody } from "./fetch.ts";
 * const ac = new AbortController();
 * const res = await fetchResponse("http://127.0.0.1:8080/x", { signal: ac.signal, headersTimeoutMs: 5000 });
 * await readBody(res, { signal: ac.signal, idleTimeoutMs: 5000, onChunk: (c) => console.log(c.length) });
 * ```
 */
export async function fetchResponse(url: string, options: FetchOptions): Promise<Response> {
  const { signal, headersTimeoutMs, headers, client, method = "GET", acceptStatus = isOk } =
    options;
  signal.throwIfAborted();
  const timeout = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (headersTimeoutMs !== undefined && Number.isFinite(headersTimeoutMs)) {
    timer = setTimeout(
      () => timeout.abort(new RequestTimeoutError(url, "headers", headersTimeoutMs)),
      Math.max(0, headersTimeoutMs),
    );
  }
  // The timeout controller is never aborted once headers are in, so the body stays linked
  // to the caller's signal only.
  const linked = timer === undefined ? signal : AbortSignal.any([signal, timeout.signal]);
  let res: Response;
  try {
    res = await fetch(url, { method, signal: linked, headers, client });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (timeout.signal.aborted) throw timeout.signal.reason;
    throw new NetworkError(url, "headers", { cause: err });
  } finally {
    clearTimeout(timer);
  }
  if (!acceptStatus(res.status)) {
    await cancelBody(res);
    throw new HttpStatusError(url, res.status, res.statusText);
  }
  if (signal.aborted) {
    await cancelBody(res);
    throw signal.reason;
  }
  return res;
}

/**
 * Cancels a response body that will not be read, swallowing errors (the stream may be
 * already closed or errored).
 *
 * @example
 * ```ts ignore
 * import { cancelBody } from "./fetch.ts";
 * await cancelBody(new Response("unused"));
 * ```
 */
export async function cancelBody(res: Response): Promise<void> {
  if (!res.body || res.bodyUsed) return;
  try {
    await res.body.cancel();
  } catch {
    // Already errored or locked: nothing left to release.
  }
}

/** Options for {@linkcode readBody}. */
export interface ReadBodyOptions {
  /** Aborting it stops the read at once; the promise rejects with the signal's reason. */
  signal: AbortSignal;
  /** No chunk within this many ms → {@linkcode RequestTimeoutError} (`phase: "body"`). */
  idleTimeoutMs?: number;
  /**
   * Called with each chunk, in order; a returned promise is awaited before the next read
   * (backpressure, e.g. writing to a file). A throw stops the read and cancels the body.
   */
  onChunk?: (chunk: Uint8Array) => unknown;
  /** The URL, for error messages. @default {res.url} */
  url?: string;
}

/**
 * Streams a response body to `onChunk` with a per-chunk idle timeout. On every failure
 * (abort, stall, transport error, `onChunk` throwing) the body is cancelled before the
 * promise rejects; no timer outlives the call.
 *
 * Errors: the signal's reason when aborted (platform `Interrupted`/`BadResource` errors
 * are normalised to it), {@linkcode RequestTimeoutError} on a stall, {@linkcode NetworkError}
 * on a transport failure (reset, truncated body).
 *
 * @example
 * ```ts
 * import { readBody } from "./fetch.ts";
 * let n = 0;
 * await readBody(new Response("abc"), { signal: new AbortController().signal, onChunk: (c) => n += c.length });
 * // n === 3
 * ```
 */
export async function readBody(res: Response, options: ReadBodyOptions): Promise<void> {
  const { signal, idleTimeoutMs, onChunk } = options;
  const url = options.url ?? res.url;
  if (!res.body) return;
  if (signal.aborted) {
    await cancelBody(res);
    throw signal.reason;
  }
  const reader = res.body.getReader();
  const idle = idleTimeoutMs !== undefined && Number.isFinite(idleTimeoutMs);
  // One promise rejected by abort or by the idle timer, raced against each read.
  let fail!: (err: unknown) => void;
  const failed = new Promise<never>((_, reject) => fail = reject);
  failed.catch(() => {});
  const onAbort = () => fail(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    if (!idle) return;
    clearTimeout(timer);
    timer = setTimeout(
      () => fail(new RequestTimeoutError(url, "body", idleTimeoutMs!)),
      Math.max(0, idleTimeoutMs!),
    );
  };
  let done = false;
  try {
    while (true) {
      arm();
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await Promise.race([reader.read(), failed]);
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (err instanceof RequestTimeoutError) throw err;
        throw new NetworkError(url, "body", { cause: err });
      }
      if (result.done) break;
      clearTimeout(timer); // the consumer's time is not the server's stall
      const pending = onChunk?.(result.value);
      if (pending instanceof Promise) await pending;
    }
    done = true;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    if (!done) {
      // Releases the connection; a pending read settles as done and is dropped.
      await reader.cancel().catch(() => {});
    }
    reader.releaseLock();
  }
}

/**
 * Whether an error is worth another attempt: 5xx and 408 {@linkcode HttpStatusError},
 * {@linkcode NetworkError} (resets, truncated bodies), {@linkcode RequestTimeoutError}
 * (stalled headers or body) and raw platform connection errors. Aborts are never transient.
 *
 * @example
 * ```ts
 * import { isTransientError } from "./fetch.ts";
 * import { HttpStatusError } from "../errors.ts";
 * isTransientError(new HttpStatusError("https://x", 503)); // true
 * isTransientError(new HttpStatusError("https://x", 404)); // false
 * ```
 */
export function isTransientError(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 408;
  if (err instanceof NetworkError || err instanceof RequestTimeoutError) return true;
  return err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.ConnectionAborted ||
    err instanceof Deno.errors.ConnectionRefused ||
    err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.UnexpectedEof;
}

/** Options for {@linkcode retryTransient}. */
export interface RetryTransientOptions {
  /** Aborts the waits between attempts and prevents new ones. */
  signal: AbortSignal;
  /** Total attempts, the first included. @default {3} */
  maxAttempts?: number;
  /** First backoff, in ms. @default {200} */
  minTimeoutMs?: number;
  /** Longest backoff, in ms. @default {5000} */
  maxTimeoutMs?: number;
  /** Which errors to retry. @default {isTransientError} */
  isRetriable?: (err: unknown) => boolean;
}

/**
 * Runs `fn`, retrying transient failures with exponential backoff and jitter (`retry`
 * from `@std/async`). When attempts run out the last error itself is thrown (not
 * `RetryError`); an abort rejects with the signal's reason at once.
 *
 * @example
 * ```ts
 * import { retryTransient } from "./fetch.ts";
 * const v = await retryTransient(() => Promise.resolve(1), { signal: new AbortController().signal });
 * ```
 */
export async function retryTransient<T>(
  fn: () => Promise<T>,
  options: RetryTransientOptions,
): Promise<T> {
  const {
    signal,
    maxAttempts = 3,
    minTimeoutMs = 200,
    maxTimeoutMs = 5000,
    isRetriable = isTransientError,
  } = options;
  try {
    return await retry(fn, {
      signal,
      maxAttempts: Math.max(1, Math.floor(maxAttempts)),
      minTimeout: Math.min(minTimeoutMs, maxTimeoutMs),
      maxTimeout: maxTimeoutMs,
      multiplier: 2,
      jitter: 0.5,
      isRetriable: (err) => !signal.aborted && isRetriable(err),
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    if (err instanceof RetryError) throw err.cause;
    throw err;
  }
}
