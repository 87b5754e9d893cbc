/**
 * The replica's request log: one live entry per HTTP request (in-flight ones keep updating),
 * bounded, and `waitFor` resolving on the first entry a predicate accepts.
 *
 * @module
 */
import type { RequestLogEntry } from "./_types.ts";

/** What the log needs of the replica's lifecycle. */
export interface LogContext {
  /** Most entries kept (`ReplicaOptions.maxLogEntries`); the oldest go first. */
  maxEntries: number;
  /** Whether disposal has started (no new waits). */
  closed(): boolean;
  /** Aborted at disposal: pending waits reject with its reason. */
  disposed: AbortSignal;
}

/** The log behind `replica.requests` and `replica.waitFor`. */
export class RequestLog {
  /** The entries, oldest first (`replica.requests`). */
  readonly entries: RequestLogEntry[] = [];
  readonly #ctx: LogContext;
  readonly #waiters = new Set<
    { test: (e: RequestLogEntry) => boolean; resolve: (e: RequestLogEntry) => void }
  >();
  #nextId = 1;

  constructor(ctx: LogContext) {
    this.#ctx = ctx;
  }

  /** A new entry for a request, appended to the log. */
  open(req: Request, url: URL): RequestLogEntry {
    const entry: RequestLogEntry = {
      id: this.#nextId++,
      method: req.method,
      path: url.pathname,
      query: url.search.slice(1),
      route: "other",
      status: 0,
      bytes: 0,
      durationMs: 0,
      aborted: false,
      state: "waiting",
      startedAt: Date.now(),
    };
    const max = this.#ctx.maxEntries;
    if (this.entries.length >= max) this.entries.splice(0, this.entries.length - max + 1);
    this.entries.push(entry);
    return entry;
  }

  /** The entry changed: waiters whose predicate now accepts it resolve. */
  notify(entry: RequestLogEntry): void {
    for (const w of [...this.#waiters]) if (w.test(entry)) w.resolve(entry);
  }

  /** Empties the log (pending waiters keep waiting). */
  clear(): void {
    this.entries.length = 0;
  }

  /** The first entry, existing or future, the predicate accepts; rejects at disposal. */
  waitFor(
    predicate: (e: RequestLogEntry) => boolean,
    options: { signal?: AbortSignal } = {},
  ): Promise<RequestLogEntry> {
    const found = this.entries.find(predicate);
    if (found) return Promise.resolve(found);
    if (this.#ctx.closed()) return Promise.reject(new Error("Replica is closed"));
    const disposed = this.#ctx.disposed;
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      const waiter = {
        test: predicate,
        resolve: (e: RequestLogEntry) => {
          cleanup();
          resolve(e);
        },
      };
      const onAbort = () => {
        cleanup();
        reject(signal?.reason ?? disposed.reason);
      };
      const cleanup = () => {
        this.#waiters.delete(waiter);
        signal?.removeEventListener("abort", onAbort);
        disposed.removeEventListener("abort", onAbort);
      };
      if (signal?.aborted) return onAbort();
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
      disposed.addEventListener("abort", onAbort, { once: true });
    });
  }
}
