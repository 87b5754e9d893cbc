/**
 * The public types of the live streams.
 *
 * @module
 */
import type { KlineColumn } from "../columns.ts";

/**
 * One candle as a live stream yields it: the {@linkcode KlineColumns} fields as numbers
 * (times in epoch ms), the symbol, whether the candle is closed (Binance's `x` flag), and
 * where it came from (`"rest"` for candles repaired after a disconnect).
 *
 * @example
 * ```ts
 * import type { KlineUpdate } from "@vision-data/client/live";
 * const onCandle = (u: KlineUpdate) => u.closed && console.log(u.symbol, u.openTime, u.close);
 * ```
 */
export type KlineUpdate = { [K in KlineColumn]: number } & {
  /** Symbol, upper case. */
  symbol: string;
  /** Closed (final) candle, or an update of the open one. */
  closed: boolean;
  /** `"socket"`, or `"rest"` for a closed candle fetched to fill a gap. */
  source: "socket" | "rest";
  /** Binance's event time `E` (socket updates only). */
  eventTime?: number;
};

/**
 * What a live stream is doing, as reported to `onStatus`: `connecting`, `open`, `repairing`
 * (fetching missed closed candles from REST), `backoff` (waiting before a reconnect),
 * `paused` (the consumer is behind: the socket is closed until the queue drains), `closed`.
 *
 * @example
 * ```ts
 * import type { KlineStreamStatus } from "@vision-data/client/live";
 * const log = (s: KlineStreamStatus) => console.error(s.state, s.reason ?? "");
 * ```
 */
export interface KlineStreamStatus {
  /** The new state. */
  state: "connecting" | "open" | "repairing" | "backoff" | "paused" | "closed";
  /** Why (for `backoff`: what ended the last connection). */
  reason?: string;
  /** For `backoff`: the wait, ms. */
  delayMs?: number;
}

/**
 * Counters of a live stream.
 *
 * @example
 * ```ts
 * import type { KlineStreamStats } from "@vision-data/client/live";
 * const show = (s: KlineStreamStats) => `${s.reconnects} reconnects, ${s.repaired} repaired`;
 * ```
 */
export interface KlineStreamStats {
  /** Connections opened. */
  connects: number;
  /** Connections that ended and were replaced. */
  reconnects: number;
  /** Frames received. */
  frames: number;
  /** Frames that were not a valid event (skipped). */
  malformed: number;
  /** Closed candles yielded (from the socket and REST). */
  closedYielded: number;
  /** Open-candle updates yielded. */
  updatesYielded: number;
  /** Closed candles fetched from REST to fill gaps. */
  repaired: number;
  /** Candles seen twice (across a reconnect or repair) and dropped. */
  duplicates: number;
  /** Candles REST and the socket both had with different values (REST's was kept). */
  disagreements: number;
  /** Open-candle updates dropped because the consumer was behind. */
  updatesDropped: number;
  /** Times the socket was paused (closed) because closed candles filled the queue. */
  pauses: number;
  /** The most items the queue held. */
  queueHighWater: number;
}
