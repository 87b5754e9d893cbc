/**
 * The replica's connectivity and chart endpoints, and the spot `timeZone` parameter, as
 * Binance documents them:
 *
 * - `GET /api/v3/ping`, `/fapi/v1/ping`, `/dapi/v1/ping` → `{}` (weight 1);
 * - `GET /api/v3/time`, `/fapi/v1/time`, `/dapi/v1/time` → `{"serverTime": <ms>}` (weight 1),
 *   the replica's clock;
 * - `GET /api/v3/uiKlines`: the klines request and answer (same parameters, weight, rows);
 * - `timeZone` on spot `klines`/`uiKlines`: hours (`8`, `-1`) or hours and minutes (`05:45`,
 *   `+08:00`, `-1:00`), range −12:00..+14:00 inclusive. Interval boundaries are taken in
 *   that zone instead of UTC — a `1d` candle opens at local midnight (16:00 UTC for +08:00);
 *   an interval whose length divides the offset (1m…1h for +08:00) has the same grid either
 *   way. `startTime`/`endTime` stay UTC. Anything else answers Binance's `-1130` body.
 *
 * Candles on a shifted grid are the dataset's candles of the same interval shifted by the
 * offset (the replica has no finer data to aggregate); what the tests check is the grid.
 *
 * @module
 */
import { ALL_INTERVALS, intervalMs, type MarketType } from "../src/market.ts";
import { apiError, type RestContext, type RouteResult } from "./_rest.ts";

/** The endpoints this module adds. */
export type ExtraRestEndpoint = "ping" | "time" | "uiKlines";

const MARKET_OF: Record<string, MarketType> = {
  "api/v3": "spot",
  "fapi/v1": "um",
  "dapi/v1": "cm",
};

/** The REST market and endpoint of a path this module serves (`uiKlines`: spot only). */
export function extraRestRoute(
  path: string,
): { market: MarketType; endpoint: ExtraRestEndpoint } | null {
  const m = /^\/(api\/v3|fapi\/v1|dapi\/v1)\/(ping|time|uiKlines)$/.exec(path);
  if (!m || (m[2] === "uiKlines" && m[1] !== "api/v3")) return null;
  return { market: MARKET_OF[m[1]], endpoint: m[2] as ExtraRestEndpoint };
}

const json = (value: unknown): RouteResult => ({
  status: 200,
  headers: { "content-type": "application/json;charset=UTF-8" },
  body: new TextEncoder().encode(JSON.stringify(value)),
});

/** Answers `ping` and `time`; `uiKlines` is the klines handler's (see `handleKlines`). */
export function handleExtraRest(
  endpoint: "ping" | "time",
  ctx: RestContext,
): RouteResult {
  return endpoint === "ping" ? json({}) : json({ serverTime: Math.floor(ctx.now) });
}

const MAX_EAST_MS = 14 * 3_600_000;
const MAX_WEST_MS = 12 * 3_600_000;

/**
 * The `timeZone` offset in ms (`+` east of UTC), or `null` when it is not a value Binance
 * accepts: `[+|-]H`, `[+|-]HH`, `[+|-]H:MM` or `[+|-]HH:MM`, within −12:00..+14:00.
 */
export function parseTimeZone(raw: string): number | null {
  const m = /^([+-]?)(\d{1,2})(?::(\d{2}))?$/.exec(raw);
  if (!m) return null;
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  if (minutes >= 60) return null;
  const ms = (Number(m[2]) * 60 + minutes) * 60_000 * (m[1] === "-" ? -1 : 1);
  return ms > MAX_EAST_MS || ms < -MAX_WEST_MS ? null : ms;
}

/** Binance's answer to a bad `timeZone`. */
export function badTimeZone(): RouteResult {
  return apiError(400, -1130, "Data sent for parameter 'timeZone' is not valid.");
}

/**
 * Spot klines with `timeZone`: validates it, then — when the offset moves the interval's grid —
 * answers from the UTC grid shifted by the offset. `klines` is the UTC handler (with the
 * `timeZone` parameter removed).
 */
export function klinesInTimeZone(
  params: URLSearchParams,
  headers: Headers,
  ctx: RestContext,
  klines: (params: URLSearchParams, ctx: RestContext) => RouteResult,
): RouteResult {
  const off = parseTimeZone(params.get("timeZone") ?? "");
  if (off === null) return badTimeZone();
  const utc = new URLSearchParams(params);
  utc.delete("timeZone");
  const interval = ALL_INTERVALS.find((iv) => iv === params.get("interval"));
  const step = interval === undefined || interval === "1M" || interval === "1w"
    ? undefined
    : intervalMs(interval);
  // No shift, or one the grid does not see (1h candles at +08:00): the UTC answer.
  if (off === 0 || interval === undefined || (step !== undefined && off % step === 0)) {
    return klines(utc, ctx);
  }
  for (const name of ["startTime", "endTime"]) {
    const v = utc.get(name);
    if (v !== null && /^-?\d+$/.test(v)) utc.set(name, String(Number(v) + off));
  }
  const res = klines(utc, { ...ctx, now: ctx.now + off });
  if (res.status !== 200) return res;
  // Times in the answer follow X-MBX-TIME-UNIT (µs on request).
  const unit = headers.get("x-mbx-time-unit")?.toUpperCase() === "MICROSECOND" ? 1000 : 1;
  const rows = JSON.parse(new TextDecoder().decode(res.body)) as unknown[][];
  for (const row of rows) {
    row[0] = (row[0] as number) - off * unit;
    row[6] = (row[6] as number) - off * unit;
  }
  return { ...res, body: new TextEncoder().encode(JSON.stringify(rows)) };
}
