/**
 * A faithful local replica of Binance Vision (archives, `.CHECKSUM`s, S3 listing) and the
 * Binance REST klines API, for tests and benchmarks. Everything is served from one
 * deterministic synthetic dataset, with real CSV days mountable byte-for-byte, declarative
 * fault injection, a request log, and bounded disposal.
 *
 * ```ts ignore
 * import { startReplica } from "@vision-data/client/testing";
 *
 * await using replica = await startReplica({ now: "2024-03-01T00:00:00Z" });
 * const url = `${replica.visionUrl}/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.zip`;
 * const zip = new Uint8Array(await (await fetch(url)).arrayBuffer());
 * const truth = replica.klines({
 *   marketType: "spot", symbol: "BTCUSDT", interval: "1m",
 *   start: "2024-01-01", end: "2024-01-02",
 * });
 * console.log(zip.length, truth.openTime.length); // …, 1440
 * ```
 *
 * @module
 */
export { startReplica } from "./_server.ts";
export type {
  ArchiveQuery,
  FundingTruthQuery,
  NowInput,
  RawArchive,
  Replica,
  ReplicaOptions,
  RequestLogEntry,
  TruthQuery,
} from "./_types.ts";
export {
  type CsvRules,
  DEFAULT_SYMBOLS,
  type MountedFixture,
  type ReplicaSymbol,
} from "./_dataset.ts";
export type { LiveFaultRule, LiveFeed, LiveFeedOptions, LiveSendEvent } from "./_ws.ts";
export type { FaultKind, FaultRule, HostileRow } from "./_faults.ts";
export { hostileCsv, hostileKlinesBody, hostileRow } from "./_hostile.ts";
export { archivePath, type PublicationLag } from "./_archive.ts";
export type { FundingTruth } from "./_funding.ts";
export {
  type CsvDecimals,
  type FormatCsvOptions,
  formatDecimal,
  formatKlineCsv,
  formatKlineCsvText,
  KLINE_CSV_HEADER,
  MARKET_DECIMALS,
  resolveDecimals,
} from "./_csv_format.ts";
export { createZip, type CreateZipOptions } from "./_zip.ts";
export { ReplicaOptionError } from "./_pacing.ts";
export type { Interval, MarketType } from "../src/market.ts";
export { KLINE_COLUMNS, type KlineColumn, type KlineColumns } from "../src/columns.ts";
export type { TimeInput } from "../src/time.ts";
