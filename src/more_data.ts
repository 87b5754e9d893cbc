/**
 * More market data than trade klines: kline kinds (mark, index, premium index), data
 * types, funding rates, and their errors.
 *
 * @module
 */
export * from "./data_errors.ts";
export * from "./data_types.ts";
export * from "./kline_kind.ts";
export * from "./funding/mod.ts";
export * from "./agg_trades/mod.ts";
