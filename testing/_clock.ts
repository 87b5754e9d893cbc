/**
 * The replica's clock: the truth, the archives' publication and the live feed all read it.
 *
 * @module
 */
import { toEpochMs } from "../src/time.ts";
import type { NowInput } from "./_types.ts";
import type { LiveClock } from "./_ws.ts";

function toClock(now: NowInput | undefined): () => number {
  if (now === undefined) return () => Date.now();
  if (typeof now === "function") return now;
  const fixed = toEpochMs(now, "now");
  return () => fixed;
}

/** A settable now: wall time, a fixed instant, or a function of the caller's. */
export class Clock implements LiveClock {
  #read: () => number;

  constructor(now: NowInput | undefined) {
    this.#read = toClock(now);
  }

  /** The replica's now (ms). */
  now(): number {
    return this.#read();
  }

  /** Changes the replica's now. */
  setNow(now: NowInput): void {
    this.#read = toClock(now);
  }
}
