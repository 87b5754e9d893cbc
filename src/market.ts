/**
 * Markets, intervals and what each market offers where. Every client validates against
 * these rules before it sends a request, so a bad call fails fast with a typed error.
 *
 * @module
 */
import { InvalidSymbolError, UnsupportedIntervalError } from "./errors.ts";

/**
 * The three Binance markets.
 *
 * @example
 * ```ts
 * import { MarketType } from "@vision-data/client";
 * const m: MarketType = MarketType.FUTURES_USDT; // "um"
 * ```
 */
export const MarketType = {
  /** Spot. */
  SPOT: "spot",
  /** USDⓈ-M futures. */
  FUTURES_USDT: "um",
  /** COIN-M futures. */
  FUTURES_COIN: "cm",
} as const;
/** One of {@linkcode MarketType}'s values. */
export type MarketType = typeof MarketType[keyof typeof MarketType];

/**
 * Kline intervals, with Binance's REST names as values (`1M` is `1mo` in the archive).
 *
 * @example
 * ```ts
 * import { Interval } from "@vision-data/client";
 * const iv: Interval = Interval.MINUTE_1; // "1m"
 * ```
 */
export const Interval = {
  /** 1 second (spot only). */
  SECOND_1: "1s",
  /** 1 minute. */
  MINUTE_1: "1m",
  /** 3 minutes. */
  MINUTE_3: "3m",
  /** 5 minutes. */
  MINUTE_5: "5m",
  /** 15 minutes. */
  MINUTE_15: "15m",
  /** 30 minutes. */
  MINUTE_30: "30m",
  /** 1 hour. */
  HOUR_1: "1h",
  /** 2 hours. */
  HOUR_2: "2h",
  /** 4 hours. */
  HOUR_4: "4h",
  /** 6 hours. */
  HOUR_6: "6h",
  /** 8 hours. */
  HOUR_8: "8h",
  /** 12 hours. */
  HOUR_12: "12h",
  /** 1 day. */
  DAY_1: "1d",
  /** 3 days (monthly archives only). */
  DAY_3: "3d",
  /** 1 week (monthly archives only). */
  WEEK_1: "1w",
  /** 1 calendar month (monthly archives only, named `1mo` there). */
  MONTH_1: "1M",
} as const;
/** One of {@linkcode Interval}'s values. */
export type Interval = typeof Interval[keyof typeof Interval];

/** Every interval, shortest first. */
export const ALL_INTERVALS: readonly Interval[] = Object.values(Interval);

const FIXED_MS: Record<Exclude<Interval, "1M">, number> = {
  "1s": 1_000,
  "1m": 60_000,
  "3m": 180_000,
  "5m": 300_000,
  "15m": 900_000,
  "30m": 1_800_000,
  "1h": 3_600_000,
  "2h": 7_200_000,
  "4h": 14_400_000,
  "6h": 21_600_000,
  "8h": 28_800_000,
  "12h": 43_200_000,
  "1d": 86_400_000,
  "3d": 259_200_000,
  "1w": 604_800_000,
};

/**
 * Parses an interval name (REST `1M` or archive `1mo`), throwing a typed error otherwise.
 *
 * @example
 * ```ts
 * import { parseInterval } from "@vision-data/client/market";
 * parseInterval("1mo"); // "1M"
 * ```
 */
export function parseInterval(value: string): Interval {
  if (value === "1mo") return "1M";
  if ((ALL_INTERVALS as readonly string[]).includes(value)) return value as Interval;
  throw new UnsupportedIntervalError(value, "any market", ALL_INTERVALS);
}

/**
 * Length of an interval in ms. `1M` has no fixed length: pass the candle's open time to
 * get that calendar month's length.
 *
 * @example
 * ```ts
 * import { intervalMs } from "@vision-data/client/market";
 * intervalMs("1h"); // 3600000
 * ```
 */
export function intervalMs(interval: Interval, openTimeMs?: number): number {
  if (interval !== "1M") return FIXED_MS[interval];
  const d = new Date(openTimeMs ?? 0);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) -
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/**
 * The open time of the candle after the one opening at `openTimeMs`.
 *
 * @example
 * ```ts
 * import { nextOpenTime } from "@vision-data/client/market";
 * nextOpenTime("1m", 0); // 60000
 * ```
 */
export function nextOpenTime(interval: Interval, openTimeMs: number): number {
  return openTimeMs + intervalMs(interval, openTimeMs);
}

/** Monday 1970-01-05 00:00 UTC: Binance's weekly candles open on Mondays. */
const WEEK_ANCHOR_MS = 4 * 86_400_000;

/**
 * Open time of the candle containing `t` — the one definition of the candle grid. Intervals
 * that divide a day are multiples of the interval from the epoch (so aligned to UTC
 * midnight), `1w` opens on Mondays, `1M` on the 1st. `3d` has no documented grid, so `t` is
 * returned unchanged (a misaligned `3d` start may report a short leading gap).
 *
 * @example
 * ```ts
 * import { candleFloor } from "@vision-data/client/market";
 * candleFloor("1h", Date.UTC(2024, 0, 1, 5, 30)) === Date.UTC(2024, 0, 1, 5); // true
 * ```
 */
export function candleFloor(interval: Interval, t: number): number {
  if (interval === "3d") return t;
  if (interval === "1M") {
    const d = new Date(t);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
  const step = FIXED_MS[interval];
  const anchor = interval === "1w" ? WEEK_ANCHOR_MS : 0;
  return t - ((((t - anchor) % step) + step) % step);
}

/**
 * The first candle open time at or after `t`, on the grid of {@linkcode candleFloor}.
 *
 * @example
 * ```ts
 * import { firstOpenAtOrAfter } from "@vision-data/client/market";
 * firstOpenAtOrAfter("1m", 30_000); // 60000
 * ```
 */
export function firstOpenAtOrAfter(interval: Interval, t: number): number {
  const f = candleFloor(interval, t);
  return f === t ? t : f + intervalMs(interval, f);
}

/**
 * Whether Binance publishes `interval` only as monthly Vision archives (`3d`, `1w`, `1M`) —
 * the one definition of that rule. Their candles straddle days, so they are also never
 * cached per day.
 *
 * @example
 * ```ts
 * import { isMonthlyOnly } from "@vision-data/client/market";
 * isMonthlyOnly("1w"); // true
 * ```
 */
export function isMonthlyOnly(interval: Interval): boolean {
  return (MONTHLY_ONLY as readonly string[]).includes(interval);
}

/**
 * The interval's folder/file name in the Vision archive (`1M` → `1mo`).
 *
 * @example
 * ```ts
 * import { visionIntervalName } from "@vision-data/client/market";
 * visionIntervalName("1M"); // "1mo"
 * ```
 */
export function visionIntervalName(interval: Interval): string {
  return interval === "1M" ? "1mo" : interval;
}

/** What a market offers, where. */
export interface MarketCapabilities {
  /** The market. */
  readonly market: MarketType;
  /** Path below `data/` in the Vision archive. */
  readonly visionPrefix: string;
  /** Intervals published as daily archives. */
  readonly visionDaily: readonly Interval[];
  /** Intervals published as monthly archives. */
  readonly visionMonthly: readonly Interval[];
  /** Intervals the REST API serves. */
  readonly rest: readonly Interval[];
  /** Default REST base URL. */
  readonly restBaseUrl: string;
  /** REST klines path. */
  readonly restKlinesPath: string;
  /** REST exchangeInfo path. */
  readonly restExchangeInfoPath: string;
  /** Largest `limit` for one klines request. */
  readonly restMaxLimit: number;
  /** Request-weight budget per minute. */
  readonly restWeightPerMinute: number;
  /** Longest span one request may cover (COIN-M: 200 days), or `Infinity`. */
  readonly restMaxSpanMs: number;
  /** Request weight of one klines call with this `limit`. */
  restWeight(limit: number): number;
}

const DAILY: readonly Interval[] = [
  "1m",
  "3m",
  "5m",
  "15m",
  "30m",
  "1h",
  "2h",
  "4h",
  "6h",
  "8h",
  "12h",
  "1d",
];
const MONTHLY_ONLY: readonly Interval[] = ["3d", "1w", "1M"];
const futuresWeight = (limit: number): number =>
  limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;

const CAPABILITIES: Record<MarketType, MarketCapabilities> = {
  spot: {
    market: "spot",
    visionPrefix: "spot",
    visionDaily: ["1s", ...DAILY],
    visionMonthly: ["1s", ...DAILY, ...MONTHLY_ONLY],
    rest: ["1s", ...DAILY, ...MONTHLY_ONLY],
    restBaseUrl: "https://api.binance.com",
    restKlinesPath: "/api/v3/klines",
    restExchangeInfoPath: "/api/v3/exchangeInfo",
    restMaxLimit: 1000,
    restWeightPerMinute: 6000,
    restMaxSpanMs: Infinity,
    restWeight: () => 2,
  },
  um: {
    market: "um",
    visionPrefix: "futures/um",
    visionDaily: DAILY,
    visionMonthly: [...DAILY, ...MONTHLY_ONLY],
    rest: [...DAILY, ...MONTHLY_ONLY],
    restBaseUrl: "https://fapi.binance.com",
    restKlinesPath: "/fapi/v1/klines",
    restExchangeInfoPath: "/fapi/v1/exchangeInfo",
    restMaxLimit: 1500,
    restWeightPerMinute: 2400,
    restMaxSpanMs: Infinity,
    restWeight: futuresWeight,
  },
  cm: {
    market: "cm",
    visionPrefix: "futures/cm",
    visionDaily: DAILY,
    visionMonthly: [...DAILY, ...MONTHLY_ONLY],
    rest: [...DAILY, ...MONTHLY_ONLY],
    restBaseUrl: "https://dapi.binance.com",
    restKlinesPath: "/dapi/v1/klines",
    restExchangeInfoPath: "/dapi/v1/exchangeInfo",
    restMaxLimit: 1500,
    restWeightPerMinute: 2400,
    restMaxSpanMs: 200 * 86_400_000,
    restWeight: futuresWeight,
  },
};

/**
 * The capabilities of a market; throws a typed error for an unknown market name.
 *
 * @example
 * ```ts
 * import { marketCapabilities } from "@vision-data/client/market";
 * marketCapabilities("um").restMaxLimit; // 1500
 * ```
 */
export function marketCapabilities(market: MarketType): MarketCapabilities {
  const caps = CAPABILITIES[market];
  if (!caps) {
    throw new TypeError(
      `Unknown market ${JSON.stringify(market)}; allowed: ${Object.keys(CAPABILITIES).join(", ")}`,
    );
  }
  return caps;
}

/** Where an interval is being asked for. */
export type IntervalSource = "vision-daily" | "vision-monthly" | "vision" | "rest";

/**
 * Throws {@linkcode UnsupportedIntervalError} unless `market` offers `interval` at `source`
 * (`"vision"` means daily or monthly archives).
 *
 * @example
 * ```ts
 * import { assertIntervalSupported } from "@vision-data/client/market";
 * assertIntervalSupported("spot", "1s", "vision");
 * ```
 */
export function assertIntervalSupported(
  market: MarketType,
  interval: Interval,
  source: IntervalSource,
): void {
  const caps = marketCapabilities(market);
  const allowed = source === "vision-daily"
    ? caps.visionDaily
    : source === "rest"
    ? caps.rest
    : caps.visionMonthly;
  if (!allowed.includes(interval)) {
    throw new UnsupportedIntervalError(interval, `${market} ${source.replace("-", " ")}`, allowed);
  }
}

/** The symbol rule Binance uses (COIN-M contracts carry a `_PERP`/`_YYMMDD` suffix). */
export const SYMBOL_PATTERN: RegExp = /^[A-Z0-9]{1,30}(_[A-Z0-9]+)?$/;

/** What a symbol may look like as typed: ASCII letters and digits only, any case. */
const SYMBOL_INPUT_PATTERN = /^[A-Za-z0-9]{1,30}(_[A-Za-z0-9]+)?$/;

/**
 * Validates and upper-cases a symbol, throwing {@linkcode InvalidSymbolError} otherwise.
 * The check runs on the text as given, *before* upper-casing: `"ſ".toUpperCase()` is `S`
 * and `"ı"` becomes `I`, `"ß"` becomes `SS`, so normalising first would turn non-ASCII
 * input into a valid-looking ASCII symbol. With `market: "cm"`, a kline symbol without a
 * contract suffix (`BTCUSD`) is refused with the `_PERP` name suggested.
 *
 * @example
 * ```ts
 * import { normalizeSymbol } from "@vision-data/client/market";
 * normalizeSymbol("btcusdt"); // "BTCUSDT"
 * normalizeSymbol("btcusd_perp", "cm"); // "BTCUSD_PERP"
 * ```
 */
export function normalizeSymbol(symbol: string, market?: MarketType): string {
  const raw = typeof symbol === "string" ? symbol.trim() : "";
  const s = SYMBOL_INPUT_PATTERN.test(raw) ? raw.toUpperCase() : "";
  if (!SYMBOL_PATTERN.test(s)) {
    throw new InvalidSymbolError(
      String(symbol),
      `a symbol must match ${SYMBOL_PATTERN.source} (ASCII letters and digits, e.g. BTCUSDT or BTCUSD_PERP)`,
    );
  }
  if (market === "cm" && !s.includes("_")) {
    throw new InvalidSymbolError(
      String(symbol),
      `COIN-M klines are per contract: use ${s}_PERP (perpetual) or ${s}_YYMMDD (delivery)`,
    );
  }
  return s;
}
