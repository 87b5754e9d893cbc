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
  const { onChunk } = options;
  if (!res.body) return;
  await withBodyReader(res, res.body, options, "default", async (reader, read) => {
    while (true) {
      const result = await read(reader.read());
      if (result.done) return;
      const pending = onChunk?.(result.value);
      if (pending instanceof Promise) await pending;
    }
  });
}

/** Options for {@linkcode readBodyInto}. */
export interface ReadBodyIntoOptions {
  /** Aborting it stops the read at once; the promise rejects with the signal's reason. */
  signal: AbortSignal;
  /** No bytes within this many ms → {@linkcode RequestTimeoutError} (`phase: "body"`). */
  idleTimeoutMs?: number;
  /**
   * Called with each newly filled part of the buffer, in order (e.g. to hash it). A throw
   * stops the read and cancels the body.
   */
  onChunk?: (chunk: Uint8Array) => void;
  /** The URL, for error messages. @default {res.url} */
  url?: string;
}

/**
 * Reads a body of known length (`buffer.length` bytes, e.g. its `Content-Length`) straight
 * into `buffer`: through a BYOB reader when the body is a byte stream — as `fetch` bodies
 * are — so no chunk is allocated and nothing is copied; otherwise chunk by chunk. `buffer`
 * is detached by the read (its memory moves into the result): use only the returned view.
 *
 * Errors as {@linkcode readBody}; a body shorter or longer than `buffer` is a
 * {@linkcode NetworkError} (`phase: "body"`, transient: a cut or garbled transfer).
 *
 * @example
 * ```ts
 * import { readBodyInto } from "./fetch.ts";
 * const bytes = await readBodyInto(new Response("abc"), new Uint8Array(3), {
 *   signal: new AbortController().signal,
 * });
 * // new TextDecoder().decode(bytes) === "abc"
 * ```
 */
export async function readBodyInto(
  res: Response,
  buffer: Uint8Array,
  options: ReadBodyIntoOptions,
): Promise<Uint8Array> {
  const { onChunk } = options;
  const url = options.url ?? res.url;
  const length = buffer.length;
  const wrongLength = (got: string) =>
    new NetworkError(url, "body", {
      cause: new Error(`body of ${got} bytes, ${length} expected (Content-Length)`),
    });
  if (!res.body) {
    if (length !== 0) throw wrongLength("0");
    return buffer;
  }
  let byob = true;
  try {
    // Probe only: a body that is not a byte stream throws here, without being locked.
    res.body.getReader({ mode: "byob" }).releaseLock();
  } catch {
    byob = false;
  }
  if (!byob) {
    let at = 0;
    await readBody(res, {
      ...options,
      onChunk: (chunk) => {
        if (at + chunk.length > length) throw wrongLength(`more than ${length}`);
        buffer.set(chunk, at);
        onChunk?.(buffer.subarray(at, at + chunk.length));
        at += chunk.length;
      },
    });
    if (at !== length) throw wrongLength(String(at));
    return buffer;
  }
  return await withBodyReader(res, res.body, options, "byob", async (reader, read) => {
    let view = buffer;
    let at = 0;
    while (at < length) {
      const free = new Uint8Array(view.buffer, view.byteOffset + at, length - at);
      const { done, value } = await read(reader.read(free));
      // The read hands the (transferred) buffer back, filled at `at`, even when done.
      if (value) view = new Uint8Array(value.buffer, value.byteOffset - at, length);
      if (done || !value) throw wrongLength(String(at));
      onChunk?.(value);
      at += value.length;
    }
    // Exactly `length` bytes so far: the body must end here.
    const tail = await read(reader.read(new Uint8Array(1)));
    if (!tail.done) throw wrongLength(`more than ${length}`);
    return view;
  });
}

type BodyReader<M extends "default" | "byob"> = M extends "byob" ? ReadableStreamBYOBReader
  : ReadableStreamDefaultReader<Uint8Array>;

/**
 * Runs `loop` with a reader of `body` (`res.body`) and a `read` wrapper that races each read against
 * the signal and the idle timer, normalising errors. On any failure the body is cancelled
 * before the promise rejects; the lock is always released and no timer outlives the call.
 */
async function withBodyReader<M extends "default" | "byob", R>(
  res: Response,
  body: ReadableStream<Uint8Array>,
  options: { signal: AbortSignal; idleTimeoutMs?: number; url?: string },
  mode: M,
  loop: (
    reader: BodyReader<M>,
    read: <T>(p: Promise<ReadableStreamReadResult<T>>) => Promise<ReadableStreamReadResult<T>>,
  ) => Promise<R>,
): Promise<R> {
  const { signal, idleTimeoutMs } = options;
  const url = options.url ?? res.url;
  if (signal.aborted) {
    await cancelBody(res);
    throw signal.reason;
  }
  const reader: BodyReader<M> = mode === "byob"
    ? body.getReader({ mode: "byob" }) as BodyReader<M>
    : body.getReader() as BodyReader<M>;
  const idle = idleTimeoutMs !== undefined && Number.isFinite(idleTimeoutMs);
  // One promise rejected by abort or by the idle timer, raced against each read.
  let fail!: (err: unknown) => void;
  const failed = new Promise<never>((_, reject) => fail = reject);
  failed.catch(() => {});
  const onAbort = () => fail(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const read = async <T>(
    pending: Promise<ReadableStreamReadResult<T>>,
  ): Promise<ReadableStreamReadResult<T>> => {
    if (idle) {
      timer = setTimeout(
        () => fail(new RequestTimeoutError(url, "body", idleTimeoutMs!)),
        Math.max(0, idleTimeoutMs!),
      );
    }
    try {
      return await Promise.race([pending, failed]);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof RequestTimeoutError) throw err;
      throw new NetworkError(url, "body", { cause: err });
    } finally {
      clearTimeout(timer); // the consumer's time is not the server's stall
    }
  };
  let done = false;
  try {
    const result = await loop(reader, read);
    done = true;
    return result;
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
 * import { HttpStatusError } from "@vision-data/client";
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
