/**
 * Aggregate trades from the archive with REST for what it lacks (the days not published yet),
 * as one stream of chunks.
 *
 * @module
 */
import { type TimeRange, toEpochMs } from "../time.ts";
import type { AggTradeColumns } from "./columns.ts";
import type { StreamAggTradesOptions } from "./options.ts";

/** A client that streams aggregate trades. */
export interface AggTradesSource {
  /** Chunks of `[start, end)`, in time order. */
  streamAggTrades(options: StreamAggTradesOptions): AsyncGenerator<AggTradeColumns>;
}

/**
 * Archive chunks first; each span the archive lacked (`onGap` of the Vision stream) is then
 * streamed from REST, when given. The spans are usually the trailing unpublished days, so the
 * chunks come in time order; a hole in the middle of the archive is filled after it. Spans
 * still empty after REST go to `options.onGap`.
 *
 * @example
 * ```ts ignore
 * import { RestDataClient, streamAggTradesWithFallback, VisionDataClient } from "@vision-data/client/agg-trades";
 * await using vision = new VisionDataClient({ marketType: "spot" });
 * await using rest = new RestDataClient({ marketType: "spot" });
 * const q = { symbol: "BTCUSDT", start: Date.now() - 2 * 86400000, end: Date.now() };
 * for await (const c of streamAggTradesWithFallback(vision, rest, q)) console.log(c.price.length);
 * ```
 */
export async function* streamAggTradesWithFallback(
  vision: AggTradesSource | undefined,
  rest: AggTradesSource | undefined,
  options: StreamAggTradesOptions,
): AsyncGenerator<AggTradeColumns> {
  const lacked: TimeRange[] = [];
  if (vision) {
    yield* vision.streamAggTrades({ ...options, onGap: (g) => lacked.push(g) });
  } else {
    lacked.push({ start: toEpochMs(options.start, "start"), end: toEpochMs(options.end, "end") });
  }
  for (const span of lacked) {
    if (!rest) {
      options.onGap?.(span);
      continue;
    }
    let rows = 0;
    for await (const c of rest.streamAggTrades({ ...options, ...span, onGap: undefined })) {
      rows += c.aggTradeId.length;
      yield c;
    }
    if (rows === 0) options.onGap?.(span);
  }
}
