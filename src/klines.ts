/**
 * The columnar klines result every client returns.
 *
 * @module
 */
import type { Table } from "apache-arrow";
import type { Interval, MarketType } from "./market.ts";
import { firstOpenAtOrAfter, intervalMs, nextOpenTime } from "./market.ts";
import { type TimeInput, type TimeRange, toEpochMs } from "./time.ts";
import { allocateColumns, KLINE_COLUMNS, type KlineColumn, type KlineColumns } from "./columns.ts";
import { lowerBound } from "./_float64.ts";
import { klineArrowTable } from "./_arrow_schema.ts";

export { allocateColumns, KLINE_COLUMNS } from "./columns.ts";
export type { KlineColumn, KlineColumns } from "./columns.ts";

/** One kline as a plain object (see {@linkcode Klines.toRecords}). */
export type KlineRecord = Record<KlineColumn, number>;

/**
 * Where data comes from. `AUTO` lets the manager choose (cache → Vision → REST).
 *
 * @example
 * ```ts
 * import { DataSource } from "@vision-data/client";
 * DataSource.VISION; // "vision"
 * ```
 */
export const DataSource = {
  /** Cache, then Vision, then REST. */
  AUTO: "auto",
  /** The local Arrow cache. */
  CACHE: "cache",
  /** The Binance Vision archive. */
  VISION: "vision",
  /** The Binance REST API. */
  REST: "rest",
} as const;
/** One of {@linkcode DataSource}'s values. */
export type DataSource = typeof DataSource[keyof typeof DataSource];

/** Per-row source codes stored in {@linkcode Klines.sources}. */
export const SOURCE_CODES: readonly Exclude<DataSource, "auto">[] = ["cache", "vision", "rest"];

/** What a set of klines is. */
export interface KlinesMeta {
  /** The symbol, upper case. */
  symbol: string;
  /** The interval. */
  interval: Interval;
  /** The market. */
  marketType: MarketType;
}

/**
 * One chunk of rows: columns of equal length (views, never copied) and their per-row sources.
 *
 * @example
 * ```ts
 * import type { KlineChunk } from "@vision-data/client";
 * import { allocateColumns } from "@vision-data/client/market";
 * const chunk: KlineChunk = { columns: allocateColumns(0), sources: new Uint8Array(0) };
 * ```
 */
export interface KlineChunk {
  /** Columns of equal length, sorted by open time. */
  columns: KlineColumns;
  /** Per-row source code (index into {@linkcode SOURCE_CODES}), when known. */
  sources?: Uint8Array;
}

/** Options for constructing {@linkcode Klines}: `columns` (one chunk) or `chunks`. */
export interface KlinesInit extends KlinesMeta {
  /** Columns of equal length, sorted by open time (one chunk). */
  columns?: KlineColumns;
  /** Or several chunks, in time order (each kept as is: no copy). */
  chunks?: readonly KlineChunk[];
  /** Missing `[start, end)` spans of the asked range. */
  gaps?: TimeRange[];
  /** Per-row source code (index into {@linkcode SOURCE_CODES}), with `columns`. */
  sources?: Uint8Array;
  /** Whether the last row is the still-open candle (REST `includeOpenCandle`). */
  lastIsOpen?: boolean;
}

const EMPTY = new Float64Array(0);

/**
 * Sorted, de-duplicated klines, plus the gaps of the asked range.
 *
 * Rows are held as a sequence of chunks — one per cached day, parsed archive or REST
 * answer — that are views of the buffers they were read or parsed into: `length`,
 * {@linkcode Klines.get}, {@linkcode Klines.chunks}, iteration, `slice`, `between` and
 * `concat` never copy rows. The contiguous columns (`k.close`, …) are built on first
 * access, one column at a time, once (a one-chunk result hands out its arrays as they are).
 *
 * @example
 * ```ts
 * import { Klines } from "@vision-data/client";
 * const k = Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" });
 * k.length; // 0
 * ```
 */
export class Klines implements KlinesMeta, Iterable<KlineRecord> {
  /** The symbol. */
  readonly symbol: string;
  /** The interval. */
  readonly interval: Interval;
  /** The market. */
  readonly marketType: MarketType;
  /** Spans of the asked range that no source had: reported, never filled with invented rows. */
  readonly gaps: readonly TimeRange[];
  /** True when the last row is the currently open (unfinished) candle. */
  readonly lastIsOpen: boolean;
  readonly #chunks: readonly KlineChunk[];
  /** `#starts[i]` is the index of chunk i's first row; the last entry is `length`. */
  readonly #starts: number[];
  readonly #hasSources: boolean;
  readonly #joined: Partial<KlineColumns> = {};
  #joinedSources: Uint8Array | undefined;
  #chunkViews: readonly Klines[] | undefined;

  /**
   * Creates a Klines.
   *
   * @param init columns (or chunks), metadata, gaps
   */
  constructor(init: KlinesInit) {
    this.symbol = init.symbol;
    this.interval = init.interval;
    this.marketType = init.marketType;
    const chunks = init.chunks ??
      (init.columns ? [{ columns: init.columns, sources: init.sources }] : []);
    const kept: KlineChunk[] = [];
    const starts = [0];
    let total = 0;
    for (const chunk of chunks) {
      const c = chunk.columns;
      const n = c.openTime.length;
      for (const name of KLINE_COLUMNS) {
        if (c[name].length !== n) {
          throw new RangeError(`Column ${name} has ${c[name].length} rows, openTime has ${n}`);
        }
      }
      if (chunk.sources && chunk.sources.length !== n) {
        throw new RangeError(`sources has ${chunk.sources.length} rows, openTime has ${n}`);
      }
      if (n === 0) continue;
      kept.push(chunk);
      total += n;
      starts.push(total);
    }
    this.#chunks = kept;
    this.#starts = starts;
    this.#hasSources = chunks.length > 0 && chunks.some((c) => c.sources !== undefined);
    this.gaps = init.gaps ?? [];
    this.lastIsOpen = init.lastIsOpen ?? false;
  }

  /**
   * No rows.
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" });
   * ```
   */
  static empty(meta: KlinesMeta, gaps: TimeRange[] = []): Klines {
    return new Klines({ ...meta, columns: allocateColumns(0), gaps });
  }

  /** Number of rows. */
  get length(): number {
    return this.#starts[this.#starts.length - 1];
  }

  /** Open time, epoch ms. */
  get openTime(): Float64Array {
    return this.#column("openTime");
  }
  /** Open price. */
  get open(): Float64Array {
    return this.#column("open");
  }
  /** High price. */
  get high(): Float64Array {
    return this.#column("high");
  }
  /** Low price. */
  get low(): Float64Array {
    return this.#column("low");
  }
  /** Close price. */
  get close(): Float64Array {
    return this.#column("close");
  }
  /** Base asset volume (COIN-M: contracts). */
  get volume(): Float64Array {
    return this.#column("volume");
  }
  /** Close time, epoch ms (open + interval − 1). */
  get closeTime(): Float64Array {
    return this.#column("closeTime");
  }
  /** Quote asset volume (COIN-M: base asset volume). */
  get quoteVolume(): Float64Array {
    return this.#column("quoteVolume");
  }
  /** Number of trades. */
  get trades(): Float64Array {
    return this.#column("trades");
  }
  /** Taker buy base volume. */
  get takerBuyBaseVolume(): Float64Array {
    return this.#column("takerBuyBaseVolume");
  }
  /** Taker buy quote volume. */
  get takerBuyQuoteVolume(): Float64Array {
    return this.#column("takerBuyQuoteVolume");
  }

  /**
   * Per-row source code, when known (see {@linkcode SOURCE_CODES}); contiguous, built on
   * first access like the columns.
   */
  get sources(): Uint8Array | undefined {
    if (!this.#hasSources) return undefined;
    if (this.#chunks.length === 1 && this.#chunks[0].sources) return this.#chunks[0].sources;
    if (this.#joinedSources) return this.#joinedSources;
    // A chunk without sources reads as code 0, as a copy into a zeroed array always did.
    const out = new Uint8Array(this.length);
    this.#chunks.forEach((c, i) => c.sources && out.set(c.sources, this.#starts[i]));
    return this.#joinedSources = out;
  }

  /** The columns as a record (built like the properties: contiguous, on first access). */
  get columns(): KlineColumns {
    const out = {} as KlineColumns;
    for (const name of KLINE_COLUMNS) out[name] = this.#column(name);
    return out;
  }

  /**
   * The chunks, in time order: one-chunk `Klines` sharing memory with this one (their
   * `gaps` are empty; the gaps are this one's).
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" }).chunks.length; // 0
   * ```
   */
  get chunks(): readonly Klines[] {
    return this.#chunkViews ??= this.#chunks.map((c, i) =>
      new Klines({
        ...this.meta,
        chunks: [c],
        lastIsOpen: this.lastIsOpen && i === this.#chunks.length - 1,
      })
    );
  }

  /** Metadata only. */
  get meta(): KlinesMeta {
    return { symbol: this.symbol, interval: this.interval, marketType: this.marketType };
  }

  /**
   * Row `i` as a plain object (negative `i` counts from the end), or `undefined` when out of
   * range.
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" }).get(0); // undefined
   * ```
   */
  get(i: number): KlineRecord | undefined {
    const n = this.length;
    const at = Math.trunc(i) < 0 ? Math.trunc(i) + n : Math.trunc(i);
    if (!(at >= 0 && at < n)) return undefined;
    const c = this.#chunkOf(at);
    const cols = this.#chunks[c].columns;
    const j = at - this.#starts[c];
    const r = {} as KlineRecord;
    for (const name of KLINE_COLUMNS) r[name] = cols[name][j];
    return r;
  }

  /**
   * The rows as plain objects, chunk by chunk (one object per row: prefer the columns or
   * {@linkcode Klines.chunks} for big data).
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * [...Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" })]; // []
   * ```
   */
  *[Symbol.iterator](): Iterator<KlineRecord> {
    for (const { columns } of this.#chunks) {
      const n = columns.openTime.length;
      for (let j = 0; j < n; j++) {
        const r = {} as KlineRecord;
        for (const name of KLINE_COLUMNS) r[name] = columns[name][j];
        yield r;
      }
    }
  }

  /**
   * Rows as plain objects (allocates one object per row: prefer the columns for big data).
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" }).toRecords(); // []
   * ```
   */
  toRecords(): KlineRecord[] {
    return [...this];
  }

  /**
   * Rows `[begin, end)` by index (negative counts from the end, like `TypedArray.subarray`),
   * sharing memory with this one.
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" }).slice(0, 0);
   * ```
   */
  slice(begin = 0, end: number = this.length): Klines {
    const n = this.length;
    const lo = clampIndex(begin, n);
    const hi = Math.max(lo, clampIndex(end, n));
    const chunks: KlineChunk[] = [];
    for (let c = 0; c < this.#chunks.length; c++) {
      const s = this.#starts[c];
      const e = this.#starts[c + 1];
      if (e <= lo || s >= hi) continue;
      const a = Math.max(lo, s) - s;
      const b = Math.min(hi, e) - s;
      const { columns, sources } = this.#chunks[c];
      if (a === 0 && b === e - s) {
        chunks.push(this.#chunks[c]);
        continue;
      }
      const cut = {} as KlineColumns;
      for (const name of KLINE_COLUMNS) cut[name] = columns[name].subarray(a, b);
      chunks.push({ columns: cut, sources: sources?.subarray(a, b) });
    }
    return new Klines({
      ...this.meta,
      chunks: this.#withSourceFlag(chunks),
      gaps: [...this.gaps],
      lastIsOpen: this.lastIsOpen && hi >= n,
    });
  }

  /**
   * Rows whose open time lies in `[start, end)` (binary search; shares memory). Takes any
   * {@linkcode TimeInput}: epoch ms, a `Date` or an ISO-8601 string (UTC when no zone).
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" })
   *   .between("2024-01-01", "2024-01-02");
   * ```
   */
  between(start: TimeInput, end: TimeInput): Klines {
    const s = toEpochMs(start, "start");
    const e = toEpochMs(end, "end");
    return this.slice(this.#lowerBound(s), Math.max(this.#lowerBound(s), this.#lowerBound(e)));
  }

  /**
   * Appends others after this one, without copying rows (no sorting: see
   * {@linkcode Klines.merge} for that).
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * const e = Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" });
   * e.concat(e).length; // 0
   * ```
   */
  concat(...others: Klines[]): Klines {
    const parts = [this, ...others];
    return new Klines({
      ...this.meta,
      chunks: Klines.#joinChunks(parts),
      gaps: mergeRanges(parts.flatMap((p) => p.gaps)),
      lastIsOpen: parts[parts.length - 1].lastIsOpen,
    });
  }

  /**
   * Sorts by open time and drops duplicate open times (the first part listed wins), then
   * recomputes `gaps` over `range` when given. `meta` defaults to the first part's (it is
   * needed only when `parts` is empty). Parts that are sorted and do not overlap are joined
   * without copying.
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * const e = Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" });
   * Klines.merge([e, e]).length; // 0
   * ```
   */
  static merge(parts: Klines[], meta?: KlinesMeta, range?: TimeRange): Klines {
    const m = meta ?? parts[0]?.meta;
    if (!m) {
      throw new TypeError("Klines.merge needs meta (symbol, interval, marketType) for no parts");
    }
    const nonEmpty = parts.filter((p) => p.length > 0);
    // Fast path (the usual case: archives/pages that do not overlap): order the parts by
    // their first row and, when each is strictly increasing and they do not overlap, joining
    // their chunks is the whole merge.
    const ordered = [...nonEmpty].sort((a, b) => a.#first() - b.#first());
    const disjoint = ordered.every((p, i) =>
      p.#isStrictlyIncreasing() && (i === 0 || ordered[i - 1].#last() < p.#first())
    );
    if (disjoint) {
      const all = new Klines({ ...m, chunks: Klines.#joinChunks(ordered) });
      const gaps = range ? all.#gapsOver(range) : mergeRanges(parts.flatMap((p) => p.gaps));
      return new Klines({
        ...m,
        chunks: all.#chunks,
        gaps,
        lastIsOpen: ordered.at(-1)?.lastIsOpen ?? false,
      });
    }
    const all = nonEmpty[0].concat(...nonEmpty.slice(1));
    const n = all.length;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const ot = all.openTime;
    order.sort((a, b) => ot[a] - ot[b] || a - b);
    const keep = new Uint32Array(n);
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0 && ot[order[i]] === ot[order[i - 1]]) continue;
      keep[k++] = order[i];
    }
    const columns = allocateColumns(k);
    for (const name of KLINE_COLUMNS) {
      const src = all[name];
      const dst = columns[name];
      for (let j = 0; j < k; j++) dst[j] = src[keep[j]];
    }
    let sources: Uint8Array | undefined;
    const allSources = all.sources;
    if (allSources) {
      sources = new Uint8Array(k);
      for (let j = 0; j < k; j++) sources[j] = allSources[keep[j]];
    }
    const gaps = range
      ? findGaps(columns.openTime, m.interval, range)
      : mergeRanges(parts.flatMap((p) => p.gaps));
    return new Klines({
      ...m,
      columns,
      sources,
      gaps,
      lastIsOpen: all.lastIsOpen && keep[k - 1] === n - 1,
    });
  }

  /**
   * The spans of `range` these rows do not cover (see {@linkcode findGaps}), chunk by chunk.
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" })
   *   .gapsOver({ start: 0, end: 60_000 }); // [{ start: 0, end: 60000 }]
   * ```
   */
  gapsOver(range: TimeRange): TimeRange[] {
    return this.#gapsOver(range);
  }

  /**
   * An Apache Arrow table with one record batch per chunk, in the schema of the cache files
   * and the exports: snake_case names, `open_time`/`close_time` as `Timestamp(ms, "UTC")`,
   * `count` as `Int64`, the rest `Float64` (float columns are views, not copies).
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" }).toArrow().numRows; // 0
   * ```
   */
  toArrow(): Table {
    return klineArrowTable(this.#chunks.map((c) => c.columns));
  }

  #column(name: KlineColumn): Float64Array {
    const chunks = this.#chunks;
    if (chunks.length === 1) return chunks[0].columns[name];
    if (chunks.length === 0) return EMPTY;
    let out = this.#joined[name];
    if (out) return out;
    out = new Float64Array(this.length);
    chunks.forEach((c, i) => out!.set(c.columns[name], this.#starts[i]));
    return this.#joined[name] = out;
  }

  /** The chunk holding row `at` (0 ≤ at < length). */
  #chunkOf(at: number): number {
    let lo = 0;
    let hi = this.#chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The index of the first row whose open time is ≥ t. */
  #lowerBound(t: number): number {
    for (let c = 0; c < this.#chunks.length; c++) {
      const ot = this.#chunks[c].columns.openTime;
      if (ot[ot.length - 1] >= t) return this.#starts[c] + lowerBound(ot, t);
    }
    return this.length;
  }

  #first(): number {
    return this.#chunks[0]?.columns.openTime[0] ?? NaN;
  }

  #last(): number {
    return this.#chunks.at(-1)?.columns.openTime.at(-1) ?? NaN;
  }

  #isStrictlyIncreasing(): boolean {
    let prev = -Infinity;
    for (const { columns: { openTime } } of this.#chunks) {
      if (!(openTime[0] > prev) || !isStrictlyIncreasing(openTime)) return false;
      prev = openTime[openTime.length - 1];
    }
    return true;
  }

  #gapsOver(range: TimeRange): TimeRange[] {
    return gapsOfChunks(this.#chunks.map((c) => c.columns.openTime), this.interval, range);
  }

  /** Chunks of a part of this one: a chunk without sources gets zeros when others have them. */
  #withSourceFlag(chunks: KlineChunk[]): KlineChunk[] {
    if (!this.#hasSources) return chunks;
    return chunks.map((c) =>
      c.sources ? c : { columns: c.columns, sources: new Uint8Array(c.columns.openTime.length) }
    );
  }

  /** The chunks of `parts` in order; when some part has sources, every chunk has them. */
  static #joinChunks(parts: readonly Klines[]): KlineChunk[] {
    const chunks = parts.flatMap((p) => p.#chunks);
    if (!parts.some((p) => p.#hasSources)) return chunks;
    return chunks.map((c) =>
      c.sources ? c : { columns: c.columns, sources: new Uint8Array(c.columns.openTime.length) }
    );
  }
}

function clampIndex(i: number, n: number): number {
  const t = Math.trunc(i);
  return t < 0 ? Math.max(0, n + t) : Math.min(t, n);
}

function isStrictlyIncreasing(a: Float64Array): boolean {
  for (let i = 1; i < a.length; i++) if (!(a[i] > a[i - 1])) return false;
  return true;
}

/**
 * The spans of `range` not covered by the candles opening at `openTime` (sorted, ms):
 * each candle covers `[open, next open)`.
 *
 * @example
 * ```ts
 * import { findGaps } from "@vision-data/client/market";
 * findGaps(new Float64Array([0, 120_000]), "1m", { start: 0, end: 180_000 });
 * // [{ start: 60000, end: 120000 }]
 * ```
 */
export function findGaps(
  openTime: Float64Array,
  interval: Interval,
  range: TimeRange,
): TimeRange[] {
  return gapsOfChunks([openTime], interval, range);
}

/** {@linkcode findGaps} over open times held in several sorted arrays, in order. */
function gapsOfChunks(
  openTimes: readonly Float64Array[],
  interval: Interval,
  range: TimeRange,
): TimeRange[] {
  const gaps: TimeRange[] = [];
  const step = interval === "1M" ? 0 : intervalMs(interval);
  // A range that starts between two candles has no gap before the first whole candle.
  let expected = firstOpenAtOrAfter(interval, range.start);
  outer: for (const openTime of openTimes) {
    if (openTime.length === 0 || openTime[openTime.length - 1] < range.start) continue;
    for (let i = lowerBound(openTime, range.start); i < openTime.length; i++) {
      const t = openTime[i];
      if (t >= range.end) break outer;
      if (t > expected) gaps.push({ start: expected, end: t });
      expected = step > 0 ? t + step : nextOpenTime(interval, t);
    }
  }
  if (expected < range.end) gaps.push({ start: expected, end: range.end });
  return gaps;
}

/**
 * Sorts and coalesces overlapping or touching ranges.
 *
 * @example
 * ```ts
 * import { mergeRanges } from "@vision-data/client/market";
 * mergeRanges([{ start: 0, end: 2 }, { start: 2, end: 3 }]); // [{ start: 0, end: 3 }]
 * ```
 */
export function mergeRanges(ranges: readonly TimeRange[]): TimeRange[] {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: TimeRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}
