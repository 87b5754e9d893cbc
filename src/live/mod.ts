/**
 * Live klines from Binance's market-data WebSocket: {@linkcode KlineStream}.
 *
 * @module
 */
export { KlineStream, type KlineStreamOptions, MAX_STREAMS, WS_BASE_URLS } from "./kline_stream.ts";

export type { KlineStreamStats, KlineStreamStatus, KlineUpdate } from "./types.ts";
