/**
 * Per-symbol order of closed candles: which span is missing before an update (to repair from
 * REST), which candles are duplicates, and whether a duplicate agrees with the copy yielded.
 *
 * @module
 */
import { KLINE_COLUMNS } from "../columns.ts";
import type { KlineUpdate } from "./types.ts";

/** Closed candles remembered per symbol to check duplicates against. */
const RECENT = 8;

/** A span of open times `[start, end)` with no closed candle yielded yet. */
export interface Gap {
  start: number;
  end: number;
}

/** The sequencer of one stream (one interval, any number of symbols). */
export class Sequencer {
  readonly #len: number;
  /** symbol → open time of the last closed candle yielded (or the one before the first seen). */
  readonly #last = new Map<string, number>();
  readonly #recent = new Map<string, KlineUpdate[]>();
  duplicates = 0;
  disagreements = 0;

  constructor(intervalMs: number) {
    this.#len = intervalMs;
  }

  /** Open time of the last closed candle yielded for `symbol`, if any. */
  last(symbol: string): number | undefined {
    return this.#last.get(symbol);
  }

  /** The closed candles missing before socket update `u` (after the first update seen). */
  gapBefore(u: KlineUpdate): Gap | null {
    const last = this.#last.get(u.symbol);
    if (last === undefined) {
      // The first update fixes where the sequence starts: its candle is the first to yield.
      this.#last.set(u.symbol, u.openTime - this.#len);
      return null;
    }
    const next = last + this.#len;
    return u.openTime > next ? { start: next, end: u.openTime } : null;
  }

  /**
   * Admits a closed candle in order; false for a duplicate (or older) one, which is compared
   * with the copy yielded — a disagreement is counted and reported through `onDisagree`.
   */
  admitClosed(
    u: KlineUpdate,
    onDisagree: (kept: KlineUpdate, other: KlineUpdate) => void,
  ): boolean {
    const last = this.#last.get(u.symbol);
    if (last !== undefined && u.openTime <= last) {
      this.duplicates++;
      const kept = this.#recent.get(u.symbol)?.find((r) => r.openTime === u.openTime);
      if (kept && !sameCandle(kept, u)) {
        this.disagreements++;
        onDisagree(kept, u);
      }
      return false;
    }
    this.#last.set(u.symbol, u.openTime);
    let recent = this.#recent.get(u.symbol);
    if (!recent) this.#recent.set(u.symbol, recent = []);
    recent.push(u);
    if (recent.length > RECENT) recent.shift();
    return true;
  }

  /** Whether an open-candle update is newer than the last closed candle. */
  admitOpen(u: KlineUpdate): boolean {
    const last = this.#last.get(u.symbol);
    return last === undefined || u.openTime > last;
  }
}

/** Same values in every column. */
export function sameCandle(a: KlineUpdate, b: KlineUpdate): boolean {
  for (const c of KLINE_COLUMNS) if (a[c] !== b[c]) return false;
  return true;
}
