/**
 * The Binance REST klines client: parallel pages, weight pacing, typed errors,
 * deadline-bounded disposal.
 *
 * @module
 */
export {
  type RestClientStats,
  RestDataClient,
  type RestDataClientOptions,
  type RestFetchKlinesOptions,
} from "./client.ts";
export {
  closeSymbolMatches,
  type ExchangeInfo,
  type ExchangeSymbol,
  parseExchangeInfo,
} from "./exchange_info.ts";
