/**
 * The replica's REST endpoints: klines and exchangeInfo for spot, USDⓈ-M and COIN-M, with
 * Binance's parameter rules, request weights and rate limiting.
 *
 * @module
 */
import {
  ALL_INTERVALS,
  type Interval,
  intervalMs,
  marketCapabilities,
  type MarketType,
} from "../src/market.ts";
import { monthStart } from "../src/time.ts";
import { allocateColumns, type KlineColumns } from "../src/columns.ts";
import { AsciiWriter } from "./_ascii.ts";
import { type CsvDecimals, formatDecimal } from "./_csv_format.ts";
import type { KlineKind } from "../src/kline_kind.ts";
import { kindDecimals, kindSpec } from "./_kinds.ts";
import { ceilOpen, type Dataset, floorOpen, type SymbolSpec } from "./_dataset.ts";
import { type ExtraRestEndpoint, klinesInTimeZone } from "./_rest_extra.ts";

/** A response before it is sent. */
export interface RouteResult {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

const encoder = new TextEncoder();

/** A `{code,msg}` error body. */
export function apiError(
  status: number,
  code: number,
  msg: string,
  extra: Record<string, string> = {},
): RouteResult {
  return {
    status,
    headers: { "content-type": "application/json;charset=UTF-8", ...extra },
    body: encoder.encode(JSON.stringify({ code, msg })),
  };
}

/** Sliding-window request-weight accounting per market, with 429 → 418 escalation. */
export class RateLimiter {
  readonly #entries: Record<MarketType, { t: number; w: number }[]> = { spot: [], um: [], cm: [] };
  readonly #limitedUntil: Record<MarketType, number> = { spot: 0, um: 0, cm: 0 };
  readonly #bannedUntil: Record<MarketType, number> = { spot: 0, um: 0, cm: 0 };
  readonly limits: Record<MarketType, number>;
  readonly windowMs: number;
  readonly banMs: number;
  readonly clock: () => number;

  constructor(
    limits: Partial<Record<MarketType, number>>,
    options: { windowMs?: number; banMs?: number; clock?: () => number },
  ) {
    this.limits = {
      spot: limits.spot ?? marketCapabilities("spot").restWeightPerMinute,
      um: limits.um ?? marketCapabilities("um").restWeightPerMinute,
      cm: limits.cm ?? marketCapabilities("cm").restWeightPerMinute,
    };
    this.windowMs = options.windowMs ?? 60_000;
    this.banMs = options.banMs ?? 120_000;
    this.clock = options.clock ?? (() => performance.now());
  }

  /** Weight used in the current window. */
  used(market: MarketType): number {
    const now = this.clock();
    const list = this.#entries[market];
    while (list.length > 0 && list[0].t <= now - this.windowMs) list.shift();
    let s = 0;
    for (const e of list) s += e.w;
    return s;
  }

  /** Accounts a request of `weight`; returns the refusal when over budget or banned. */
  take(market: MarketType, weight: number): { used: number; refuse?: RouteResult } {
    const now = this.clock();
    const used = this.used(market);
    if (now < this.#bannedUntil[market] || now < this.#limitedUntil[market]) {
      // Still sending while told to back off: Binance bans the IP (418).
      if (now >= this.#bannedUntil[market]) this.#bannedUntil[market] = now + this.banMs;
      const until = this.#bannedUntil[market];
      const secs = Math.max(1, Math.ceil((until - now) / 1000));
      return {
        used,
        refuse: apiError(
          418,
          -1003,
          `Way too much request weight used; IP banned until ${
            Math.round(Date.now() + until - now)
          }. Please use WebSocket Streams for live updates to avoid bans.`,
          { "retry-after": String(secs), ...weightHeaders(used) },
        ),
      };
    }
    const limit = this.limits[market];
    if (used + weight > limit) {
      // Retry when enough of the window has slid out to fit this request.
      let free = limit - used;
      let at = now + 1000;
      for (const e of this.#entries[market]) {
        free += e.w;
        at = e.t + this.windowMs;
        if (free >= weight) break;
      }
      const secs = Math.max(1, Math.ceil((at - now) / 1000));
      this.#limitedUntil[market] = now + secs * 1000;
      return {
        used,
        refuse: apiError(
          429,
          -1003,
          `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
          { "retry-after": String(secs), ...weightHeaders(used) },
        ),
      };
    }
    this.#entries[market].push({ t: now, w: weight });
    return { used: used + weight };
  }

  /** Forgets all weight, limits and bans. */
  reset(): void {
    for (const m of ["spot", "um", "cm"] as const) {
      this.#entries[m] = [];
      this.#limitedUntil[m] = 0;
      this.#bannedUntil[m] = 0;
    }
  }
}

/** The used-weight headers. */
export function weightHeaders(used: number): Record<string, string> {
  return { "x-mbx-used-weight": String(used), "x-mbx-used-weight-1m": String(used) };
}

/** REST market of a path, and the endpoint. */
export function restRoute(
  path: string,
): { market: MarketType; endpoint: RestEndpoint } | null {
  const m =
    /^\/(api\/v3|fapi\/v1|dapi\/v1)\/(klines|exchangeInfo|markPriceKlines|indexPriceKlines|premiumIndexKlines|fundingRate|aggTrades)$/
      .exec(path);
  if (!m) return null;
  const market: MarketType = m[1] === "api/v3" ? "spot" : m[1] === "fapi/v1" ? "um" : "cm";
  // Spot has trade klines only (Binance spot REST docs): the rest is 404 there.
  if (market === "spot" && !["klines", "exchangeInfo", "aggTrades"].includes(m[2])) return null;
  return { market, endpoint: m[2] as RestEndpoint };
}

/** The replica's REST endpoints. */
export type RestEndpoint =
  | "klines"
  | "exchangeInfo"
  | "markPriceKlines"
  | "indexPriceKlines"
  | "premiumIndexKlines"
  | "fundingRate"
  | "aggTrades";

/** Request weight of an endpoint call. */
export function restWeight(
  market: MarketType,
  endpoint: RestEndpoint | ExtraRestEndpoint,
  params: URLSearchParams,
): number {
  if (endpoint === "exchangeInfo") return market === "spot" ? 20 : 1;
  if (endpoint === "ping" || endpoint === "time") return 1;
  // fundingRate: its own 500/5min/IP pool in Binance's docs; 1 against the minute weight here.
  if (endpoint === "fundingRate") return 1;
  // aggTrades: spot 4, futures 20 (Binance REST docs, "Compressed/Aggregate Trades List").
  if (endpoint === "aggTrades") return market === "spot" ? 4 : 20;
  const raw = params.get("limit");
  const n = raw !== null && /^\d+$/.test(raw) ? Number(raw) : 500;
  return marketCapabilities(market).restWeight(n);
}

/** What the handlers need from the replica. */
export interface RestContext {
  dataset: Dataset;
  now: number;
}

function intParam(params: URLSearchParams, name: string): number | undefined | Error {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^-?\d+$/.test(raw)) return new Error(name);
  return Number(raw);
}

/** A non-negative integer parameter: `undefined` when absent, `null` when malformed. */
export function uintParam(params: URLSearchParams, name: string): number | undefined | null {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  return /^\d{1,16}$/.test(raw) ? Number(raw) : null;
}

/** The symbol a request names, or Binance's answer: -1102 when missing, -1121 when unknown. */
export function symbolSpec(
  market: MarketType,
  params: URLSearchParams,
  ctx: RestContext,
): SymbolSpec | RouteResult {
  const symbol = params.get("symbol");
  if (!symbol) return mandatory("symbol");
  return ctx.dataset.spec(market, symbol) ?? apiError(400, -1121, "Invalid symbol.");
}

const badParam = (name: string): RouteResult =>
  apiError(400, -1130, `Data sent for parameter '${name}' is not valid.`);
const mandatory = (name: string): RouteResult =>
  apiError(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);

/** Open time `n - 1` candles before the candle containing `t`. */
function backOpen(interval: Interval, t: number, n: number): number {
  const f = floorOpen(interval, t);
  return interval === "1M" ? monthStart(f, -(n - 1)) : f - (n - 1) * intervalMs(interval);
}

/** Open time `n` candles after the first candle opening at or after `t` (exclusive bound). */
function forwardOpen(interval: Interval, t: number, n: number): number {
  const c = ceilOpen(interval, t);
  return interval === "1M" ? monthStart(c, n) : c + n * intervalMs(interval);
}

/** `GET /api/v3/klines`, `/fapi/v1/klines`, `/dapi/v1/klines`. */
export function handleKlines(
  market: MarketType,
  params: URLSearchParams,
  headers: Headers,
  ctx: RestContext,
  kind: KlineKind = "trades",
): RouteResult {
  const caps = marketCapabilities(market);
  // Index price klines are asked by `pair` (Binance derivatives REST docs).
  const param = kind === "index" ? "pair" : "symbol";
  const symbol = params.get(param);
  if (!symbol) return mandatory(param);
  const ivRaw = params.get("interval");
  if (!ivRaw) return mandatory("interval");
  const spec = kindSpec(ctx.dataset, market, kind, symbol.toUpperCase());
  if (!spec || symbol !== symbol.toUpperCase()) return apiError(400, -1121, "Invalid symbol.");
  const interval = ALL_INTERVALS.find((iv) => iv === ivRaw);
  if (!interval || !caps.rest.includes(interval)) return apiError(400, -1120, "Invalid interval.");
  const startTime = intParam(params, "startTime");
  const endTime = intParam(params, "endTime");
  const limitRaw = intParam(params, "limit");
  if (startTime instanceof Error) return badParam("startTime");
  if (endTime instanceof Error) return badParam("endTime");
  if (limitRaw instanceof Error) return badParam("limit");
  const limit = limitRaw ?? 500;
  if (limit < 1 || limit > caps.restMaxLimit) return badParam("limit");
  if (market === "spot" && params.has("timeZone")) {
    return klinesInTimeZone(params, headers, ctx, (p, c) => handleKlines(market, p, headers, c));
  }
  if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
    if (market !== "spot") return apiError(400, -1023, "Start time is greater than end time.");
    return json(spec, allocateColumns(0), 0, 0, false);
  }
  if (
    market === "cm" && startTime !== undefined && endTime !== undefined &&
    endTime - startTime > caps.restMaxSpanMs
  ) {
    return apiError(400, -1127, "More than 200 days between startTime and endTime.");
  }
  const now = ctx.now;
  const first = floorOpen(interval, spec.listedAt);
  const last = Math.min(endTime ?? Infinity, now); // latest admissible open time
  let from: number, to: number, tail: boolean;
  if (startTime !== undefined && !(market === "cm" && endTime !== undefined)) {
    from = Math.max(startTime, first);
    to = Math.min(last + 1, forwardOpen(interval, from, limit));
    tail = false;
  } else {
    // Most recent `limit` candles up to endTime (or now); COIN-M does this even with a start.
    to = last + 1;
    from = Math.max(backOpen(interval, last, limit), startTime ?? -Infinity, first);
    tail = true;
  }
  if (!(from < to)) return json(spec, allocateColumns(0), 0, 0, usMode(market, headers));
  const rows = ctx.dataset.rows({
    spec,
    interval,
    start: from,
    end: to,
    now,
    includeLive: true,
    kind,
  });
  const n = rows.openTime.length;
  const a = tail ? Math.max(0, n - limit) : 0;
  const b = tail ? n : Math.min(n, limit);
  return json(spec, rows, a, b, usMode(market, headers), kindDecimals(spec, kind));
}

function usMode(market: MarketType, headers: Headers): boolean {
  return market === "spot" && headers.get("x-mbx-time-unit")?.toUpperCase() === "MICROSECOND";
}

function json(
  spec: SymbolSpec,
  c: KlineColumns,
  a: number,
  b: number,
  us: boolean,
  d: CsvDecimals = spec.decimals,
): RouteResult {
  const w = new AsciiWriter((b - a) * 190 + 2);
  const str = (x: number, dp: number) => {
    w.byte(34);
    w.decimal(x, dp);
    w.text('",');
  };
  w.byte(91);
  for (let i = a; i < b; i++) {
    w.text(i > a ? ",[" : "[");
    w.integer(us ? c.openTime[i] * 1000 : c.openTime[i]);
    w.byte(44);
    str(c.open[i], d.price);
    str(c.high[i], d.price);
    str(c.low[i], d.price);
    str(c.close[i], d.price);
    str(c.volume[i], d.volume);
    w.integer(us ? c.closeTime[i] * 1000 + 999 : c.closeTime[i]);
    w.byte(44);
    str(c.quoteVolume[i], d.quoteVolume);
    w.integer(c.trades[i]);
    w.byte(44);
    str(c.takerBuyBaseVolume[i], d.takerBuyBaseVolume);
    str(c.takerBuyQuoteVolume[i], d.takerBuyQuoteVolume);
    w.text('"0"]');
  }
  w.byte(93);
  return {
    status: 200,
    headers: { "content-type": "application/json;charset=UTF-8" },
    body: w.bytes(),
  };
}

function tradingStatus(spec: SymbolSpec, now: number): string {
  if (now < spec.listedAt) return spec.marketType === "spot" ? "PRE_TRADING" : "PENDING_TRADING";
  if (now >= spec.delistedAt) return spec.marketType === "spot" ? "BREAK" : "SETTLING";
  return "TRADING";
}

function filters(spec: SymbolSpec): Record<string, unknown>[] {
  const d = spec.decimals;
  return [
    {
      filterType: "PRICE_FILTER",
      minPrice: formatDecimal(spec.tickUnits / 10 ** d.price, d.price),
      maxPrice: formatDecimal(1_000_000, d.price),
      tickSize: formatDecimal(spec.tickUnits / 10 ** d.price, d.price),
    },
    {
      filterType: "LOT_SIZE",
      minQty: formatDecimal(spec.lotUnits / 10 ** d.volume, d.volume),
      maxQty: formatDecimal(9_000_000, d.volume),
      stepSize: formatDecimal(spec.lotUnits / 10 ** d.volume, d.volume),
    },
  ];
}

/** `GET /api/v3/exchangeInfo`, `/fapi/v1/exchangeInfo`, `/dapi/v1/exchangeInfo`. */
export function handleExchangeInfo(
  market: MarketType,
  params: URLSearchParams,
  ctx: RestContext,
  weightLimit: number,
): RouteResult {
  let specs = ctx.dataset.marketSpecs(market);
  if (market === "spot") {
    let wanted: string[] | null = null;
    const one = params.get("symbol");
    const many = params.get("symbols");
    if (one) wanted = [one];
    else if (many) {
      try {
        const parsed = JSON.parse(many);
        if (!Array.isArray(parsed)) throw new Error();
        wanted = parsed.map(String);
      } catch {
        return badParam("symbols");
      }
    }
    if (wanted) {
      const found = wanted.map((w) => specs.find((s) => s.symbol === w));
      if (found.some((s) => !s)) return apiError(400, -1121, "Invalid symbol.");
      specs = found as SymbolSpec[];
    }
  }
  const now = ctx.now;
  const rateLimits = [
    { rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: weightLimit },
  ];
  const symbols = specs.map((s) => {
    const status = tradingStatus(s, now);
    if (market === "spot") {
      return {
        symbol: s.symbol,
        status,
        baseAsset: s.baseAsset,
        baseAssetPrecision: 8,
        quoteAsset: s.quoteAsset,
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        orderTypes: ["LIMIT", "LIMIT_MAKER", "MARKET"],
        isSpotTradingAllowed: true,
        isMarginTradingAllowed: false,
        filters: filters(s),
        permissions: [],
        permissionSets: [["SPOT"]],
      };
    }
    const pair = s.symbol.split("_")[0];
    const common = {
      symbol: s.symbol,
      pair,
      contractType: s.contractType,
      deliveryDate: 4133404800000,
      onboardDate: s.listedAt,
      baseAsset: s.baseAsset,
      quoteAsset: s.quoteAsset,
      marginAsset: market === "cm" ? s.baseAsset : s.quoteAsset,
      pricePrecision: s.decimals.price,
      quantityPrecision: s.decimals.volume,
      baseAssetPrecision: 8,
      quotePrecision: 8,
      underlyingType: "COIN",
      filters: filters(s),
    };
    return market === "cm"
      ? { ...common, contractStatus: status, contractSize: s.contractSize }
      : { ...common, status };
  });
  const body = {
    timezone: "UTC",
    serverTime: now,
    rateLimits,
    exchangeFilters: [],
    ...(market === "spot" ? {} : { assets: [] }),
    symbols,
  };
  return {
    status: 200,
    headers: { "content-type": "application/json;charset=UTF-8" },
    body: encoder.encode(JSON.stringify(body)),
  };
}
