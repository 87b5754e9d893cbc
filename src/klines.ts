/**
 * The columnar klines result every client returns.
 *
 * @module
 */
import { type Table, tableFromArrays } from "apache-arrow";
import type { Interval, MarketType } from "./market.ts";
import { firstOpenAtOrAfter, intervalMs, nextOpenTime } from "./market.ts";
import type { TimeRange } from "./time.ts";
import { allocateColumns, KLINE_COLUMNS, type KlineColumn, type KlineColumns } from "./columns.ts";
import { lowerBound } from "./_float64.ts";

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

/** Options for constructing {@linkcode Klines}. */
export interface KlinesInit extends KlinesMeta {
  /** Columns of equal length, sorted by open time. */
  columns: KlineColumns;
  /** Missing `[start, end)` spans of the asked range. */
  gaps?: TimeRange[];
  /** Per-row source code (index into {@linkcode SOURCE_CODES}). */
  sources?: Uint8Array;
  /** Whether the last row is the still-open candle (REST `includeOpenCandle`). */
  lastIsOpen?: boolean;
}

/**
 * Sorted, de-duplicated klines as typed columns, plus the gaps of the asked range.
 *
 * @example
 * ```ts
 * import { Klines } from "@vision-data/client";
 * const k = Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" });
 * k.length; // 0
 * ```
 */
export class Klines implements KlinesMeta {
  /** The symbol. */
  readonly symbol: string;
  /** The interval. */
  readonly interval: Interval;
  /** The market. */
  readonly marketType: MarketType;
  /** Open time, epoch ms. */
  readonly openTime: Float64Array;
  /** Open price. */
  readonly open: Float64Array;
  /** High price. */
  readonly high: Float64Array;
  /** Low price. */
  readonly low: Float64Array;
  /** Close price. */
  readonly close: Float64Array;
  /** Base asset volume (COIN-M: contracts). */
  readonly volume: Float64Array;
  /** Close time, epoch ms (open + interval − 1). */
  readonly closeTime: Float64Array;
  /** Quote asset volume (COIN-M: base asset volume). */
  readonly quoteVolume: Float64Array;
  /** Number of trades. */
  readonly trades: Float64Array;
  /** Taker buy base volume. */
  readonly takerBuyBaseVolume: Float64Array;
  /** Taker buy quote volume. */
  readonly takerBuyQuoteVolume: Float64Array;
  /** Spans of the asked range that no source had: reported, never filled with invented rows. */
  readonly gaps: readonly TimeRange[];
  /** Per-row source code, when known (see {@linkcode SOURCE_CODES}). */
  readonly sources?: Uint8Array;
  /** True when the last row is the currently open (unfinished) candle. */
  readonly lastIsOpen: boolean;

  /**
   * Creates a Klines.
   *
   * @param init columns, metadata, gaps
   */
  constructor(init: KlinesInit) {
    this.symbol = init.symbol;
    this.interval = init.interval;
    this.marketType = init.marketType;
    const c = init.columns;
    const n = c.openTime.length;
    for (const name of KLINE_COLUMNS) {
      if (c[name].length !== n) {
        throw new RangeError(`Column ${name} has ${c[name].length} rows, openTime has ${n}`);
      }
    }
    this.openTime = c.openTime;
    this.open = c.open;
    this.high = c.high;
    this.low = c.low;
    this.close = c.close;
    this.volume = c.volume;
    this.closeTime = c.closeTime;
    this.quoteVolume = c.quoteVolume;
    this.trades = c.trades;
    this.takerBuyBaseVolume = c.takerBuyBaseVolume;
    this.takerBuyQuoteVolume = c.takerBuyQuoteVolume;
    this.gaps = init.gaps ?? [];
    this.sources = init.sources;
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
    return this.openTime.length;
  }

  /** The columns as a record (the same arrays, not copies). */
  get columns(): KlineColumns {
    const out = {} as KlineColumns;
    for (const name of KLINE_COLUMNS) out[name] = this[name];
    return out;
  }

  /** Metadata only. */
  get meta(): KlinesMeta {
    return { symbol: this.symbol, interval: this.interval, marketType: this.marketType };
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
    const out: KlineRecord[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) {
      const r = {} as KlineRecord;
      for (const name of KLINE_COLUMNS) r[name] = this[name][i];
      out[i] = r;
    }
    return out;
  }

  /**
   * Rows `[begin, end)` by index, sharing memory with this one (like `TypedArray.subarray`).
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" }).slice(0, 0);
   * ```
   */
  slice(begin = 0, end: number = this.length): Klines {
    const columns = {} as KlineColumns;
    for (const name of KLINE_COLUMNS) columns[name] = this[name].subarray(begin, end);
    return new Klines({
      ...this.meta,
      columns,
      gaps: [...this.gaps],
      sources: this.sources?.subarray(begin, end),
      lastIsOpen: this.lastIsOpen && end >= this.length,
    });
  }

  /**
   * Rows whose open time lies in `[start, end)` (binary search; shares memory).
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" }).between(0, 1);
   * ```
   */
  between(start: number, end: number): Klines {
    return this.slice(lowerBound(this.openTime, start), lowerBound(this.openTime, end));
  }

  /**
   * Appends others after this one (no sorting: see {@linkcode Klines.merge} for that).
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
    const n = parts.reduce((s, p) => s + p.length, 0);
    const columns = allocateColumns(n);
    const withSources = parts.some((p) => p.sources);
    const sources = withSources ? new Uint8Array(n) : undefined;
    let at = 0;
    for (const p of parts) {
      for (const name of KLINE_COLUMNS) columns[name].set(p[name], at);
      if (sources && p.sources) sources.set(p.sources, at);
      at += p.length;
    }
    return new Klines({
      ...this.meta,
      columns,
      sources,
      gaps: mergeRanges(parts.flatMap((p) => p.gaps)),
      lastIsOpen: parts[parts.length - 1].lastIsOpen,
    });
  }

  /**
   * Sorts by open time and drops duplicate open times (the first part listed wins), then
   * recomputes `gaps` over `range` when given.
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * const e = Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" });
   * Klines.merge([e, e], e.meta).length; // 0
   * ```
   */
  static merge(parts: Klines[], meta: KlinesMeta, range?: TimeRange): Klines {
    const nonEmpty = parts.filter((p) => p.length > 0);
    // Fast path (the usual case: archives/pages that do not overlap): order the parts by
    // their first row and, when each is strictly increasing and they do not overlap, one
    // block copy per column is the whole merge.
    const ordered = [...nonEmpty].sort((a, b) => a.openTime[0] - b.openTime[0]);
    const disjoint = ordered.every((p, i) =>
      isStrictlyIncreasing(p.openTime) &&
      (i === 0 || ordered[i - 1].openTime[ordered[i - 1].length - 1] < p.openTime[0])
    );
    if (disjoint) {
      const all = ordered.length === 0
        ? Klines.empty(meta)
        : ordered[0].concat(...ordered.slice(1));
      const gaps = range
        ? findGaps(all.openTime, meta.interval, range)
        : mergeRanges(parts.flatMap((p) => p.gaps));
      const last = ordered.at(-1);
      return new Klines({
        ...meta,
        columns: all.columns,
        sources: all.sources,
        gaps,
        lastIsOpen: last?.lastIsOpen ?? false,
      });
    }
    const all = nonEmpty[0].concat(...nonEmpty.slice(1));
    const n = all.length;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const ot = all.openTime;
    order.sort((a, b) => ot[a] - ot[b] || a - b);
    const keep = new Uint32Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0 && ot[order[i]] === ot[order[i - 1]]) continue;
      keep[m++] = order[i];
    }
    const columns = allocateColumns(m);
    for (const name of KLINE_COLUMNS) {
      const src = all[name];
      const dst = columns[name];
      for (let j = 0; j < m; j++) dst[j] = src[keep[j]];
    }
    let sources: Uint8Array | undefined;
    if (all.sources) {
      sources = new Uint8Array(m);
      for (let j = 0; j < m; j++) sources[j] = all.sources[keep[j]];
    }
    const gaps = range
      ? findGaps(columns.openTime, meta.interval, range)
      : mergeRanges(parts.flatMap((p) => p.gaps));
    return new Klines({
      ...meta,
      columns,
      sources,
      gaps,
      lastIsOpen: all.lastIsOpen && keep[m - 1] === n - 1,
    });
  }

  /**
   * An Apache Arrow table of the columns (times as float64 epoch ms; zero-copy).
   *
   * @example
   * ```ts
   * import { Klines } from "@vision-data/client";
   * Klines.empty({ symbol: "BTCUSDT", interval: "1m", marketType: "spot" }).toArrow().numRows; // 0
   * ```
   */
  toArrow(): Table {
    return tableFromArrays(this.columns);
  }
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
  const gaps: TimeRange[] = [];
  const step = interval === "1M" ? 0 : intervalMs(interval);
  // A range that starts between two candles has no gap before the first whole candle.
  let expected = firstOpenAtOrAfter(interval, range.start);
  for (let i = lowerBound(openTime, range.start); i < openTime.length; i++) {
    const t = openTime[i];
    if (t >= range.end) break;
    if (t > expected) gaps.push({ start: expected, end: t });
    expected = step > 0 ? t + step : nextOpenTime(interval, t);
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
