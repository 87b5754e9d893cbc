/**
 * Assembles the archive parts of one fetch into the final columns as they arrive.
 *
 * Concatenating at the end meant allocating and filling the whole result after the last
 * parse — ~45 ms for a year of 1m on the bench machine (mostly page faults on 46 MB of
 * fresh memory), on one thread while the parse workers sat idle. Here each part is copied
 * to its place on the time grid as soon as it is parsed (while the workers parse the next
 * ones), into one buffer laid out as `allocateColumns` does; when every grid slot is
 * filled (the usual case) that buffer is the result with no further copy.
 *
 * @module
 */
import {
  allocateColumns,
  findGaps,
  KLINE_COLUMNS,
  type KlineColumns,
  Klines,
  type KlinesMeta,
  SOURCE_CODES,
} from "../klines.ts";
import { firstOpenAtOrAfter, intervalMs } from "../market.ts";
import type { TimeRange } from "../time.ts";

const VISION_CODE = SOURCE_CODES.indexOf("vision");
const NUMERIC = KLINE_COLUMNS.length;
/** Above this the grid is not allocated up front (the parts are concatenated at the end). */
const MAX_GRID_BYTES = 1024 * 1024 * 1024;

/** A stretch of filled grid slots `[start, end)`. */
interface Run {
  start: number;
  end: number;
}

/** Options for {@linkcode PartAssembler}. */
export interface PartAssemblerOptions {
  /** Symbol, interval, market of the result. */
  meta: KlinesMeta;
  /** Rows with open time in `[start, end)` are kept. */
  range: TimeRange;
  /** Gaps are reported within this range (its start aligned to the first candle). */
  gapRange: TimeRange;
  /** Grid slots above which the grid is not used (for tests). @default {1 GiB / 88} */
  maxGridRows?: number;
}

/**
 * Collects parsed archive parts (any order) and returns the merged {@linkcode Klines}:
 * rows in the range, sorted, de-duplicated, all sourced from Vision, with exact gaps.
 *
 * Fixed-length intervals (except `3d`, which has no documented grid) go through a grid of
 * one slot per possible candle; a part that does not fit it (rows off the grid, out of
 * order, or in slots already filled) is kept aside and merged by `Klines.merge` at the end,
 * as are all parts of `3d` and `1M` or of a range whose grid would be too large.
 */
export class PartAssembler {
  readonly #meta: KlinesMeta;
  readonly #range: TimeRange;
  readonly #gapRange: TimeRange;
  readonly #step: number;
  readonly #origin: number;
  #slots: number;
  #grid: Float64Array | undefined;
  #filled: Uint8Array | undefined;
  readonly #runs: Run[] = [];
  #rows = 0;
  readonly #aside: Klines[] = [];

  /** @param options meta, range, gap range */
  constructor(options: PartAssemblerOptions) {
    const { meta, range, gapRange } = options;
    this.#meta = meta;
    this.#range = range;
    this.#gapRange = gapRange;
    const gridded = meta.interval !== "1M" && meta.interval !== "3d";
    this.#step = gridded ? intervalMs(meta.interval) : 0;
    this.#origin = gridded ? firstOpenAtOrAfter(meta.interval, range.start) : 0;
    const slots = gridded ? Math.max(0, Math.ceil((range.end - this.#origin) / this.#step)) : 0;
    const max = options.maxGridRows ?? Math.floor(MAX_GRID_BYTES / (8 * NUMERIC));
    this.#slots = gridded && slots <= max ? slots : -1;
  }

  /**
   * Adds one part. Returns true when its rows were copied (the caller may free the
   * columns), false when the part itself is kept.
   */
  add(columns: KlineColumns): boolean {
    const ot = columns.openTime;
    if (ot.length === 0) return true;
    if (this.#slots >= 0 && this.#place(columns)) return true;
    this.#aside.push(this.#asKlines(columns));
    return false;
  }

  /** The merged result. */
  finish(): Klines {
    const meta = this.#meta;
    const grid = this.#grid;
    if (grid === undefined) {
      if (this.#aside.length > 0) return Klines.merge(this.#aside, meta, this.#gapRange);
      const gaps = findGaps(new Float64Array(0), meta.interval, this.#gapRange);
      return new Klines({ ...meta, columns: allocateColumns(0), sources: new Uint8Array(0), gaps });
    }
    const n = this.#rows;
    const runs = this.#runs.sort((a, b) => a.start - b.start);
    const columns = this.#compact(grid, n, runs);
    const sources = new Uint8Array(n).fill(VISION_CODE);
    const gridded = new Klines({ ...meta, columns, sources, gaps: this.#gaps(runs) });
    this.#grid = undefined;
    this.#filled = undefined;
    if (this.#aside.length === 0) return gridded;
    return Klines.merge([gridded, ...this.#aside], meta, this.#gapRange);
  }

  /** Copies the part into the grid; false (nothing copied) when it does not fit. */
  #place(columns: KlineColumns): boolean {
    const ot = columns.openTime;
    const step = this.#step;
    const origin = this.#origin;
    const slots = this.#slots;
    // Grid slots of the rows in range, as runs of consecutive slots; rows outside the
    // range are skipped (a monthly archive can overhang the range).
    const runs: { at: number; start: number; end: number }[] = [];
    let prev = -1;
    let prevRow = -2;
    for (let i = 0; i < ot.length; i++) {
      const t = ot[i];
      if (t < this.#range.start || t >= this.#range.end) continue;
      const slot = (t - origin) / step;
      if (!Number.isInteger(slot) || slot < 0 || slot >= slots || slot <= prev) return false;
      // A run is consecutive both in the grid and in the part (a skipped row ends it).
      const last = runs.at(-1);
      if (last !== undefined && slot === prev + 1 && i === prevRow + 1) last.end++;
      else runs.push({ at: i, start: slot, end: slot + 1 });
      prev = slot;
      prevRow = i;
    }
    if (runs.length === 0) return true;
    if (this.#grid === undefined) {
      try {
        this.#grid = new Float64Array(slots * NUMERIC);
        this.#filled = new Uint8Array(slots);
      } catch {
        // No room for the grid (it is sized for the whole range, which a late listing
        // can leave mostly empty): keep the parts and concatenate them at the end.
        this.#slots = -1;
        return false;
      }
    }
    const grid = this.#grid;
    const filled = this.#filled!;
    for (const r of runs) {
      if (filled.subarray(r.start, r.end).includes(1)) return false;
    }
    for (const r of runs) {
      const len = r.end - r.start;
      for (let f = 0; f < NUMERIC; f++) {
        const col = columns[KLINE_COLUMNS[f]];
        grid.set(col.subarray(r.at, r.at + len), f * slots + r.start);
      }
      filled.fill(1, r.start, r.end);
      this.#runs.push({ start: r.start, end: r.end });
      this.#rows += len;
    }
    return true;
  }

  /**
   * The grid's rows as `allocateColumns(n)` lays them out, moved within the grid's own
   * buffer (no copy at all when every slot is filled).
   */
  #compact(grid: Float64Array, n: number, runs: Run[]): KlineColumns {
    const slots = this.#slots;
    if (n === slots) return allocateColumns(n, grid.buffer as ArrayBuffer);
    if (n < slots / 2) {
      // Mostly empty (e.g. a symbol listed late in the range): a fresh exact buffer, so the
      // result does not pin a grid twice its size.
      const out = allocateColumns(n);
      for (let f = 0; f < NUMERIC; f++) {
        const dst = out[KLINE_COLUMNS[f]];
        let at = 0;
        for (const r of runs) {
          dst.set(grid.subarray(f * slots + r.start, f * slots + r.end), at);
          at += r.end - r.start;
        }
      }
      return out;
    }
    // In place, front to back: every destination lies at or before its source and before
    // any source not yet moved, so nothing is overwritten before it is read.
    for (let f = 0; f < NUMERIC; f++) {
      let at = f * n;
      for (const r of runs) {
        grid.copyWithin(at, f * slots + r.start, f * slots + r.end);
        at += r.end - r.start;
      }
    }
    return allocateColumns(n, grid.buffer as ArrayBuffer);
  }

  /** What `findGaps` reports for rows filling exactly `runs` (sorted, disjoint). */
  #gaps(runs: Run[]): TimeRange[] {
    const gaps: TimeRange[] = [];
    const { end } = this.#gapRange;
    let expected = firstOpenAtOrAfter(this.#meta.interval, this.#gapRange.start);
    for (const r of runs) {
      const t = this.#origin + r.start * this.#step;
      if (t >= end) break;
      if (t > expected) gaps.push({ start: expected, end: t });
      expected = this.#origin + r.end * this.#step;
    }
    if (expected < end) gaps.push({ start: expected, end });
    return gaps;
  }

  /** Rows with open time in the range, as a Vision-sourced part. */
  #asKlines(columns: KlineColumns): Klines {
    const { start, end } = this.#range;
    const ot = columns.openTime;
    let keep = 0;
    for (let i = 0; i < ot.length; i++) if (ot[i] >= start && ot[i] < end) keep++;
    let cols = columns;
    if (keep !== ot.length) {
      cols = allocateColumns(keep);
      for (const name of KLINE_COLUMNS) {
        const src = columns[name];
        const dst = cols[name];
        for (let i = 0, j = 0; i < ot.length; i++) {
          if (ot[i] >= start && ot[i] < end) dst[j++] = src[i];
        }
      }
    }
    const sources = new Uint8Array(keep).fill(VISION_CODE);
    return new Klines({ ...this.#meta, columns: cols, sources });
  }
}
