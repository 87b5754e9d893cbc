/**
 * Market, interval and time helpers: the candle grid, interval lengths and names, symbol
 * rules, UTC ranges and Vision archive planning, gap finding.
 *
 * ```ts
 * import { candleFloor, intervalMs } from "@vision-data/client/market";
 * candleFloor("1h", Date.UTC(2024, 0, 1, 5, 30)) + intervalMs("1h"); // 06:00
 * ```
 *
 * @module
 */
export {
  ALL_INTERVALS,
  assertIntervalSupported,
  candleFloor,
  firstOpenAtOrAfter,
  Interval,
  intervalMs,
  type IntervalSource,
  isMonthlyOnly,
  type MarketCapabilities,
  marketCapabilities,
  MarketType,
  nextOpenTime,
  normalizeSymbol,
  parseInterval,
  SYMBOL_PATTERN,
  visionIntervalName,
} from "../market.ts";
export {
  type ArchivePeriod,
  DAY_MS,
  daysOf,
  dayStart,
  iso,
  monthStart,
  planArchives,
  type PlanOptions,
  type RangeInput,
  resolveRange,
  type ResolveRangeOptions,
  type TimeInput,
  type TimeRange,
  toEpochMs,
  type ToEpochMsOptions,
  utcDay,
  utcMonth,
} from "../time.ts";
export { findGaps, type KlinesInit, mergeRanges } from "../klines.ts";
export {
  allocateColumns,
  EXPORT_COLUMNS,
  type ExportColumn,
  type ExportKind,
  KLINE_COLUMNS,
  type KlineColumn,
  type KlineColumns,
} from "../columns.ts";
export {
  assertKlineKind,
  KLINE_KINDS,
  KlineKind,
  klineKindDir,
  klineKindRestParam,
  klineKindRestPath,
  klineKindsOf,
  klineKindSymbol,
} from "../kline_kind.ts";
export { assertDataType, DATA_TYPES, DataType, dataTypesOf } from "../data_types.ts";
export { LIMITS, MARKET_FIRST_DATA } from "../limits.ts";
export { streamSpans } from "../stream.ts";
