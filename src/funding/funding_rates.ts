/**
 * `FundingRates`: funding-rate history as typed columns, with the spans no source had.
 *
 * @module
 */
import type { MarketType } from "../market.ts";
import { mergeRanges, SOURCE_CODES } from "../klines.ts";
import type { TimeRange } from "../time.ts";
import { lowerBound } from "../_float64.ts";

/**
 * The column names of {@linkcode FundingRates}, in order.
 *
 * @example
 * ```ts
 * import { FUNDING_COLUMNS } from "@vision-data/client/funding";
 * FUNDING_COLUMNS[0]; // "fundingTime"
 * ```
 */
export const FUNDING_COLUMNS = [
  "fundingTime",
  "fundingRate",
  "markPrice",
  "intervalHours",
] as const;

/** A column name of {@linkcode FundingRates}. */
export type FundingColumn = typeof FUNDING_COLUMNS[number];

/**
 * The columns of funding-rate rows, one `Float64Array` each.
 *
 * @example
 * ```ts
 * import type { FundingColumns } from "@vision-data/client/funding";
 * const c: FundingColumns = {
 *   fundingTime: new Float64Array(0), fundingRate: new Float64Array(0),
 *   markPrice: new Float64Array(0), intervalHours: new Float64Array(0),
 * };
 * ```
 */
export type FundingColumns = Record<FundingColumn, Float64Array>;

/** One row of {@linkcode FundingRates}, as a record. */
export type FundingRecord = Record<FundingColumn, number>;

/** Which symbol and market funding rows belong to. */
export interface FundingMeta {
  /** The contract, e.g. `BTCUSDT` or `BTCUSD_PERP`. */
  symbol: string;
  /** `um` or `cm`. */
  marketType: MarketType;
}

/** What {@linkcode FundingRates} is built from. */
export interface FundingRatesInit extends FundingMeta {
  /** The rows, sorted by `fundingTime`. */
  columns: FundingColumns;
  /** Spans every source asked had no row in. @default {[]} */
  gaps?: readonly TimeRange[];
  /** Per-row source code (`SOURCE_CODES`: cache, vision, rest). */
  sources?: Uint8Array;
}

/**
 * Zeroed columns of `n` rows.
 *
 * @example
 * ```ts
 * import { allocateFundingColumns } from "@vision-data/client/funding";
 * allocateFundingColumns(3).fundingRate.length; // 3
 * ```
 */
export function allocateFundingColumns(n: number): FundingColumns {
  return {
    fundingTime: new Float64Array(n),
    fundingRate: new Float64Array(n),
    markPrice: new Float64Array(n),
    intervalHours: new Float64Array(n),
  };
}

const HOUR_MS = 3_600_000;

/**
 * Funding-rate history of one contract: `fundingTime` (epoch ms), `fundingRate`,
 * `markPrice` (NaN where the source has none: the Vision archive carries no mark price) and
 * `intervalHours` (the funding interval the rate settles: 8, 4 or 1; from the archive, or
 * else the spacing to the previous row; NaN when neither is known). Binance does not fund on
 * one fixed grid, so `gaps` lists only spans in which every source asked had no row at all.
 *
 * @example
 * ```ts ignore
 * import { DataSourceManager } from "@vision-data/client/funding";
 * await using m = new DataSourceManager({ marketType: "um" });
 * const f = await m.getFundingRates({ symbol: "BTCUSDT", start: "2024-01-01", end: "2024-02-01" });
 * console.log(f.length, f.fundingRate[0], f.gaps);
 * ```
 */
export class FundingRates implements FundingMeta {
  /** The contract. */
  readonly symbol: string;
  /** The market. */
  readonly marketType: MarketType;
  /** Funding time, epoch ms. */
  readonly fundingTime: Float64Array;
  /** The funding rate (a fraction: 0.0001 = 0.01 %). */
  readonly fundingRate: Float64Array;
  /** Mark price at funding time; NaN where the source has none. */
  readonly markPrice: Float64Array;
  /** Hours of the funding interval; NaN where unknown. */
  readonly intervalHours: Float64Array;
  /** Spans of the asked range in which no source asked had a row. */
  readonly gaps: readonly TimeRange[];
  /** Per-row source code (see `SOURCE_CODES`), when known. */
  readonly sources?: Uint8Array;

  /** @param init columns, metadata, gaps */
  /**
   * Creates an instance.
   *
   * @param init the columns and what they are of
   */
  constructor(init: FundingRatesInit) {
    this.symbol = init.symbol;
    this.marketType = init.marketType;
    const c = init.columns;
    const n = c.fundingTime.length;
    for (const name of FUNDING_COLUMNS) {
      if (c[name].length !== n) {
        throw new RangeError(`Column ${name} has ${c[name].length} rows, fundingTime ${n}`);
      }
    }
    this.fundingTime = c.fundingTime;
    this.fundingRate = c.fundingRate;
    this.markPrice = c.markPrice;
    this.intervalHours = c.intervalHours;
    this.gaps = Object.freeze([...(init.gaps ?? [])]);
    this.sources = init.sources;
  }

  /** Number of rows. */
  get length(): number {
    return this.fundingTime.length;
  }

  /** The columns (views, not copies). */
  get columns(): FundingColumns {
    return {
      fundingTime: this.fundingTime,
      fundingRate: this.fundingRate,
      markPrice: this.markPrice,
      intervalHours: this.intervalHours,
    };
  }

  /** The rows as records (convenient, not fast). */
  toRecords(): FundingRecord[] {
    const out: FundingRecord[] = [];
    for (let i = 0; i < this.length; i++) {
      out.push({
        fundingTime: this.fundingTime[i],
        fundingRate: this.fundingRate[i],
        markPrice: this.markPrice[i],
        intervalHours: this.intervalHours[i],
      });
    }
    return out;
  }

  /** The rows with `fundingTime` in `[start, end)` (views); gaps clipped to it. */
  between(start: number, end: number): FundingRates {
    const a = lowerBound(this.fundingTime, start);
    const b = Math.max(a, lowerBound(this.fundingTime, end));
    const columns = {} as FundingColumns;
    for (const name of FUNDING_COLUMNS) columns[name] = this[name].subarray(a, b);
    return new FundingRates({
      symbol: this.symbol,
      marketType: this.marketType,
      columns,
      sources: this.sources?.subarray(a, b),
      gaps: this.gaps
        .map((g) => ({ start: Math.max(g.start, start), end: Math.min(g.end, end) }))
        .filter((g) => g.start < g.end),
    });
  }

  /**
   * Parts merged: sorted by time; rows of the same time combined (a field missing — NaN — in
   * one part is taken from another, e.g. the archive's interval with REST's mark price); a
   * missing `intervalHours` is derived from the spacing to the previous row.
   *
   * @example
   * ```ts
   * import { FundingRates } from "@vision-data/client";
   * FundingRates.merge([], { symbol: "BTCUSDT", marketType: "um" }).length; // 0
   * ```
   */
  static merge(
    parts: readonly FundingRates[],
    meta: FundingMeta,
    gaps: readonly TimeRange[] = [],
  ): FundingRates {
    const rows: { t: number; r: number; m: number; h: number; s: number }[] = [];
    for (const p of parts) {
      for (let i = 0; i < p.length; i++) {
        rows.push({
          t: p.fundingTime[i],
          r: p.fundingRate[i],
          m: p.markPrice[i],
          h: p.intervalHours[i],
          s: p.sources?.[i] ?? SOURCE_CODES.indexOf("rest"),
        });
      }
    }
    rows.sort((a, b) => a.t - b.t);
    const kept: typeof rows = [];
    for (const row of rows) {
      const last = kept[kept.length - 1];
      if (last && last.t === row.t) {
        if (Number.isNaN(last.m)) last.m = row.m;
        if (Number.isNaN(last.h)) last.h = row.h;
        if (Number.isNaN(last.r)) last.r = row.r;
        continue;
      }
      kept.push({ ...row });
    }
    const c = allocateFundingColumns(kept.length);
    const sources = new Uint8Array(kept.length);
    for (let i = 0; i < kept.length; i++) {
      const k = kept[i];
      c.fundingTime[i] = k.t;
      c.fundingRate[i] = k.r;
      c.markPrice[i] = k.m;
      c.intervalHours[i] = Number.isNaN(k.h) && i > 0
        ? Math.round((k.t - kept[i - 1].t) / HOUR_MS)
        : k.h;
      sources[i] = k.s;
    }
    return new FundingRates({ ...meta, columns: c, sources, gaps: mergeRanges([...gaps]) });
  }

  /** No rows; `gaps` as given. */
  static empty(meta: FundingMeta, gaps: readonly TimeRange[] = []): FundingRates {
    return new FundingRates({ ...meta, columns: allocateFundingColumns(0), gaps });
  }
}
