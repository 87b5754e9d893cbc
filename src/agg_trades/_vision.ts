/**
 * Aggregate trades from the Vision archive, one archive at a time:
 * `data/{spot|futures/um|futures/cm}/{daily|monthly}/aggTrades/{SYM}/{SYM}-aggTrades-{period}.zip`
 * (binance_protocol.md §A1; binance-public-data README). Whole months from monthly files, the
 * edges from daily ones; a monthly file not published falls back to its days. Each archive is
 * downloaded (checksum-verified, spilled to a temp file past 16 MiB), parsed, sliced to the
 * range and handed out in chunks before the next one is fetched: memory is bounded by one
 * archive, whatever the range.
 *
 * @module
 */
import { marketCapabilities, type MarketType } from "../market.ts";
import { daysOf, planArchives, type TimeRange } from "../time.ts";
import { downloadArchive, type DownloadContext } from "../vision/_download.ts";
import { csvNameOf } from "../vision/paths.ts";
import { extractSingleCsvSync } from "../vision/zip.ts";
import { lowerBound } from "../_float64.ts";
import { parseAggTradesCsv, release } from "./_csv.ts";
import { type AggTradeColumns, sliceAggTrades } from "./columns.ts";

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
  download: Omit<DownloadContext<AggTradeColumns>, "parse" | "parseBytes">;
}

/** Parses a zip that is ours alone, freeing the zip and the CSV as soon as they are parsed. */
function parseZip(zip: Uint8Array, zipName: string): AggTradeColumns {
  const file = csvNameOf(zipName);
  const csv = extractSingleCsvSync(zip, { file });
  // The zip is freed before the parse unless the CSV is a view of it (a STORED entry).
  if (csv.buffer !== zip.buffer) release(zip.buffer);
  const columns = parseAggTradesCsv(csv, file);
  release(csv.buffer);
  release(zip.buffer);
  return columns;
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
  const dctx: DownloadContext<AggTradeColumns> = {
    ...ctx.download,
    parseBytes: (zip, file) => Promise.resolve().then(() => parseZip(zip, file)),
    parse: async (path, file) => parseZip(await Deno.readFile(path), file),
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
    const c = out.columns;
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
}
