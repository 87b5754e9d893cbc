/**
 * Options and errors of the aggregate-trade calls.
 *
 * @module
 */
import { VisionDataError } from "../errors.ts";
import type { TimeInput, TimeRange } from "../time.ts";
import { type AggTradeColumns, concatAggTrades } from "./columns.ts";

/**
 * Options of `streamAggTrades` / `fetchAggTrades` on the Vision and REST clients.
 *
 * @example
 * ```ts
 * import type { StreamAggTradesOptions } from "@vision-data/client/agg-trades";
 * const o: StreamAggTradesOptions = { symbol: "BTCUSDT", start: "2024-01-01", end: "2024-01-02" };
 * ```
 */
export interface StreamAggTradesOptions {
  /** The symbol, any case. */
  symbol: string;
  /** Inclusive start (on transaction time). */
  start: TimeInput;
  /** Exclusive end (on transaction time); clamped to now. */
  end: TimeInput;
  /** Aborts the stream. */
  signal?: AbortSignal;
  /** Rows per chunk at most (archives). @default {1000000} */
  chunkRows?: number;
  /** Called with each span no archive covered (Vision). */
  onGap?: (gap: TimeRange) => void;
  /**
   * Chunks are only read before the next one is asked for (e.g. written out): an archive's
   * column memory is then freed as soon as its last chunk is done with, instead of at the next
   * GC, which keeps a long stream's peak memory at one archive. Do not keep chunks (or views
   * of them) with this on: their arrays are detached. @default {false}
   */
  releaseChunks?: boolean;
}

/**
 * Options of `fetchAggTrades`: a stream collected, up to a bound.
 *
 * @example
 * ```ts
 * import type { FetchAggTradesOptions } from "@vision-data/client/agg-trades";
 * const o: FetchAggTradesOptions = { symbol: "BTCUSDT", start: 0, end: 60_000, maxRows: 10_000 };
 * ```
 */
export interface FetchAggTradesOptions extends StreamAggTradesOptions {
  /** Rows at most; past it `AggTradesTooLargeError`. @default {5000000} */
  maxRows?: number;
}

/**
 * A `fetchAggTrades` range with more rows than `maxRows`: stream it instead.
 *
 * @example
 * ```ts
 * import { AggTradesTooLargeError } from "@vision-data/client/agg-trades";
 * new AggTradesTooLargeError(5_000_000).message.includes("streamAggTrades"); // true
 * ```
 */
export class AggTradesTooLargeError extends VisionDataError {
  /** The bound that was passed. */
  readonly maxRows: number;
  /** @param maxRows the bound that was passed */
  /**
   * Creates an instance.
   *
   * @param maxRows the bound that was passed
   */
  constructor(maxRows: number) {
    super(
      `The aggTrades range holds more than maxRows ${maxRows} rows; allowed: up to maxRows ` +
        `(raise it) — or use streamAggTrades(), which keeps one archive in memory at a time`,
    );
    this.maxRows = maxRows;
  }
}

/**
 * Collects a stream into one set of columns, failing past `maxRows`
 * ({@linkcode AggTradesTooLargeError}).
 *
 * @example
 * ```ts ignore
 * import { collectAggTrades } from "@vision-data/client/agg-trades";
 * const all = await collectAggTrades(vision.streamAggTrades(q), 1_000_000);
 * ```
 */
export async function collectAggTrades(
  stream: AsyncIterable<AggTradeColumns>,
  maxRows = 5_000_000,
): Promise<AggTradeColumns> {
  const parts: AggTradeColumns[] = [];
  let n = 0;
  for await (const c of stream) {
    n += c.aggTradeId.length;
    if (n > maxRows) throw new AggTradesTooLargeError(maxRows);
    parts.push(c);
  }
  return concatAggTrades(parts);
}
