/**
 * Client-side request-weight pacing: keep the weight used in any window under the
 * server's limit before the server has to say no (429), and reconcile with the
 * `X-MBX-USED-WEIGHT-1M` header the server sends back.
 *
 * @module
 */
import { abortable, delay } from "@std/async";
import { numberOption } from "../_options.ts";

const POSITIVE = { min: 0, exclusiveMin: true } as const;

/** Options for {@linkcode WeightBudget}. */
export interface WeightBudgetOptions {
  /** The server's weight limit per window. */
  limit: number;
  /** The window length in ms. @default {60000} */
  windowMs?: number;
  /** Share of `limit` we allow ourselves (room for other clients and in-flight skew). @default {0.9} */
  safety?: number;
  /** Monotonic clock in ms (tests). @default {performance.now} */
  clock?: () => number;
  /** Abortable sleep (tests). @default {delay from @std/async} */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** What the budget did, for benches and logs. */
export interface WeightBudgetStats {
  /** Weight reserved so far (ours only). */
  reserved: number;
  /** How many times the head of the queue had to wait. */
  waits: number;
  /** Wall-clock ms during which requests were held back (the head's sleeps; never double-counted). */
  waitMs: number;
  /** Largest server-reported used weight seen. */
  maxObserved: number;
}

interface Entry {
  t: number;
  w: number;
}

/**
 * A sliding-window weight budget. {@linkcode WeightBudget.reserve} grants weight in FIFO
 * order and sleeps (abortably) until the window has room; a sliding window of length W
 * under the cap also keeps every fixed window of length W (Binance's minute) under it.
 *
 * @example
 * ```ts
 * import { WeightBudget } from "./_weight_budget.ts";
 * const budget = new WeightBudget({ limit: 6000 });
 * const settle = await budget.reserve(2);
 * settle(); // when the answer arrives
 * ```
 */
export class WeightBudget {
  readonly #cap: number;
  readonly #windowMs: number;
  readonly #clock: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  #entries: Entry[] = [];
  #tail: Promise<void> = Promise.resolve();
  #blockedUntil = -Infinity;
  readonly #stats: WeightBudgetStats = { reserved: 0, waits: 0, waitMs: 0, maxObserved: 0 };

  /** @param options the server limit, window and safety margin */
  constructor(options: WeightBudgetOptions) {
    const limit = numberOption("weightBudgetPerMinute", options.limit, 0, POSITIVE);
    const windowMs = numberOption("weightWindowMs", options.windowMs, 60_000, POSITIVE);
    const safety = numberOption("weightSafety", options.safety, 0.9, { ...POSITIVE, max: 1 });
    this.#cap = Math.max(1, Math.floor(limit * safety));
    this.#windowMs = windowMs;
    this.#clock = options.clock ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((ms, signal) => delay(ms, signal ? { signal } : {}));
  }

  /** The weight we allow ourselves per window (limit × safety). */
  get capacity(): number {
    return this.#cap;
  }

  /** A snapshot of the counters. */
  get stats(): WeightBudgetStats {
    return { ...this.#stats };
  }

  /** Weight counted in the current window (ours plus what the server reported beyond it). */
  used(): number {
    this.#prune(this.#clock());
    return this.#sum();
  }

  /**
   * Waits until `weight` fits in the window, then records it. FIFO: a later caller never
   * overtakes an earlier one. Rejects with the signal's reason when aborted (nothing is
   * recorded then).
   *
   * Resolves with a `settle()` callback to call when the answer arrives: the server counted
   * the request at some instant between send and answer, so re-stamping the entry with the
   * answer's time keeps our window a superset of the server's whatever the network delay
   * (without it, a slow batch followed by a fast one overshoots at the window's edge).
   */
  async reserve(weight: number, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise((r) => release = r);
    try {
      await (signal ? abortable(prev, signal) : prev);
      for (;;) {
        signal?.throwIfAborted();
        const now = this.#clock();
        const wait = this.#waitFor(weight, now);
        if (wait <= 0) {
          const entry = { t: now, w: weight };
          this.#entries.push(entry);
          this.#stats.reserved += weight;
          return () => this.#restamp(entry);
        }
        this.#stats.waits++;
        try {
          await this.#sleep(wait, signal);
        } finally {
          this.#stats.waitMs += Math.max(0, this.#clock() - now);
        }
      }
    } finally {
      // Hand the turn on only once our predecessor is done, so an aborted waiter cannot let
      // its successor run alongside a still-waiting head.
      prev.then(release);
    }
  }

  /**
   * Reconciles with the server's `X-MBX-USED-WEIGHT-1M`: weight the server counted beyond
   * our own (other clients on the IP, requests before we started) is added to the window.
   */
  observe(usedWeight: number): void {
    if (!Number.isFinite(usedWeight) || usedWeight < 0) return;
    this.#stats.maxObserved = Math.max(this.#stats.maxObserved, usedWeight);
    const now = this.#clock();
    this.#prune(now);
    const extra = usedWeight - this.#sum();
    if (extra > 0) this.#entries.push({ t: now, w: extra });
  }

  /** Holds every reservation back for `ms` (a 429's `Retry-After`). */
  pauseFor(ms: number): void {
    this.#blockedUntil = Math.max(this.#blockedUntil, this.#clock() + Math.max(0, ms));
  }

  #restamp(entry: Entry): void {
    const i = this.#entries.indexOf(entry);
    if (i < 0) return; // already expired
    this.#entries.splice(i, 1);
    entry.t = Math.max(entry.t, this.#clock());
    // Keep the list ordered by time (prune and the wait computation rely on it).
    let j = this.#entries.length;
    while (j > 0 && this.#entries[j - 1].t > entry.t) j--;
    this.#entries.splice(j, 0, entry);
  }

  /** ms until `weight` fits; ≤ 0 when it fits now. */
  #waitFor(weight: number, now: number): number {
    if (this.#blockedUntil > now) return this.#blockedUntil - now;
    this.#prune(now);
    let used = this.#sum();
    // A request heavier than the whole cap still runs alone in an empty window.
    if (used + weight <= this.#cap || this.#entries.length === 0) return 0;
    for (const e of this.#entries) {
      used -= e.w;
      if (used + weight <= this.#cap) return e.t + this.#windowMs - now;
    }
    return this.#entries[this.#entries.length - 1].t + this.#windowMs - now;
  }

  #prune(now: number): void {
    let i = 0;
    while (i < this.#entries.length && this.#entries[i].t + this.#windowMs <= now) i++;
    if (i > 0) this.#entries.splice(0, i);
  }

  #sum(): number {
    let s = 0;
    for (const e of this.#entries) s += e.w;
    return s;
  }
}
