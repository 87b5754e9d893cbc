/**
 * The replica's aggregate trades (spot, um, cm): generated per closed minute from the same
 * 1m trade klines (prices inside the minute's low–high, seeded counts, ids increasing with
 * time), so the archive, REST and the truth agree. Archives: daily and monthly `aggTrades/`
 * with `.CHECKSUM` (spot: no header, `is_best_match`, µs from 2025; futures: header). REST:
 * `GET /api/v3|fapi/v1|dapi/v1/aggTrades` by `fromId` or a time window under an hour.
 *
 * @module
 */
import {
  AGG_TRADE_NUMERIC,
  type AggTradeColumns,
  allocateAggTradeColumns,
  concatAggTrades,
  sliceAggTrades,
} from "../src/agg_trades/columns.ts";
import type { MarketType } from "../src/market.ts";
import { DAY_MS, monthStart } from "../src/time.ts";
import { AsciiWriter } from "./_ascii.ts";
import {
  type ArchiveCache,
  type BuiltArchive,
  csvArchive,
  type PublicationLag,
} from "./_archive.ts";
import { type Dataset, hashString, type SymbolSpec } from "./_dataset.ts";
import { apiError, type RestContext, type RouteResult, symbolSpec, uintParam } from "./_rest.ts";

const MIN = 60_000;

/** Average agg trades per minute of a symbol: its turnover / 4000 (default symbols: 100). */
function perMinute(spec: SymbolSpec): number {
  return Math.max(1, Math.min(20_000, Math.round(spec.quotePerMinute / 4000)));
}

/** Ids per minute: the most a minute can hold, so ids grow with time. */
function idStride(spec: SymbolSpec): number {
  return 2 * perMinute(spec);
}

function firstMinute(spec: SymbolSpec): number {
  return Math.floor(spec.listedAt / MIN) * MIN;
}

function h(spec: SymbolSpec, a: number, b: number): number {
  return hashString(`${spec.key}|agg|${a}|${b}`);
}

/** Trades of one minute, appended to arrays. */
function minuteTrades(
  spec: SymbolSpec,
  open: number,
  low: number,
  high: number,
  out: number[][],
  flags: number[],
): void {
  const avg = perMinute(spec);
  const n = 1 + (h(spec, open, -1) % (2 * avg - 1 || 1));
  const slot = Math.floor(MIN / n);
  const base = ((open - firstMinute(spec)) / MIN) * idStride(spec);
  const pdp = 10 ** spec.decimals.price;
  const qdp = 10 ** spec.decimals.volume;
  for (let j = 0; j < n; j++) {
    const r = h(spec, open, j);
    const id = base + j;
    const u = (r % 10007) / 10006;
    out[0].push(id);
    out[1].push(Math.round((low + (high - low) * u) * pdp) / pdp);
    out[2].push((1 + (r % 997)) / qdp);
    out[3].push(id * 4);
    out[4].push(id * 4 + (r >>> 20) % 4);
    out[5].push(open + j * slot + ((r >>> 8) % slot));
    flags.push(r & 1);
  }
}

/** Agg trades with time in `[start, end)` of closed minutes (as of `now`). */
export function aggTradeRows(
  dataset: Dataset,
  spec: SymbolSpec,
  start: number,
  end: number,
  now: number,
): AggTradeColumns {
  const k = dataset.rows({
    spec,
    interval: "1m",
    start: Math.floor(start / MIN) * MIN,
    end: Math.min(end, now),
    now,
  });
  const cols: number[][] = [[], [], [], [], [], []];
  const flags: number[] = [];
  for (let i = 0; i < k.openTime.length; i++) {
    minuteTrades(spec, k.openTime[i], k.low[i], k.high[i], cols, flags);
  }
  // Trim to [start, end) on time (the first minute may start before `start`).
  let a = 0;
  while (a < cols[5].length && cols[5][a] < start) a++;
  let b = cols[5].length;
  while (b > a && cols[5][b - 1] >= end) b--;
  const out = allocateAggTradeColumns(b - a);
  AGG_TRADE_NUMERIC.forEach((name, f) => out[name].set(cols[f].slice(a, b)));
  out.isBuyerMaker.set(flags.slice(a, b));
  return out;
}

const PATH_RE =
  /^data\/(spot|futures\/um|futures\/cm)\/(daily|monthly)\/aggTrades\/([A-Z0-9_]+)\/([A-Z0-9_]+)-aggTrades-(\d{4}-\d\d(?:-\d\d)?)\.zip$/;

/** The CSV of an archive period, as Binance writes it. */
function aggTradesCsv(
  dataset: Dataset,
  spec: SymbolSpec,
  c: AggTradeColumns,
  start: number,
): Uint8Array {
  const spot = spec.marketType === "spot";
  const us = spot && start >= dataset.spotMicrosFrom;
  const w = new AsciiWriter(c.aggTradeId.length * 80 + 128);
  if (!spot) {
    w.text(
      "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n",
    );
  }
  for (let i = 0; i < c.aggTradeId.length; i++) {
    w.integer(c.aggTradeId[i]);
    w.byte(44);
    w.decimal(c.price[i], spec.decimals.price);
    w.byte(44);
    w.decimal(c.quantity[i], spec.decimals.volume);
    w.byte(44);
    w.integer(c.firstTradeId[i]);
    w.byte(44);
    w.integer(c.lastTradeId[i]);
    w.byte(44);
    w.integer(us ? c.transactTime[i] * 1000 + 123 : c.transactTime[i]);
    if (spot) w.text(c.isBuyerMaker[i] ? ",True,True\n" : ",False,True\n");
    else w.text(c.isBuyerMaker[i] ? ",true\n" : ",false\n");
  }
  return w.bytes();
}

/** The archive at `key` (no `.CHECKSUM`) when it is a published aggTrades period, else null. */
export function aggTradesArchive(
  dataset: Dataset,
  cache: ArchiveCache,
  key: string,
  now: number,
  lag: PublicationLag,
  zipLevel: number,
): BuiltArchive | null {
  const m = PATH_RE.exec(key);
  if (!m || m[3] !== m[4]) return null;
  const market = (m[1] === "spot" ? "spot" : m[1].slice(8)) as MarketType;
  const spec = dataset.spec(market, m[3]);
  const daily = m[2] === "daily";
  if (!spec || daily !== (m[5].length === 10)) return null;
  const start = Date.parse(daily ? `${m[5]}T00:00:00Z` : `${m[5]}-01T00:00:00Z`);
  if (!Number.isFinite(start)) return null;
  const end = daily ? start + DAY_MS : monthStart(start, 1);
  const published = end + (daily ? lag.daily : lag.monthly);
  if (published > now) return null;
  const hit = cache.get(key);
  if (hit) return hit;
  const rows = aggTradeRows(dataset, spec, start, end, now);
  if (rows.aggTradeId.length === 0) return null;
  const built = csvArchive(
    dataset,
    key,
    aggTradesCsv(dataset, spec, rows, start),
    published,
    zipLevel,
  );
  cache.set(key, built);
  return built;
}

/** `GET /api/v3/aggTrades`, `/fapi/v1/aggTrades`, `/dapi/v1/aggTrades`. */
export function handleAggTrades(
  market: MarketType,
  params: URLSearchParams,
  ctx: RestContext,
): RouteResult {
  const spec = symbolSpec(market, params, ctx);
  if (!("marketType" in spec)) return spec;
  const raw = {
    fromId: uintParam(params, "fromId"),
    startTime: uintParam(params, "startTime"),
    endTime: uintParam(params, "endTime"),
  };
  for (const [name, v] of Object.entries(raw)) {
    if (v === null) return apiError(400, -1100, `Illegal characters found in parameter '${name}'.`);
  }
  const { fromId, startTime, endTime } = raw as Record<string, number | undefined>;
  const limit = uintParam(params, "limit") ?? 500;
  if (limit === null || limit < 1 || limit > 1000) {
    return apiError(400, -1130, "Data sent for parameter 'limit' is not valid.");
  }
  if (startTime !== undefined && endTime !== undefined && endTime - startTime >= 3_600_000) {
    return apiError(400, -1127, "More than 1 hours between startTime and endTime.");
  }
  const now = ctx.now;
  let rows: AggTradeColumns;
  let a = 0;
  let b: number;
  if (fromId !== undefined) {
    // The minute holding fromId, then forward until `limit` rows are found (or now).
    let t = firstMinute(spec) + Math.floor(fromId / idStride(spec)) * MIN;
    const parts: AggTradeColumns[] = [];
    let n = 0;
    while (n < limit && t < now) {
      const c = aggTradeRows(ctx.dataset, spec, t, t + 60 * MIN, now);
      let i = 0;
      while (i < c.aggTradeId.length && c.aggTradeId[i] < fromId) i++;
      n += c.aggTradeId.length - i;
      parts.push(sliceAggTrades(c, i, c.aggTradeId.length));
      t += 60 * MIN;
    }
    rows = concatAggTrades(parts);
    b = Math.min(limit, rows.aggTradeId.length);
  } else {
    const end = endTime === undefined ? now + 1 : endTime + 1;
    const start = startTime ?? end - 3_600_000;
    rows = aggTradeRows(ctx.dataset, spec, start, end, now);
    const n = rows.aggTradeId.length;
    if (startTime === undefined) a = Math.max(0, n - limit);
    b = startTime === undefined ? n : Math.min(n, limit);
  }
  const w = new AsciiWriter((b - a) * 140 + 2);
  w.byte(91);
  const d = spec.decimals;
  for (let i = a; i < b; i++) {
    w.text(i > a ? ',{"a":' : '{"a":');
    w.integer(rows.aggTradeId[i]);
    w.text(',"p":"');
    w.decimal(rows.price[i], d.price);
    w.text('","q":"');
    w.decimal(rows.quantity[i], d.volume);
    w.text('","f":');
    w.integer(rows.firstTradeId[i]);
    w.text(',"l":');
    w.integer(rows.lastTradeId[i]);
    w.text(',"T":');
    w.integer(rows.transactTime[i]);
    w.text(rows.isBuyerMaker[i] ? ',"m":true' : ',"m":false');
    w.text(market === "spot" ? ',"M":true}' : "}");
  }
  w.byte(93);
  return {
    status: 200,
    headers: { "content-type": "application/json;charset=UTF-8" },
    body: w.bytes(),
  };
}
