/**
 * Aggregate trades from REST: `GET /api/v3/aggTrades`, `/fapi/v1/aggTrades`,
 * `/dapi/v1/aggTrades` (Binance spot and derivatives REST docs, "Compressed/Aggregate Trades
 * List": `symbol`, `fromId`, `startTime`, `endTime`, `limit` ≤ 1000; startTime and endTime
 * less than one hour apart; rows `{a, p, q, f, l, T, m, M}`). Paged by time windows of one
 * hour until a window is full, then by `fromId` = last id + 1. Weight: spot 4, futures 20.
 *
 * @module
 */
import { DECIMAL_PATTERN } from "../_decimal.ts";
import { MalformedResponseError } from "../errors.ts";
import { marketCapabilities, type MarketType } from "../market.ts";
import type { TimeRange } from "../time.ts";
import { type AggTradeColumns, allocateAggTradeColumns, sliceAggTrades } from "./columns.ts";

const LIMIT = 1000;
const HOUR_MS = 3_600_000;
/** Pages of one stream at most (a billion rows): a loop guard. */
const MAX_PAGES = 1_000_000;

/** Request weight of one aggTrades call per market. */
export const AGG_TRADES_WEIGHT: Readonly<Record<MarketType, number>> = { spot: 4, um: 20, cm: 20 };

/** The REST path of aggTrades on a market. */
export function aggTradesRestPath(market: MarketType): string {
  return marketCapabilities(market).restKlinesPath.replace(/klines$/, "aggTrades");
}

/** What the REST stream needs from its client. */
export interface AggTradesRestContext {
  baseUrl: string;
  market: MarketType;
  /** One GET under the client's owner → the 2xx body (retries, pacing, 429 waits). */
  request(url: string, weight: number): Promise<Uint8Array>;
}

/** Pages of rows with `transactTime` in `range`, in id order. */
export async function* streamAggTradesRest(
  ctx: AggTradesRestContext,
  symbol: string,
  range: TimeRange,
): AsyncGenerator<AggTradeColumns> {
  let windowStart = range.start;
  let fromId: number | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const q = new URLSearchParams({ symbol, limit: String(LIMIT) });
    let windowEnd = 0;
    if (fromId === undefined) {
      if (windowStart >= range.end) return;
      windowEnd = Math.min(windowStart + HOUR_MS, range.end);
      q.set("startTime", String(windowStart));
      q.set("endTime", String(windowEnd - 1));
    } else {
      q.set("fromId", String(fromId));
    }
    const url = `${ctx.baseUrl}${aggTradesRestPath(ctx.market)}?${q}`;
    const c = decodeAggTrades(await ctx.request(url, AGG_TRADES_WEIGHT[ctx.market]), url);
    const n = c.aggTradeId.length;
    let keep = n;
    while (keep > 0 && c.transactTime[keep - 1] >= range.end) keep--;
    let first = 0;
    while (first < keep && c.transactTime[first] < range.start) first++;
    if (keep > first) yield sliceAggTrades(c, first, keep);
    if (keep < n) return; // reached the end of the range
    if (fromId === undefined && n < LIMIT) {
      windowStart = windowEnd; // the window is exhausted: the next hour
      continue;
    }
    if (n === 0) return; // fromId past the newest trade
    const last = c.aggTradeId[n - 1];
    if (fromId !== undefined && !(last >= fromId)) {
      throw new MalformedResponseError(url, `ids before fromId ${fromId}`);
    }
    fromId = last + 1;
    if (n < LIMIT) return; // no newer trades yet
  }
  throw new MalformedResponseError(ctx.baseUrl, `over ${MAX_PAGES} aggTrades pages`);
}

/** Decodes an aggTrades body; a bad row is a `MalformedResponseError`. */
export function decodeAggTrades(bytes: Uint8Array, url: string): AggTradeColumns {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new MalformedResponseError(url, "body is not JSON", { cause });
  }
  if (!Array.isArray(body) || body.length > LIMIT) {
    throw new MalformedResponseError(url, `expected an array of at most ${LIMIT} rows`);
  }
  const c = allocateAggTradeColumns(body.length);
  for (let i = 0; i < body.length; i++) {
    const r = body[i] as Record<string, unknown> | null;
    const ints = [r?.a, r?.f, r?.l, r?.T];
    if (
      !ints.every((v) => typeof v === "number" && Number.isSafeInteger(v)) ||
      typeof r?.p !== "string" || !DECIMAL_PATTERN.test(r.p) ||
      typeof r?.q !== "string" || !DECIMAL_PATTERN.test(r.q) || typeof r?.m !== "boolean"
    ) {
      throw new MalformedResponseError(url, `row ${i}: expected {a, p, q, f, l, T, m}`);
    }
    c.aggTradeId[i] = r.a as number;
    c.price[i] = Number(r.p);
    c.quantity[i] = Number(r.q);
    c.firstTradeId[i] = r.f as number;
    c.lastTradeId[i] = r.l as number;
    c.transactTime[i] = r.T as number;
    c.isBuyerMaker[i] = r.m ? 1 : 0;
  }
  return c;
}
