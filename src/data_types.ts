/**
 * The data types the library fetches, and which market offers which.
 *
 * @module
 */
import { UnsupportedDataError } from "./data_errors.ts";
import { marketCapabilities, type MarketType } from "./market.ts";

/**
 * A data type: `klines` (with a kline kind), `funding` (futures funding-rate history),
 * `aggTrades` (aggregate trades).
 *
 * @example
 * ```ts
 * import { DataType } from "@vision-data/client/market";
 * const t: DataType = DataType.FUNDING; // "funding"
 * ```
 */
export const DataType = {
  /** Klines (trade, mark, index or premium index). */
  KLINES: "klines",
  /** Funding-rate history (um, cm). */
  FUNDING: "funding",
  /** Aggregate trades (every market; streamed). */
  AGG_TRADES: "aggTrades",
} as const;

/** A data type. */
export type DataType = typeof DataType[keyof typeof DataType];

/** Every data type. */
export const DATA_TYPES: readonly DataType[] = Object.values(DataType);

/**
 * The data types a market offers (spot: no funding).
 *
 * @example
 * ```ts
 * import { dataTypesOf } from "@vision-data/client/market";
 * dataTypesOf("spot"); // ["klines", "aggTrades"]
 * ```
 */
export function dataTypesOf(market: MarketType): readonly DataType[] {
  marketCapabilities(market);
  return market === "spot" ? ["klines", "aggTrades"] : DATA_TYPES;
}

/**
 * Returns `value` as a data type offered on `market`, else throws
 * {@linkcode UnsupportedDataError} naming what is allowed there.
 *
 * @example
 * ```ts
 * import { assertDataType } from "@vision-data/client/market";
 * assertDataType("um", "funding"); // "funding"
 * ```
 */
export function assertDataType(market: MarketType, value: string): DataType {
  const allowed = dataTypesOf(market);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UnsupportedDataError("data type", value, market, allowed);
  }
  return value as DataType;
}
