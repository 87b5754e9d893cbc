/**
 * The cache writes of one `DataSourceManager.getData` call: started as soon as a complete
 * day is known (while the other archives still download), a few at a time, and all settled
 * before the call returns or rejects — nothing outlives the call that started it.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { CacheKey, KlineCache } from "../cache/mod.ts";
import type { KlineColumns, KlinesMeta } from "../klines.ts";
import type { KlineKind } from "../kline_kind.ts";

const logger = getLogger(["vision-data", "manager"]);

/** Options for {@linkcode DayWriter}. */
export interface DayWriterOptions {
  /** Where the days go. */
  cache: KlineCache;
  /** Market, symbol and interval of every day written. */
  meta: KlinesMeta;
  /** Writes in flight at once (at least 1). */
  concurrency: number;
  /** The call's signal: aborting it stops the writes (no partial file is left). */
  signal: AbortSignal;
  /** Counts a day written. */
  onWritten: () => void;
  /** Counts a day whose write failed (the data is good; the next call fetches it again). */
  onFailed: () => void;
  /** The kline kind of every day written. @default {"trades"} */
  kind?: KlineKind;
}

/**
 * Writes each day once, with at most `concurrency` writes in flight. A failed write is
 * counted and logged, not thrown: only the copy failed. {@linkcode DayWriter.flush} waits
 * for everything scheduled; {@linkcode DayWriter.abort} drops what has not started and
 * waits for the running writes to stop.
 *
 * @example
 * ```ts ignore
 * const writer = new DayWriter({ cache, meta, concurrency: 4, signal, onWritten, onFailed });
 * writer.write("2024-01-01", columns);
 * await writer.flush();
 * ```
 */
export class DayWriter {
  readonly #options: DayWriterOptions;
  readonly #stop = new AbortController();
  readonly #signal: AbortSignal;
  readonly #scheduled = new Set<string>();
  readonly #queue: { day: string; columns: KlineColumns }[] = [];
  readonly #running = new Set<Promise<void>>();

  /** @param options cache, meta, concurrency, signal and counters */
  constructor(options: DayWriterOptions) {
    this.#options = options;
    this.#signal = AbortSignal.any([options.signal, this.#stop.signal]);
  }

  /** Whether `day` was scheduled already (written, being written, queued or failed). */
  has(day: string): boolean {
    return this.#scheduled.has(day);
  }

  /**
   * Schedules one complete day (ignored when scheduled already). `columns` must stay
   * unchanged until the write is done.
   */
  write(day: string, columns: KlineColumns): void {
    if (this.#scheduled.has(day) || this.#signal.aborted) return;
    this.#scheduled.add(day);
    this.#queue.push({ day, columns });
    this.#pump();
  }

  /** Waits for every write scheduled so far; rejects with the abort reason when aborted. */
  async flush(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
    this.#options.signal.throwIfAborted();
    this.#signal.throwIfAborted();
  }

  /** Drops the writes not started, aborts the running ones and waits for them to stop. */
  async abort(): Promise<void> {
    this.#queue.length = 0;
    this.#stop.abort();
    while (this.#running.size > 0) await Promise.all(this.#running);
  }

  #pump(): void {
    while (
      this.#running.size < Math.max(1, this.#options.concurrency) && this.#queue.length > 0 &&
      !this.#signal.aborted
    ) {
      const job = this.#queue.shift()!;
      const p = this.#run(job.day, job.columns);
      this.#running.add(p);
      p.finally(() => {
        this.#running.delete(p);
        this.#pump();
      });
    }
    if (this.#signal.aborted) this.#queue.length = 0;
  }

  async #run(day: string, columns: KlineColumns): Promise<void> {
    const { cache, meta } = this.#options;
    const key: CacheKey = {
      marketType: meta.marketType,
      symbol: meta.symbol,
      interval: meta.interval,
      day,
      kind: this.#options.kind,
    };
    try {
      await cache.write(key, columns, { signal: this.#signal });
      this.#options.onWritten();
    } catch (err) {
      // An aborted write left no file; the abort itself is reported by flush().
      if (this.#signal.aborted) return;
      this.#options.onFailed();
      logger.warn("Cache write failed for {day}: {error}", { day, error: err });
    }
  }
}
