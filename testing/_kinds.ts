/**
 * The replica's mark price, index price and premium index klines: derived deterministically
 * from the trade klines of the same candles (same open times, so archive, REST and truth
 * agree), with the volume columns zero as Binance serves them (REST docs: "ignore" fields).
 *
 * @module
 */
import { type KlineKind, klineKindSymbol } from "../src/kline_kind.ts";
import type { MarketType } from "../src/market.ts";
import { allocateColumns, type KlineColumns } from "../src/columns.ts";
import type { CsvDecimals } from "./_csv_format.ts";
import type { Dataset, SymbolSpec } from "./_dataset.ts";

const DIRS: Record<string, KlineKind> = {
  klines: "trades",
  markPriceKlines: "mark",
  indexPriceKlines: "index",
  premiumIndexKlines: "premium",
};

/** The kind of an archive data-type folder (`markPriceKlines` → `mark`), or undefined. */
export function kindOfDir(dir: string): KlineKind | undefined {
  return DIRS[dir];
}

/** The kind of a REST endpoint (`markPriceKlines` → `mark`), or undefined. */
export const kindOfEndpoint: (endpoint: string) => KlineKind | undefined = kindOfDir;

/** Premium index values are small ratios: 8 decimals whatever the price's. */
const PREMIUM_DECIMALS = 8;

/** The decimals a kind's CSV/JSON rows are written with. */
export function kindDecimals(spec: SymbolSpec, kind: KlineKind): CsvDecimals {
  if (kind === "trades") return spec.decimals;
  const price = kind === "premium" ? PREMIUM_DECIMALS : spec.decimals.price;
  return { price, volume: 0, quoteVolume: 0, takerBuyBaseVolume: 0, takerBuyQuoteVolume: 0 };
}

function rounder(dp: number): (x: number) => number {
  const p = 10 ** dp;
  // k / 10^dp with integer k: the double nearest the written decimal, as a parser reads it.
  return (x) => Math.round(x * p) / p;
}

/**
 * The kind's candles over the trade candles `c` (same rows): mark = price × 1.0001, index =
 * price × 0.9999, premium = price × 1e-7 − 0.004 (monotonic, so high ≥ low holds), rounded
 * to the kind's decimals; volumes 0; `trades` kept as the count of basic data.
 */
export function kindColumns(c: KlineColumns, kind: KlineKind, spec: SymbolSpec): KlineColumns {
  if (kind === "trades") return c;
  const n = c.openTime.length;
  const out = allocateColumns(n);
  const round = rounder(kindDecimals(spec, kind).price);
  const f = kind === "mark"
    ? (p: number) => round(p * 1.0001)
    : kind === "index"
    ? (p: number) => round(p * 0.9999)
    : (p: number) => round(p * 1e-7 - 0.004);
  out.openTime.set(c.openTime);
  out.closeTime.set(c.closeTime);
  out.trades.set(c.trades);
  for (let i = 0; i < n; i++) {
    out.open[i] = f(c.open[i]);
    out.high[i] = f(c.high[i]);
    out.low[i] = f(c.low[i]);
    out.close[i] = f(c.close[i]);
  }
  return out;
}

/**
 * The spec a kind's archive or REST name refers to: the symbol itself, or for index price
 * klines the pair (`BTCUSD` → the market's `BTCUSD_PERP`, else its first `BTCUSD_*`).
 */
export function kindSpec(
  dataset: Dataset,
  market: MarketType,
  kind: KlineKind,
  name: string,
): SymbolSpec | undefined {
  if (market === "spot" && kind !== "trades") return undefined; // futures only
  if (kind !== "index") return dataset.spec(market, name);
  const direct = dataset.spec(market, name);
  if (direct && klineKindSymbol("index", direct.symbol) === name) return direct;
  const all = dataset.marketSpecs(market).filter((s) =>
    klineKindSymbol("index", s.symbol) === name
  );
  return all.find((s) => s.symbol.endsWith("_PERP")) ?? all[0];
}
