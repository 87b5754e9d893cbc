/**
 * Aggregate trades from the Vision archive, one archive at a time:
 * `data/{spot|futures/um|futures/cm}/{daily|monthly}/aggTrades/{SYM}/{SYM}-aggTrades-{period}.zip`
 * (binance_protocol.md §A1; binance-public-data README). Whole months from monthly files, the
 * edges from daily ones; a monthly file not published falls back to its days. Each archive is
 * downloaded (checksum-verified, spilled to a temp file past 16 MiB), then inflated and
 * parsed a few MiB at a time (`_zip_pieces.ts`), sliced to the range and handed out in
 * chunks before the next one is fetched: memory is bounded by one zip and one piece,
 * whatever the range or the day's size.
 *
 * @module
 */
import { marketCapabilities, type MarketType } from "../market.ts";
import { daysOf, planArchives, type TimeRange } from "../time.ts";
import { downloadArchive, type DownloadContext } from "../vision/_download.ts";
import { lowerBound } from "../_float64.ts";
import { release } from "./_csv.ts";
import { type AggTradeColumns, sliceAggTrades } from "./columns.ts";
import { parseAggTradesZip } from "./_zip_pieces.ts";

/** The archive key of an aggTrades period (no leading slash). */
export function aggTradesArchivePath(
  market: MarketType,
  symbol: string,
  period: { kind: "daily" | "monthly"; label: string },
): string {
  const prefix = marketCapabilities(market).visionPrefix;
  return `data/${prefix}/${period.kind}/aggTrades/${symbol}/${symbol}-aggTrades-${period.label}.zip`;
}

/** What the archive stream needs from its client. */
export interface AggTradesVisionContext {
  baseUrl: string;
  market: MarketType;
  now: number;
  /** Runs one step under the client's owner (linked to its signal; refused once closed). */
  run<T>(step: (signal: AbortSignal) => Promise<T>): Promise<T>;
  download: Omit<DownloadContext<Uint8Array>, "parse" | "parseBytes">;
}

/**
 * Chunks of at most `chunkRows` rows with `transactTime` in `range`, in time order; `onGap`
 * gets each span whose archive is absent or not yet published.
 */
export async function* streamAggTradesVision(
  ctx: AggTradesVisionContext,
  symbol: string,
  range: TimeRange,
  chunkRows: number,
  onGap?: (gap: TimeRange) => void,
  releaseChunks = false,
): AsyncGenerator<AggTradeColumns> {
  const plan = planArchives(range);
  // The download hands over the verified zip itself; it is parsed piece by piece below.
  const dctx: DownloadContext<Uint8Array> = {
    ...ctx.download,
    parseBytes: (zip) => Promise.resolve(zip),
    parse: (path) => Deno.readFile(path),
  };
  while (plan.length > 0) {
    const period = plan.shift()!;
    const path = aggTradesArchivePath(ctx.market, symbol, period);
    const fileName = path.slice(path.lastIndexOf("/") + 1);
    const out = period.end > ctx.now
      ? { status: "absent" as const }
      : await ctx.run((signal) =>
        downloadArchive(dctx, `${ctx.baseUrl}/${path}`, fileName, signal)
      );
    if (out.status !== "ok") {
      if (period.kind === "monthly") {
        plan.unshift(...daysOf(period));
      } else {
        onGap?.({
          start: Math.max(period.start, range.start),
          end: Math.min(period.end, range.end),
        });
      }
      continue;
    }
    const zip = out.columns;
    const pieces = parseAggTradesZip(zip, fileName);
    try {
      for (;;) {
        // Each piece is a step under the client: refused once it is closed, so a stream
        // suspended at a yield rejects on its next step after dispose.
        const next = await ctx.run(() => pieces.next());
        if (next.done) {
          release(zip.buffer); // inflated to the end: nothing reads it any more
          break;
        }
        const c = next.value;
        const a = lowerBound(c.transactTime, range.start);
        const b = lowerBound(c.transactTime, range.end);
        for (let at = a; at < b; at += chunkRows) {
          yield sliceAggTrades(c, at, Math.min(b, at + chunkRows));
        }
        if (releaseChunks) {
          release(c.aggTradeId.buffer); // the numeric columns share one buffer
          release(c.isBuyerMaker.buffer);
        }
      }
    } finally {
      await pieces.return(undefined);
    }
  }
}
