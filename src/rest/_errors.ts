/**
 * Mapping REST error answers to typed errors that name the offending value.
 *
 * @module
 */
import {
  BinanceApiError,
  HttpStatusError,
  InvalidSymbolError,
  IpBannedError,
  RateLimitError,
  UnsupportedIntervalError,
} from "../errors.ts";
import { type Interval, marketCapabilities, type MarketType } from "../market.ts";
import { LIMITS } from "../limits.ts";

/** What a request was about, so its error can name the value at fault. */
export interface RestErrorContext {
  /** The URL requested. */
  url: string;
  /** The market asked. */
  market: MarketType;
  /** The symbol sent, if any. */
  symbol?: string;
  /** The interval sent, if any. */
  interval?: Interval;
}

/**
 * Binance's documented error codes we map to specific errors.
 *
 * @example
 * ```ts
 * import { BINANCE_CODES } from "./_errors.ts";
 * BINANCE_CODES.INVALID_SYMBOL; // -1121
 * ```
 */
export const BINANCE_CODES = {
  /** Invalid symbol. */
  INVALID_SYMBOL: -1121,
  /** Invalid interval. */
  INVALID_INTERVAL: -1120,
  /** Too many requests. */
  TOO_MANY_REQUESTS: -1003,
} as const;

/** Default waits when a 429/418 comes without `Retry-After`. */
export const DEFAULT_RETRY_AFTER_MS = { 429: 60_000, 418: 120_000 } as const;

/**
 * `Retry-After` in ms: delta-seconds (Binance's form) or an HTTP date; `fallbackMs` when
 * absent or unreadable. Never negative, never more than `LIMITS.maxRetryAfterMs` (3 days,
 * the longest 418 ban): a lying header cannot push a ban past the Date range.
 *
 * @example
 * ```ts
 * import { retryAfterMs } from "./_errors.ts";
 * retryAfterMs(new Headers({ "retry-after": "2" }), 60_000); // 2000
 * ```
 */
export function retryAfterMs(headers: Headers, fallbackMs: number, nowMs = Date.now()): number {
  const raw = headers.get("retry-after")?.trim().slice(0, 64);
  let ms = fallbackMs;
  if (raw && /^\d+(\.\d+)?$/.test(raw)) ms = Math.round(Number(raw) * 1000);
  else if (raw) {
    const at = Date.parse(raw);
    if (Number.isFinite(at)) ms = Math.max(0, at - nowMs);
  }
  return Number.isFinite(ms) ? Math.min(ms, LIMITS.maxRetryAfterMs) : LIMITS.maxRetryAfterMs;
}

/**
 * Parses `{code, msg}` from an error body, or `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import { parseApiErrorBody } from "./_errors.ts";
 * parseApiErrorBody('{"code":-1121,"msg":"Invalid symbol."}'); // { code: -1121, msg: "Invalid symbol." }
 * ```
 */
export function parseApiErrorBody(text: string): { code: number; msg: string } | undefined {
  try {
    const v = JSON.parse(text);
    if (v && typeof v === "object" && typeof v.code === "number") {
      return { code: v.code, msg: typeof v.msg === "string" ? v.msg : "" };
    }
  } catch {
    // not JSON: a proxy or WAF page
  }
  return undefined;
}

/**
 * The typed error for a non-2xx answer:
 * 418 → {@linkcode IpBannedError} (until now + Retry-After), 429 → {@linkcode RateLimitError},
 * `-1121` → {@linkcode InvalidSymbolError}, `-1120` → {@linkcode UnsupportedIntervalError},
 * other `{code,msg}` → {@linkcode BinanceApiError}, anything else → {@linkcode HttpStatusError}
 * (5xx ones are transient and retried by the caller).
 *
 * @example
 * ```ts
 * import { restErrorFor } from "./_errors.ts";
 * const e = restErrorFor(400, '{"code":-1121,"msg":"Invalid symbol."}', new Headers(), {
 *   url: "https://x/api/v3/klines",
 *   market: "spot",
 *   symbol: "NOPE",
 * });
 * e.name; // "InvalidSymbolError"
 * ```
 */
export function restErrorFor(
  status: number,
  bodyText: string,
  headers: Headers,
  ctx: RestErrorContext,
  nowMs: number = Date.now(),
): Error {
  if (status === 418) {
    return new IpBannedError(
      new Date(nowMs + retryAfterMs(headers, DEFAULT_RETRY_AFTER_MS[418], nowMs)),
    );
  }
  if (status === 429) {
    return new RateLimitError(retryAfterMs(headers, DEFAULT_RETRY_AFTER_MS[429], nowMs));
  }
  const api = parseApiErrorBody(bodyText);
  if (api && status >= 400 && status < 500) {
    const where = `Binance ${ctx.market} REST`;
    if (api.code === BINANCE_CODES.INVALID_SYMBOL && ctx.symbol !== undefined) {
      return new InvalidSymbolError(
        ctx.symbol,
        `${where} does not know it (code ${api.code}: ${api.msg || "Invalid symbol."})`,
      );
    }
    if (api.code === BINANCE_CODES.INVALID_INTERVAL && ctx.interval !== undefined) {
      return new UnsupportedIntervalError(
        ctx.interval,
        `${where} (code ${api.code}: ${api.msg || "Invalid interval."})`,
        marketCapabilities(ctx.market).rest,
      );
    }
    return new BinanceApiError(
      api.code,
      `${api.msg}${ctx.symbol ? ` [symbol ${ctx.symbol}]` : ""} (${ctx.url})`,
      status,
    );
  }
  return new HttpStatusError(ctx.url, status, bodyText.slice(0, 200).trim());
}
