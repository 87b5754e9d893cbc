/**
 * An HTTP session: the set of in-flight requests and unread response bodies of one
 * client, all linked to one signal, so closing it leaves nothing running or open.
 *
 * @module
 */
import { ClientClosedError } from "../errors.ts";
import { cancelBody, fetchResponse, readBody, readBodyInto } from "./fetch.ts";

/** Options for {@linkcode HttpSession}. */
export interface HttpSessionOptions {
  /** Name used in errors (e.g. the owning client's). @default {"HttpSession"} */
  name?: string;
  /** Default header timeout for {@linkcode HttpSession.fetch}, in ms. */
  headersTimeoutMs?: number;
  /** Default idle timeout for {@linkcode HttpSession.readBody}, in ms. */
  idleTimeoutMs?: number;
  /** The HTTP client to send through, resolved per request (it may be created lazily). */
  client?: () => Deno.HttpClient | undefined;
}

/** Per-request options of {@linkcode HttpSession.fetch}. */
export interface SessionFetchOptions {
  /** Aborts this request (the session's close aborts it too). */
  signal?: AbortSignal;
  /** Overrides the session's header timeout. */
  headersTimeoutMs?: number;
  /** Request headers. */
  headers?: HeadersInit;
  /** Statuses returned instead of thrown (see `fetchResponse`). */
  acceptStatus?: (status: number) => boolean;
}

/** Per-read options of {@linkcode HttpSession.readBody}. */
export interface SessionReadOptions {
  /** Aborts this read (the session's close aborts it too). */
  signal?: AbortSignal;
  /** Overrides the session's idle timeout. */
  idleTimeoutMs?: number;
  /** Receives each chunk; a returned promise is awaited (backpressure). */
  onChunk?: (chunk: Uint8Array) => unknown;
}

/**
 * Tracks every response whose body is not consumed yet; {@linkcode HttpSession.close}
 * aborts all requests and cancels those bodies. Closing is idempotent.
 *
 * @example
 * ```ts ignore
 * import { HttpSession } from "./session.ts";
 * const session = new HttpSession({ headersTimeoutMs: 10_000, idleTimeoutMs: 10_000 });
 * const res = await session.fetch("http://127.0.0.1:8080/a.zip");
 * await session.readBody(res, { onChunk: (c) => console.log(c.length) });
 * await session.close();
 * ```
 */
export class HttpSession implements AsyncDisposable {
  /** Name used in errors. */
  readonly name: string;
  readonly #controller = new AbortController();
  readonly #open = new Set<Response>();
  readonly #options: HttpSessionOptions;
  #closing: Promise<void> | undefined;
  #requests = 0;

  /** @param options timeouts, HTTP client, name */
  constructor(options: HttpSessionOptions = {}) {
    this.#options = options;
    this.name = options.name ?? "HttpSession";
  }

  /** Aborted when the session closes. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Responses whose body has not been consumed or cancelled yet. */
  get openResponses(): number {
    return this.#open.size;
  }

  /** Requests sent through the session (each `fetch` call). */
  get requests(): number {
    return this.#requests;
  }

  /** Whether {@linkcode HttpSession.close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  #link(signal?: AbortSignal): AbortSignal {
    return signal ? AbortSignal.any([this.#controller.signal, signal]) : this.#controller.signal;
  }

  /**
   * Sends a GET through the session; the response stays tracked until its body is read
   * with {@linkcode HttpSession.readBody} or cancelled with {@linkcode HttpSession.discard}.
   * Rejects with `ClientClosedError` once the session is closed.
   */
  async fetch(url: string, options: SessionFetchOptions = {}): Promise<Response> {
    if (this.closed) throw new ClientClosedError(this.name);
    const signal = this.#link(options.signal);
    this.#requests++;
    let res: Response;
    try {
      res = await fetchResponse(url, {
        signal,
        headersTimeoutMs: options.headersTimeoutMs ?? this.#options.headersTimeoutMs,
        headers: options.headers,
        client: this.#options.client?.(),
        acceptStatus: options.acceptStatus,
      });
    } catch (err) {
      throw this.#normalize(err, options.signal);
    }
    if (this.closed) {
      // Closed while the headers were on their way: nobody will read this body.
      await cancelBody(res);
      throw new ClientClosedError(this.name);
    }
    this.#open.add(res);
    return res;
  }

  /** Streams a tracked response's body (see `readBody`), then stops tracking it. */
  readBody(res: Response, options: SessionReadOptions = {}): Promise<void> {
    return this.#read(res, options, (o) => readBody(res, { ...o, onChunk: options.onChunk }));
  }

  /**
   * Reads a tracked response's body of known length straight into `buffer` (see
   * `readBodyInto`: `buffer` is detached, use the returned view), then stops tracking it.
   */
  readBodyInto(
    res: Response,
    buffer: Uint8Array,
    options: Omit<SessionReadOptions, "onChunk"> & { onChunk?: (chunk: Uint8Array) => void } = {},
  ): Promise<Uint8Array> {
    return this.#read(
      res,
      options,
      (o) => readBodyInto(res, buffer, { ...o, onChunk: options.onChunk }),
    );
  }

  /** Runs a body read linked to the session, normalizing its errors; always untracks `res`. */
  async #read<T>(
    res: Response,
    options: { signal?: AbortSignal; idleTimeoutMs?: number },
    read: (o: { signal: AbortSignal; idleTimeoutMs?: number }) => Promise<T>,
  ): Promise<T> {
    try {
      return await read({
        signal: this.#link(options.signal),
        idleTimeoutMs: options.idleTimeoutMs ?? this.#options.idleTimeoutMs,
      });
    } catch (err) {
      throw this.#normalize(err, options.signal);
    } finally {
      this.#open.delete(res);
    }
  }

  /** Cancels a response body that will not be read, and stops tracking it. */
  async discard(res: Response): Promise<void> {
    this.#open.delete(res);
    await cancelBody(res);
  }

  /** The caller's abort wins over the session's (whose reason is a `ClientClosedError`). */
  #normalize(err: unknown, caller?: AbortSignal): unknown {
    return caller?.aborted ? caller.reason : err;
  }

  /**
   * Aborts every request and body read of the session, then cancels the bodies nobody
   * read. Every call returns the same promise.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    this.#controller.abort(new ClientClosedError(this.name));
    const bodies = [...this.#open];
    this.#open.clear();
    await Promise.all(bodies.map(cancelBody));
  }

  /** Same as {@linkcode HttpSession.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
