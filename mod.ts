/**
 * vision-data: Binance klines from the Vision archive and the REST API, verified,
 * cached, and handed over as typed columns — with clients that never hang and never leak.
 *
 * ```ts ignore
 * import { DataSourceManager, Interval, MarketType } from "@vision-data/client";
 * await using manager = new DataSourceManager({ marketType: MarketType.SPOT });
 * const k = await manager.getData({
 *   symbol: "BTCUSDT", interval: Interval.MINUTE_1, start: "2024-01-01", end: "2024-01-02",
 * });
 * console.log(k.length, k.close[0]);
 * ```
 *
 * @module
 */
export * from "./src/errors.ts";
export * from "./src/market.ts";
export * from "./src/time.ts";
export * from "./src/klines.ts";
export * from "./src/resource/mod.ts";
export * from "./src/cache/mod.ts";
export * from "./src/vision/mod.ts";
export * from "./src/rest/mod.ts";
export * from "./src/manager.ts";
export * from "./src/stream.ts";
export * from "./src/export/mod.ts";
