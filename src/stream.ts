/**
 * `stream()`: klines of any range as a sequence of {@linkcode Klines} chunks, in time
 * order, with a bounded number of chunks fetched ahead of the consumer.
 *
 * @module
 */
import {
  assertIntervalSupported,
  type Interval,
  intervalMs,
  type IntervalSource,
  type MarketType,
  normalizeSymbol,
} from "./market.ts";
import { Klines, type KlinesMeta, mergeRanges, SOURCE_CODES } from "./klines.ts";
import {
  DAY_MS,
  dayStart,
  monthStart,
  type RangeInput,
  resolveRange,
  type TimeRange,
} from "./time.ts";

/**
 * Options every `stream()` takes besides the query.
 *
 * @example
 * ```ts
 * import type { StreamOptions } from "@vision-data/client";
 * const o: StreamOptions = { ahead: 4 };
 * ```
 */
export interface StreamOptions {
  /**
   * Chunks fetched ahead of the consumer: while the loop body works on one chunk, at most
   * this many more are being fetched or wait, finished, to be taken. @default {2}
   */
  ahead?: number;
}

/** Rows per source name. */
export type SourceRows = Record<typeof SOURCE_CODES[number], number>;

/**
 * The chunks of a range, one `for await` away. Each chunk is a {@linkcode Klines} with its
 * own `gaps` (within its span) and per-row `sources`; the totals so far are on the stream.
 * Leaving the loop (`break`, `return`, a throw) aborts the fetches in flight and waits for
 * them to let go; disposing the client ends the loop with `ClientClosedError`. A stream is
 * iterated once.
 *
 * @example
 * ```ts ignore
 * for await (const chunk of manager.stream({ symbol: "BTCUSDT", interval: "1m", start, end })) {
 *   console.log(chunk.length, chunk.gaps);
 * }
 * ```
 */
export class KlinesStream implements AsyncIterable<Klines> {
  /** Symbol, interval and market of every chunk. */
  readonly meta: KlinesMeta;
  readonly #spans: readonly TimeRange[];
  readonly #ahead: number;
  readonly #fetch: (span: TimeRange, index: number, signal: AbortSignal) => Promise<Klines>;
  readonly #check: () => void;
  #gaps: TimeRange[] = [];
  #rows = 0;
  readonly #sourceRows: SourceRows = { cache: 0, vision: 0, rest: 0 };
  #pending = 0;
  #started = false;

  /**
   * Creates a stream (clients do; see their `stream()`).
   *
   * @param init the spans (in time order), how to fetch one, and a check that throws when the
   *   client is closed
   */
  constructor(init: {
    meta: KlinesMeta;
    spans: readonly TimeRange[];
    fetch: (span: TimeRange, index: number, signal: AbortSignal) => Promise<Klines>;
    assertOpen: () => void;
    options?: StreamOptions;
  }) {
    this.meta = init.meta;
    this.#spans = init.spans;
    this.#fetch = init.fetch;
    this.#check = init.assertOpen;
    this.#ahead = Math.max(0, Math.floor(init.options?.ahead ?? 2));
  }

  /** Rows yielded so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Gaps of the chunks yielded so far, coalesced. */
  get gaps(): readonly TimeRange[] {
    return this.#gaps;
  }

  /** Rows yielded so far per source. */
  get sourceRows(): Readonly<SourceRows> {
    return { ...this.#sourceRows };
  }

  /** Chunks started and not yet yielded (fetching, or fetched and waiting). */
  get pending(): number {
    return this.#pending;
  }

  /** Number of chunks the stream yields (some may be empty: their span is a gap). */
  get chunkCount(): number {
    return this.#spans.length;
  }

  /**
   * Every chunk, joined without copying rows (what `getData` returns).
   *
   * @example
   * ```ts ignore
   * const k = await manager.stream({ symbol: "BTCUSDT", interval: "1m", start, end }).collect();
   * ```
   */
  async collect(): Promise<Klines> {
    const parts: Klines[] = [];
    for await (const k of this) parts.push(k);
    if (parts.length === 0) return Klines.empty(this.meta);
    return parts[0].concat(...parts.slice(1));
  }

  /** The chunks in time order; leaving the loop early aborts the work in flight. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Klines, void, undefined> {
    if (this.#started) throw new TypeError("A KlinesStream can be iterated only once");
    this.#started = true;
    const stop = new AbortController();
    const pending: Promise<Klines>[] = [];
    let next = 0;
    try {
      while (next < this.#spans.length || pending.length > 0) {
        this.#check();
        // The chunk the consumer waits for plus `ahead` more: never more than that.
        while (next < this.#spans.length && pending.length < this.#ahead + 1) {
          const i = next++;
          const p = this.#fetch(this.#spans[i], i, stop.signal);
          p.catch(() => {}); // awaited in order below (or settled in `finally`)
          pending.push(p);
          this.#pending++;
        }
        const k = await pending.shift()!;
        this.#pending--;
        this.#check();
        this.#rows += k.length;
        this.#gaps = mergeRanges([...this.#gaps, ...k.gaps]);
        const counts = new Float64Array(SOURCE_CODES.length);
        for (const c of k.chunks) {
          const s = c.sources;
          if (s) { for (let j = 0; j < s.length; j++) counts[s[j]]++; }
        }
        SOURCE_CODES.forEach((name, code) => this.#sourceRows[name] += counts[code]);
        yield k;
      }
    } finally {
      // Leaving early (break, return, a failed chunk, a closed client): stop what is in
      // flight and wait until it has let go of its connections, workers and files.
      stop.abort(new DOMException("The stream was left", "AbortError"));
      this.#pending -= pending.length;
      await Promise.allSettled(pending);
    }
  }
}

/**
 * The spans a stream of `range` yields, in order: calendar months (UTC) — one monthly
 * archive each — for `1m`…`1d`; UTC days for `1s` (a month of `1s` is 2.7 M rows, and its
 * daily archives parse on every core); the whole range for `3d`, `1w` and `1M`, whose
 * candles do not fit in months.
 *
 * @example
 * ```ts
 * import { streamSpans } from "@vision-data/client/market";
 * streamSpans({ start: Date.UTC(2024, 0, 15), end: Date.UTC(2024, 2, 1) }, "1h").length; // 2
 * ```
 */
export function streamSpans(range: TimeRange, interval: Interval): TimeRange[] {
  if (range.start >= range.end) return [];
  if (interval === "3d" || interval === "1w" || interval === "1M") return [{ ...range }];
  const spans: TimeRange[] = [];
  const byDay = intervalMs(interval) < 60_000;
  let t = range.start;
  while (t < range.end) {
    const next = byDay ? dayStart(t) + DAY_MS : monthStart(t, 1);
    const end = Math.min(next, range.end);
    spans.push({ start: t, end });
    t = end;
  }
  return spans;
}

/** What a client's `stream()` is asked: a `fetchKlines` query (`RangeInput` plus these). */
export interface KlineQuery extends RangeInput {
  /** The pair, e.g. `BTCUSDT`. */
  symbol: string;
  /** Candle interval. */
  interval: Interval;
  /** Cancels the whole stream. */
  signal?: AbortSignal;
  /** REST only: whether the last candle may be the still-open one. */
  includeOpenCandle?: boolean;
}

/**
 * The stream behind each client's `stream()`: the query validated and planned into spans
 * once, each span fetched through the client's own `fetchKlines` with the loop's and the
 * caller's signals, and the open candle (when asked) only in the last span.
 *
 * @example
 * ```ts ignore
 * return clientStream({ marketType, source: "rest", now, assertOpen }, options, (o) =>
 *   this.fetchKlines(o));
 * ```
 */
export function clientStream<O extends KlineQuery>(
  client: { marketType: MarketType; source: IntervalSource; now: number; assertOpen: () => void },
  options: O & StreamOptions,
  fetchKlines: (options: O) => Promise<Klines>,
): KlinesStream {
  const { marketType } = client;
  const symbol = normalizeSymbol(options.symbol, marketType);
  assertIntervalSupported(marketType, options.interval, client.source);
  const range = resolveRange(options, { now: client.now, market: marketType });
  const spans = streamSpans(range, options.interval);
  return new KlinesStream({
    meta: { symbol, interval: options.interval, marketType },
    spans,
    options,
    assertOpen: client.assertOpen,
    fetch: (span, i, left) => {
      const o: O = {
        ...options,
        start: span.start,
        end: span.end,
        signal: options.signal ? AbortSignal.any([left, options.signal]) : left,
      };
      if (options.includeOpenCandle !== undefined) {
        o.includeOpenCandle = options.includeOpenCandle && i === spans.length - 1;
      }
      return fetchKlines(o);
    },
  });
}
