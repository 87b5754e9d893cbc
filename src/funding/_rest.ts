/**
 * Funding rates from REST: `GET /fapi/v1/fundingRate` (USDⓈ-M) and `/dapi/v1/fundingRate`
 * (COIN-M). Binance derivatives REST docs, "Get Funding Rate History": `symbol`,
 * `startTime`, `endTime`, `limit` (default 100, max 1000); "if the number of data between
 * startTime and endTime is larger than limit, return as startTime + limit", so pages go
 * forward from `startTime`. Rows: `{symbol, fundingTime, fundingRate, markPrice}` (COIN-M
 * and old rows may lack `markPrice`, or send `""`). The endpoint has its own 500/5min/IP
 * pool; it is paced here at weight 1 against the minute budget.
 *
 * @module
 */
import { DECIMAL_PATTERN } from "../_decimal.ts";
import { MalformedResponseError } from "../errors.ts";
import { marketCapabilities, type MarketType } from "../market.ts";
import type { TimeRange } from "../time.ts";
import { allocateFundingColumns, type FundingColumns, FundingRates } from "./funding_rates.ts";

/** Rows per page (the documented maximum). */
export const FUNDING_PAGE_LIMIT = 1000;
/** Pages of one call at most: 10 M rows, far past any contract's history. A loop guard. */
const MAX_PAGES = 10_000;
const REST_SOURCE = 2;

/** What the REST fetch needs from its client. */
export interface FundingRestContext {
  /** Base URL without trailing slash. */
  baseUrl: string;
  /** `um` or `cm`. */
  market: MarketType;
  /** One GET → the 2xx body (retries, pacing, 429 waits are the client's). */
  request(url: string, weight: number, signal: AbortSignal): Promise<Uint8Array>;
}

/** The REST path of funding history on a futures market. */
export function fundingRestPath(market: MarketType): string {
  return marketCapabilities(market).restKlinesPath.replace(/klines$/, "fundingRate");
}

/** Funding rows with `fundingTime` in `range`, paged forward by `startTime`. */
export async function fetchFundingRest(
  ctx: FundingRestContext,
  symbol: string,
  range: TimeRange,
  signal: AbortSignal,
): Promise<FundingRates> {
  const parts: FundingRates[] = [];
  const meta = { symbol, marketType: ctx.market };
  let cursor = range.start;
  for (let page = 0; cursor < range.end; page++) {
    if (page >= MAX_PAGES) {
      throw new MalformedResponseError(ctx.baseUrl, `over ${MAX_PAGES} funding pages`);
    }
    const q = new URLSearchParams({
      symbol,
      startTime: String(cursor),
      endTime: String(range.end - 1),
      limit: String(FUNDING_PAGE_LIMIT),
    });
    const url = `${ctx.baseUrl}${fundingRestPath(ctx.market)}?${q}`;
    const columns = decodeFundingBody(await ctx.request(url, 1, signal), url);
    const n = columns.fundingTime.length;
    if (n === 0) break;
    const sources = new Uint8Array(n).fill(REST_SOURCE);
    parts.push(new FundingRates({ ...meta, columns, sources }));
    const last = columns.fundingTime[n - 1];
    if (!(last >= cursor)) {
      throw new MalformedResponseError(url, `rows before startTime ${cursor} (last ${last})`);
    }
    if (n < FUNDING_PAGE_LIMIT) break;
    cursor = last + 1;
  }
  return FundingRates.merge(parts, meta).between(range.start, range.end);
}

/** Decodes a fundingRate body; a row with a bad field is a `MalformedResponseError`. */
export function decodeFundingBody(bytes: Uint8Array, url: string): FundingColumns {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new MalformedResponseError(url, "body is not JSON", { cause });
  }
  if (!Array.isArray(body)) throw new MalformedResponseError(url, "expected an array");
  if (body.length > FUNDING_PAGE_LIMIT) {
    throw new MalformedResponseError(url, `${body.length} rows, over limit ${FUNDING_PAGE_LIMIT}`);
  }
  const c = allocateFundingColumns(body.length);
  c.intervalHours.fill(NaN); // REST does not say; merge derives it from the spacing
  for (let i = 0; i < body.length; i++) {
    const row = body[i] as Record<string, unknown> | null;
    const t = row?.fundingTime;
    const rate = decimal(row?.fundingRate);
    if (typeof t !== "number" || !Number.isSafeInteger(t) || Number.isNaN(rate)) {
      throw new MalformedResponseError(url, `row ${i}: expected fundingTime and fundingRate`);
    }
    c.fundingTime[i] = t;
    c.fundingRate[i] = rate;
    c.markPrice[i] = decimal(row?.markPrice);
  }
  return c;
}

function decimal(v: unknown): number {
  return typeof v === "string" && DECIMAL_PATTERN.test(v) ? Number(v) : NaN;
}
