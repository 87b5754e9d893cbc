/**
 * Funding rates from the Vision archive: monthly files only,
 * `data/futures/{um|cm}/monthly/fundingRate/{SYM}/{SYM}-fundingRate-YYYY-MM.zip` with a
 * `.CHECKSUM` (binance_protocol.md §A1; binance-public-data README, "fundingRate" is a
 * monthly-only futures data type). Downloads reuse the kline path: checksum verified while
 * streaming, retried, absent (404/403) is not an error.
 *
 * @module
 */
import { marketCapabilities, type MarketType } from "../market.ts";
import { monthStart, type TimeRange, utcMonth } from "../time.ts";
import { runWorkerLoop } from "../_worker_loop.ts";
import { downloadArchive, type DownloadContext } from "../vision/_download.ts";
import { extractSingleCsvSync } from "../vision/zip.ts";
import { parseFundingCsv } from "./_csv.ts";
import type { FundingColumns } from "./funding_rates.ts";
import { FundingRates } from "./funding_rates.ts";

const VISION_SOURCE = 1;

/** The archive key of a symbol's funding month (no leading slash). */
export function fundingArchivePath(market: MarketType, symbol: string, month: string): string {
  const prefix = marketCapabilities(market).visionPrefix;
  return `data/${prefix}/monthly/fundingRate/${symbol}/${symbol}-fundingRate-${month}.zip`;
}

/** What the Vision fetch needs from its client. */
export interface FundingVisionContext {
  /** Archive host, no trailing slash. */
  baseUrl: string;
  /** `um` or `cm`. */
  market: MarketType;
  /** Now, epoch ms: months not ended are not published yet. */
  now: number;
  /** Archives at once. */
  concurrency: number;
  /** The client's download context, minus the parsers (funding files are tiny: parsed inline). */
  download: Omit<DownloadContext<FundingColumns>, "parse" | "parseBytes">;
}

/** Parses a funding zip in memory (a month is a few KB). */
function parseZip(zip: Uint8Array, file: string): FundingColumns {
  return parseFundingCsv(extractSingleCsvSync(zip, { file }), file);
}

/**
 * Funding rows with `fundingTime` in `range` from the monthly archives; `gaps` are the parts
 * of the range in months whose archive is absent or not yet published.
 */
export async function fetchFundingVision(
  ctx: FundingVisionContext,
  symbol: string,
  range: TimeRange,
  signal: AbortSignal,
): Promise<FundingRates> {
  const months: TimeRange[] = [];
  for (let m = monthStart(range.start); m < range.end; m = monthStart(m, 1)) {
    months.push({ start: m, end: monthStart(m, 1) });
  }
  const meta = { symbol, marketType: ctx.market };
  const parts: FundingRates[] = [];
  const lacked: TimeRange[] = [];
  const dctx: DownloadContext<FundingColumns> = {
    ...ctx.download,
    parseBytes: (zip, file) => Promise.resolve().then(() => parseZip(zip, file)),
    parse: async (path, file) => parseZip(await Deno.readFile(path), file),
  };
  await runWorkerLoop(months, {
    concurrency: ctx.concurrency,
    signal,
    handle: async (month, sig) => {
      const label = utcMonth(month.start);
      const path = fundingArchivePath(ctx.market, symbol, label);
      const fileName = path.slice(path.lastIndexOf("/") + 1);
      const out = month.end > ctx.now
        ? { status: "absent" as const }
        : await downloadArchive(dctx, `${ctx.baseUrl}/${path}`, fileName, sig);
      if (out.status === "ok") {
        const sources = new Uint8Array(out.columns.fundingTime.length).fill(VISION_SOURCE);
        parts.push(new FundingRates({ ...meta, columns: out.columns, sources }));
      } else {
        lacked.push({
          start: Math.max(month.start, range.start),
          end: Math.min(month.end, range.end),
        });
      }
    },
  });
  return FundingRates.merge(parts, meta, lacked).between(range.start, range.end);
}
