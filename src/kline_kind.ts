/**
 * Kline kinds: trade klines, and the futures-only mark price, index price and premium index
 * klines. All four share the 12-column kline layout (archive and REST); they differ in the
 * archive folder, the REST path and (index price) the REST parameter.
 *
 * Sources: binance-public-data README (archive folders `markPriceKlines/`,
 * `indexPriceKlines/`, `premiumIndexKlines/` for um and cm); Binance derivatives REST docs,
 * "Mark Price Kline/Candlestick Data" (`GET /fapi/v1/markPriceKlines`, `/dapi/v1/…`),
 * "Index Price Kline/Candlestick Data" (`GET /fapi/v1/indexPriceKlines?pair=…`, `/dapi/v1/…`)
 * and "Premium index Kline Data" (`GET /fapi/v1/premiumIndexKlines`, `/dapi/v1/…`), whose
 * weights follow the klines' limit tiers.
 *
 * @module
 */
import { UnsupportedDataError } from "./data_errors.ts";
import { marketCapabilities, type MarketType } from "./market.ts";

/**
 * Which price a kline follows: `trades` (default), `mark`, `index` or `premium`.
 *
 * @example
 * ```ts
 * import { KlineKind } from "@vision-data/client/market";
 * const kind: KlineKind = KlineKind.MARK; // "mark"
 * ```
 */
export const KlineKind = {
  /** Trade klines (`klines/`): every market. */
  TRADES: "trades",
  /** Mark price klines (`markPriceKlines/`): um, cm. */
  MARK: "mark",
  /** Index price klines (`indexPriceKlines/`, REST by `pair`): um, cm. */
  INDEX: "index",
  /** Premium index klines (`premiumIndexKlines/`): um, cm. */
  PREMIUM: "premium",
} as const;

/** A kline kind. */
export type KlineKind = typeof KlineKind[keyof typeof KlineKind];

/** Every kline kind. */
export const KLINE_KINDS: readonly KlineKind[] = Object.values(KlineKind);

const VISION_DIR: Record<KlineKind, string> = {
  trades: "klines",
  mark: "markPriceKlines",
  index: "indexPriceKlines",
  premium: "premiumIndexKlines",
};

/**
 * The kinds a market offers: spot has trade klines only.
 *
 * @example
 * ```ts
 * import { klineKindsOf } from "@vision-data/client/market";
 * klineKindsOf("spot"); // ["trades"]
 * ```
 */
export function klineKindsOf(market: MarketType): readonly KlineKind[] {
  marketCapabilities(market);
  return market === "spot" ? ["trades"] : KLINE_KINDS;
}

/**
 * Returns `kind` (default `trades`) when `market` offers it, else throws
 * {@linkcode UnsupportedDataError} naming the kinds allowed there.
 *
 * @example
 * ```ts
 * import { assertKlineKind } from "@vision-data/client/market";
 * assertKlineKind("um", "mark"); // "mark"
 * ```
 */
export function assertKlineKind(market: MarketType, kind: string | undefined): KlineKind {
  const k = kind ?? "trades";
  const allowed = klineKindsOf(market);
  if (!(allowed as readonly string[]).includes(k)) {
    throw new UnsupportedDataError("kline kind", k, market, allowed);
  }
  return k as KlineKind;
}

/**
 * The archive's data-type folder of a kind (`klines`, `markPriceKlines`, …).
 *
 * @example
 * ```ts
 * import { klineKindDir } from "@vision-data/client/market";
 * klineKindDir("premium"); // "premiumIndexKlines"
 * ```
 */
export function klineKindDir(kind: KlineKind = "trades"): string {
  return VISION_DIR[kind];
}

/**
 * The symbol a kind is filed and asked under: index price klines belong to the pair
 * (COIN-M `BTCUSD_PERP` → `BTCUSD`; binance_protocol.md §A1), all others to the symbol.
 *
 * @example
 * ```ts
 * import { klineKindSymbol } from "@vision-data/client/market";
 * klineKindSymbol("index", "ETHUSD_PERP"); // "ETHUSD"
 * ```
 */
export function klineKindSymbol(kind: KlineKind, symbol: string): string {
  return kind === "index" ? symbol.split("_")[0] : symbol;
}

/**
 * The REST path of a kind's klines on a futures market (the trade path for `trades`).
 *
 * @example
 * ```ts
 * import { klineKindRestPath } from "@vision-data/client/market";
 * klineKindRestPath("um", "mark"); // "/fapi/v1/markPriceKlines"
 * ```
 */
export function klineKindRestPath(market: MarketType, kind: KlineKind): string {
  const path = marketCapabilities(market).restKlinesPath;
  return kind === "trades" ? path : path.replace(/klines$/, `${VISION_DIR[kind]}`);
}

/** The REST query parameter naming the instrument: `pair` for index price klines. */
export function klineKindRestParam(kind: KlineKind): "symbol" | "pair" {
  return kind === "index" ? "pair" : "symbol";
}
