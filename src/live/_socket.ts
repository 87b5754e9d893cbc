/**
 * One WebSocket connection as an async source of text frames that always ends: on close,
 * error, connect timeout, silence (no frame for `silenceMs`), the connection-age limit, an
 * inbound overflow, or the signal. `close()` waits for the socket's close event (bounded), so
 * nothing is left open.
 *
 * @module
 */

/** Options of {@linkcode SocketSource}. */
export interface SocketSourceOptions {
  connectTimeoutMs: number;
  silenceMs: number;
  maxAgeMs: number;
  /** Frames buffered while the reader is busy (e.g. repairing) before the connection is dropped. */
  maxInbound: number;
  /** Bound on waiting for the close handshake. */
  closeTimeoutMs: number;
  signal: AbortSignal;
}

/** A connection's frames. */
export class SocketSource {
  readonly #ws: WebSocket;
  readonly #options: SocketSourceOptions;
  readonly #inbound: unknown[] = [];
  #head = 0;
  #wake: (() => void) | undefined;
  #endReason: string | undefined;
  #silence: ReturnType<typeof setTimeout> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed: Promise<void>;
  /** Resolves true once open, false if the connection ended first. */
  readonly opened: Promise<boolean>;

  constructor(url: string, options: SocketSourceOptions) {
    this.#options = options;
    this.#ws = new WebSocket(url);
    let markClosed!: () => void;
    this.#closed = new Promise<void>((r) => markClosed = r);
    let markOpen!: (open: boolean) => void;
    this.opened = new Promise<boolean>((r) => markOpen = r);
    this.#timer = setTimeout(
      () => this.#end(`no connection within ${options.connectTimeoutMs} ms`),
      options.connectTimeoutMs,
    );
    this.#ws.onopen = () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(
        () => this.#end(`connection age limit (${options.maxAgeMs} ms)`),
        options.maxAgeMs,
      );
      this.#armSilence();
      markOpen(true);
    };
    this.#ws.onmessage = (e) => {
      if (this.#endReason !== undefined) return;
      this.#armSilence();
      if (this.size >= options.maxInbound) {
        this.#end(`more than ${options.maxInbound} frames waiting`);
        return;
      }
      this.#inbound.push(e.data);
      this.#notify();
    };
    this.#ws.onerror = () => this.#end("socket error");
    this.#ws.onclose = (e) => {
      this.#end(`closed by the server (code ${e.code}${e.reason ? `, ${e.reason}` : ""})`);
      markClosed();
    };
    options.signal.addEventListener("abort", this.#onAbort, { once: true });
    void this.#closed.then(() => markOpen(false));
    if (options.signal.aborted) this.#onAbort();
  }

  #onAbort = (): void => this.#end("disposed");

  get size(): number {
    return this.#inbound.length - this.#head;
  }

  /** Why the connection ended (undefined while it is live). */
  get endReason(): string | undefined {
    return this.#endReason;
  }

  #armSilence(): void {
    clearTimeout(this.#silence);
    this.#silence = setTimeout(
      () => this.#end(`silent for ${this.#options.silenceMs} ms`),
      this.#options.silenceMs,
    );
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** Ends the connection (first reason wins) and starts closing the socket. */
  #end(reason: string): void {
    if (this.#endReason !== undefined) return;
    this.#endReason = reason;
    clearTimeout(this.#timer);
    clearTimeout(this.#silence);
    this.#options.signal.removeEventListener("abort", this.#onAbort);
    this.#inbound.length = 0;
    this.#head = 0;
    const ws = this.#ws;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) {
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    }
    this.#notify();
  }

  /** Ends the connection on the caller's behalf (e.g. a `serverShutdown` event). */
  end(reason: string): void {
    this.#end(reason);
  }

  /** The next frame, or undefined once the connection ended. */
  async next(): Promise<unknown> {
    for (;;) {
      if (this.#endReason !== undefined) return undefined;
      if (this.#head < this.#inbound.length) {
        const f = this.#inbound[this.#head];
        this.#inbound[this.#head++] = undefined;
        if (this.#head === this.#inbound.length) {
          this.#inbound.length = 0;
          this.#head = 0;
        }
        return f;
      }
      await new Promise<void>((r) => this.#wake = r);
    }
  }

  /** Ends the connection and waits (bounded) until the socket is closed. */
  async close(reason = "closed by the client"): Promise<void> {
    this.#end(reason);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closed,
      new Promise<void>((r) => timer = setTimeout(r, this.#options.closeTimeoutMs)),
    ]);
    clearTimeout(timer);
  }
}
