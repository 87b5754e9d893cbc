/**
 * The replica's lifecycle: requests in flight, the bodies disposal must cut, and a disposal
 * that is bounded even when clients misbehave.
 *
 * @module
 */

/** The parts disposal stops, in order. */
export interface Shutdown {
  /** Stops what runs beside the server (live feed, generation); awaited after the server. */
  stop(): Promise<void>;
  /** Settles when the cancelled server has finished. */
  finished(): Promise<void>;
  /** The last step, even when the server outlived the budget. */
  cleanup(): void;
}

/** Open/closed state, in-flight count and kill switches of one replica. */
export class Lifecycle {
  readonly #disposeAbort = new AbortController();
  readonly #serveAbort = new AbortController();
  readonly #kills = new Set<() => void>();
  #inFlight = 0;
  #disposePromise: Promise<void> | undefined;

  /** Aborted when disposal starts: stalls, latency waits and log waiters end. */
  get disposed(): AbortSignal {
    return this.#disposeAbort.signal;
  }

  /** The server's signal: aborted (cancelled, not drained) during disposal. */
  get serveSignal(): AbortSignal {
    return this.#serveAbort.signal;
  }

  get closed(): boolean {
    return this.#disposePromise !== undefined;
  }

  /** Requests in flight (headers pending or body still streaming). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** A request starts; returns its end (count it once). */
  enter(): () => void {
    this.#inFlight++;
    return () => this.#inFlight--;
  }

  /** Registers a body's kill switch; returns its deregistration. */
  track(kill: () => void): () => void {
    this.#kills.add(kill);
    return () => this.#kills.delete(kill);
  }

  /** Disposes once (later calls share the first promise); `budgetMs` bounds the server wait. */
  close(budgetMs: number, shutdown: Shutdown): Promise<void> {
    this.#disposePromise ??= this.#dispose(budgetMs, shutdown);
    return this.#disposePromise;
  }

  async #dispose(budget: number, shutdown: Shutdown): Promise<void> {
    // Stalls, latency waits and waiters end; bodies in flight are cut.
    this.#disposeAbort.abort(new Error("Replica disposed"));
    const stopped = shutdown.stop();
    for (const kill of [...this.#kills]) kill();
    // Then the server is cancelled, not drained: a graceful shutdown waits on connections whose
    // client stopped reading (the socket write never completes), and once it has started the
    // server can no longer be cancelled.
    this.#serveAbort.abort();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        shutdown.finished(),
        new Promise<void>((resolve) => timer = setTimeout(resolve, budget)),
      ]);
    } finally {
      clearTimeout(timer);
      await stopped;
      shutdown.cleanup();
    }
  }
}
