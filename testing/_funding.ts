/**
 * The replica's funding rates (um, cm): a deterministic schedule per contract and month
 * (8 h, 4 h or 1 h intervals on the UTC-midnight grid, so no single grid holds), rates hashed
 * from the funding time, mark prices from the mark price klines. Served as monthly Vision
 * archives (`fundingRate/`, with `.CHECKSUM`) and as `GET /fapi/v1/fundingRate` and
 * `/dapi/v1/fundingRate` (Binance derivatives REST docs, "Get Funding Rate History").
 *
 * @module
 */
import type { MarketType } from "../src/market.ts";
import { monthStart, utcMonth } from "../src/time.ts";
import { AsciiWriter } from "./_ascii.ts";
import {
  type ArchiveCache,
  type BuiltArchive,
  csvArchive,
  type PublicationLag,
} from "./_archive.ts";
import { formatDecimal } from "./_csv_format.ts";
import { type Dataset, hashString, type SymbolSpec } from "./_dataset.ts";
import { apiError, type RestContext, type RouteResult, symbolSpec, uintParam } from "./_rest.ts";

const HOUR_MS = 3_600_000;
const HOURS = [8, 8, 8, 4, 1] as const;
const RATE_DECIMALS = 8;
const MARK_DECIMALS = 8;
const encoder = new TextEncoder();

/** Funding rows, as the replica's truth. */
export interface FundingTruth {
  /** Funding times, epoch ms. */
  fundingTime: Float64Array;
  /** The rates, as decimals (0.0001 = 0.01 %). */
  fundingRate: Float64Array;
  /** NaN on COIN-M: its REST rows carry no mark price. */
  markPrice: Float64Array;
  /** Hours between this funding and the previous one. */
  intervalHours: Float64Array;
}

/** The funding interval in force during the month starting at `m`. */
function hoursOf(spec: SymbolSpec, m: number): number {
  return HOURS[hashString(`${spec.key}|funding|${m}`) % HOURS.length];
}

/** The times and intervals of {@linkcode fundingRows}, without the rates and mark prices. */
function fundingTimes(
  spec: SymbolSpec,
  start: number,
  end: number,
  now: number,
): { times: number[]; hours: number[] } {
  const times: number[] = [];
  const hours: number[] = [];
  if (spec.marketType !== "spot") {
    const stop = Math.min(end, now + 1, spec.delistedAt);
    for (let m = monthStart(Math.max(start, spec.listedAt)); m < stop; m = monthStart(m, 1)) {
      const h = hoursOf(spec, m);
      const prev = hoursOf(spec, monthStart(m, -1));
      for (let t = m; t < monthStart(m, 1) && t < stop; t += h * HOUR_MS) {
        // An event settles the interval before it: at a month's first event, the last month's.
        if (t >= start && t > spec.listedAt) {
          times.push(t);
          hours.push(t === m ? prev : h);
        }
      }
    }
  }
  return { times, hours };
}

/** Whether the month starting at `month` has a funding event (so a Vision file). */
export function fundingMonthHasRows(
  spec: SymbolSpec,
  month: number,
  now: number,
): boolean {
  return fundingTimes(spec, month, monthStart(month, 1), now).times.length > 0;
}

/**
 * Funding events of a contract with time in `[start, end)`, none after `now` nor outside
 * its listing; spot has none.
 */
export function fundingRows(
  dataset: Dataset,
  spec: SymbolSpec,
  start: number,
  end: number,
  now: number,
): FundingTruth {
  const { times, hours } = fundingTimes(spec, start, end, now);
  const n = times.length;
  const out: FundingTruth = {
    fundingTime: Float64Array.from(times),
    fundingRate: new Float64Array(n),
    markPrice: new Float64Array(n),
    intervalHours: Float64Array.from(hours),
  };
  for (let i = 0; i < n; i++) {
    const t = times[i];
    const k = hashString(`${spec.key}|rate|${t}`) % 20001 - 10000; // ±0.0001
    out.fundingRate[i] = k / 10 ** RATE_DECIMALS;
    if (spec.marketType === "cm") {
      out.markPrice[i] = NaN;
      continue;
    }
    const mark = dataset.rows({
      spec,
      interval: "1m",
      start: t - 60_000,
      end: t,
      now,
      kind: "mark",
    });
    out.markPrice[i] = mark.close.length > 0 ? mark.close[0] : NaN;
  }
  return out;
}

const PATH_RE =
  /^data\/futures\/(um|cm)\/monthly\/fundingRate\/([A-Z0-9_]+)\/([A-Z0-9_]+)-fundingRate-(\d{4}-\d\d)\.zip$/;

/**
 * The archive at `key` (no `.CHECKSUM`) when it is a published funding month, else null.
 * Published `lag.monthly` after the month ends; no file for a month without events.
 */
export function fundingArchive(
  dataset: Dataset,
  cache: ArchiveCache,
  key: string,
  now: number,
  lag: PublicationLag,
  zipLevel: number,
): BuiltArchive | null {
  const m = PATH_RE.exec(key);
  if (!m || m[2] !== m[3]) return null;
  const spec = dataset.spec(m[1] as MarketType, m[2]);
  const start = Date.parse(`${m[4]}-01T00:00:00Z`);
  if (!spec || !Number.isFinite(start) || utcMonth(start) !== m[4]) return null;
  const end = monthStart(start, 1);
  const published = end + lag.monthly;
  if (published > now) return null;
  const hit = cache.get(key);
  if (hit) return hit;
  const rows = fundingRows(dataset, spec, start, end, now);
  if (rows.fundingTime.length === 0) return null;
  let csv = "calc_time,funding_interval_hours,last_funding_rate\n";
  for (let i = 0; i < rows.fundingTime.length; i++) {
    csv += `${rows.fundingTime[i]},${rows.intervalHours[i]},${
      formatDecimal(rows.fundingRate[i], RATE_DECIMALS)
    }\n`;
  }
  const built = csvArchive(dataset, key, encoder.encode(csv), published, zipLevel);
  cache.set(key, built);
  return built;
}

/** `GET /fapi/v1/fundingRate`, `/dapi/v1/fundingRate`. */
export function handleFundingRate(
  market: MarketType,
  params: URLSearchParams,
  ctx: RestContext,
): RouteResult {
  const spec = symbolSpec(market, params, ctx);
  if (!("marketType" in spec)) return spec;
  const startTime = uintParam(params, "startTime");
  const endTime = uintParam(params, "endTime");
  const limit = uintParam(params, "limit") ?? 100;
  if (startTime === null) {
    return apiError(400, -1130, "Data sent for parameter 'startTime' is not valid.");
  }
  if (endTime === null) {
    return apiError(400, -1130, "Data sent for parameter 'endTime' is not valid.");
  }
  if (limit === null || limit < 1 || limit > 1000) {
    return apiError(400, -1130, "Data sent for parameter 'limit' is not valid.");
  }
  // With a start: the first `limit` from it; otherwise the latest `limit` up to the end.
  const from = startTime ?? 0;
  const to = endTime === undefined ? Infinity : endTime + 1;
  const all = fundingRows(ctx.dataset, spec, from, to, ctx.now);
  const n = all.fundingTime.length;
  const a = startTime === undefined ? Math.max(0, n - limit) : 0;
  const b = startTime === undefined ? n : Math.min(n, limit);
  const w = new AsciiWriter((b - a) * 200 + 2);
  w.byte(91);
  for (let i = a; i < b; i++) {
    w.text(`${i > a ? "," : ""}{"symbol":"${spec.symbol}","fundingTime":`);
    w.integer(all.fundingTime[i]);
    w.text(`,"fundingRate":"${formatDecimal(all.fundingRate[i], RATE_DECIMALS)}"`);
    if (market === "um") {
      const mp = all.markPrice[i];
      w.text(`,"markPrice":"${Number.isNaN(mp) ? "" : formatDecimal(mp, MARK_DECIMALS)}"`);
    }
    w.byte(125);
  }
  w.byte(93);
  return {
    status: 200,
    headers: { "content-type": "application/json;charset=UTF-8" },
    body: w.bytes(),
  };
}
