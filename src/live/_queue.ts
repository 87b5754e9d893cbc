/**
 * The bounded queue between the socket and the consumer, with the backpressure policy:
 * open-candle updates are coalesced per symbol (a newer one replaces a queued one) and dropped
 * when the queue is full; closed candles are never dropped — when they fill the queue the
 * producer is told to pause (the stream then closes its socket and repairs from REST later).
 *
 * @module
 */
import type { KlineUpdate } from "./types.ts";

/** The queue; one producer, one consumer. */
export class UpdateQueue {
  readonly capacity: number;
  #items: (KlineUpdate | undefined)[] = [];
  #head = 0;
  /** symbol → absolute index of its queued open update. */
  #openAt = new Map<string, number>();
  #wakeConsumer: (() => void) | undefined;
  #wakeProducer: (() => void) | undefined;
  #ended = false;
  dropped = 0;
  highWater = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Adds a closed candle (always); true when the queue is now full (the producer should pause). */
  pushClosed(u: KlineUpdate): boolean {
    const queued = this.#openAt.get(u.symbol);
    // The open update of the candle that just closed is stale: the closed one supersedes it.
    if (queued !== undefined && this.#items[queued]?.openTime === u.openTime) {
      this.#items[queued] = u;
      this.#openAt.delete(u.symbol);
      this.dropped++;
    } else {
      this.#add(u);
    }
    this.#wake();
    return this.size >= this.capacity;
  }

  /** Adds an open-candle update, coalescing with a queued one, or drops it when full. */
  pushOpen(u: KlineUpdate): void {
    const queued = this.#openAt.get(u.symbol);
    if (queued !== undefined) {
      this.#items[queued] = u;
      this.dropped++;
      return;
    }
    if (this.size >= this.capacity) {
      this.dropped++;
      return;
    }
    this.#openAt.set(u.symbol, this.#items.length);
    this.#add(u);
    this.#wake();
  }

  #add(u: KlineUpdate): void {
    this.#items.push(u);
    if (this.size > this.highWater) this.highWater = this.size;
  }

  #wake(): void {
    const w = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    w?.();
  }

  /** The next item, or undefined when empty. */
  shift(): KlineUpdate | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const i = this.#head;
    const u = this.#items[i]!;
    this.#items[i] = undefined;
    this.#head++;
    if (this.#openAt.get(u.symbol) === i) this.#openAt.delete(u.symbol);
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) this.#compact();
    if (this.size <= this.capacity >> 1) {
      const w = this.#wakeProducer;
      this.#wakeProducer = undefined;
      w?.();
    }
    return u;
  }

  #compact(): void {
    const shift = this.#head;
    this.#items = this.#items.slice(shift);
    this.#head = 0;
    for (const [s, i] of this.#openAt) this.#openAt.set(s, i - shift);
  }

  /** Resolves when an item is queued or the queue ended. */
  whenItem(): Promise<void> {
    if (this.size > 0 || this.#ended) return Promise.resolve();
    return new Promise((resolve) => this.#wakeConsumer = resolve);
  }

  /** Resolves once the queue is at most half full (or ended); rejects when `signal` aborts. */
  whenDrained(signal: AbortSignal): Promise<void> {
    if (this.size <= this.capacity >> 1 || this.#ended) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#wakeProducer = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
    });
  }

  /** No more items will come: wakes both sides; clears what is left. */
  end(): void {
    this.#ended = true;
    this.#items = [];
    this.#head = 0;
    this.#openAt.clear();
    this.#wake();
    const w = this.#wakeProducer;
    this.#wakeProducer = undefined;
    w?.();
  }
}
