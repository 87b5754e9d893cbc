/**
 * Where kline archives live in the Binance Vision bucket (binance_protocol.md §A1).
 *
 * @module
 */
import {
  type Interval,
  marketCapabilities,
  type MarketType,
  visionIntervalName,
} from "../market.ts";
import type { ArchivePeriod } from "../time.ts";
import { type KlineKind, klineKindDir, klineKindSymbol } from "../kline_kind.ts";

/** The public Binance Vision host. */
export const DEFAULT_VISION_BASE_URL = "https://data.binance.vision";

/** The part of an {@linkcode ArchivePeriod} that names a file. */
export type ArchivePeriodRef = Pick<ArchivePeriod, "kind" | "label">;

/**
 * The archive's file name: `{SYM}-{iv}-{YYYY-MM-DD|YYYY-MM}.zip` (`1M` is written `1mo`).
 *
 * @example
 * ```ts
 * import { klineArchiveFileName } from "@vision-data/client/vision";
 * klineArchiveFileName("BTCUSDT", "1m", { kind: "monthly", label: "2024-01" });
 * // "BTCUSDT-1m-2024-01.zip"
 * ```
 */
export function klineArchiveFileName(
  symbol: string,
  interval: Interval,
  period: ArchivePeriodRef,
  klineKind: KlineKind = "trades",
): string {
  const sym = klineKindSymbol(klineKind, symbol);
  return `${sym}-${visionIntervalName(interval)}-${period.label}.zip`;
}

/**
 * The folder holding a symbol's kline archives of one kind, with a trailing slash:
 * `data/{spot|futures/um|futures/cm}/{daily|monthly}/klines/{SYM}/{iv}/`.
 *
 * @example
 * ```ts
 * import { klineArchiveDir } from "@vision-data/client/vision";
 * klineArchiveDir("um", "BTCUSDT", "1h", "daily");
 * // "data/futures/um/daily/klines/BTCUSDT/1h/"
 * ```
 */
export function klineArchiveDir(
  market: MarketType,
  symbol: string,
  interval: Interval,
  kind: ArchivePeriod["kind"],
  klineKind: KlineKind = "trades",
): string {
  const prefix = marketCapabilities(market).visionPrefix;
  // Non-trade kinds: `markPriceKlines/` etc.; index price klines sit under the pair.
  const dir = `${klineKindDir(klineKind)}/${klineKindSymbol(klineKind, symbol)}`;
  return `data/${prefix}/${kind}/${dir}/${visionIntervalName(interval)}/`;
}

/**
 * The archive's key in the bucket (no leading slash).
 *
 * @example
 * ```ts
 * import { klineArchivePath } from "@vision-data/client/vision";
 * klineArchivePath("spot", "BTCUSDT", "1m", { kind: "monthly", label: "2024-01" });
 * // "data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip"
 * ```
 */
export function klineArchivePath(
  market: MarketType,
  symbol: string,
  interval: Interval,
  period: ArchivePeriodRef,
  klineKind: KlineKind = "trades",
): string {
  return klineArchiveDir(market, symbol, interval, period.kind, klineKind) +
    klineArchiveFileName(symbol, interval, period, klineKind);
}

/**
 * The archive's full URL under `baseUrl` (a trailing slash on `baseUrl` is fine).
 *
 * @example
 * ```ts
 * import { klineArchiveUrl } from "@vision-data/client/vision";
 * klineArchiveUrl("https://data.binance.vision/", "cm", "BTCUSD_PERP", "1M", {
 *   kind: "monthly",
 *   label: "2024-01",
 * });
 * // "https://data.binance.vision/data/futures/cm/monthly/klines/BTCUSD_PERP/1mo/BTCUSD_PERP-1mo-2024-01.zip"
 * ```
 */
export function klineArchiveUrl(
  baseUrl: string,
  market: MarketType,
  symbol: string,
  interval: Interval,
  period: ArchivePeriodRef,
  klineKind: KlineKind = "trades",
): string {
  const path = klineArchivePath(market, symbol, interval, period, klineKind);
  return `${baseUrl.replace(/\/+$/, "")}/${path}`;
}

/**
 * The `.CHECKSUM` URL of an archive URL (sha256sum format, §A2).
 *
 * @example
 * ```ts
 * import { checksumUrl } from "@vision-data/client/vision";
 * checksumUrl("https://x/a.zip"); // "https://x/a.zip.CHECKSUM"
 * ```
 */
export function checksumUrl(archiveUrl: string): string {
  return `${archiveUrl}.CHECKSUM`;
}

/**
 * The CSV inside an archive: the same base name (`X.zip` → `X.csv`).
 *
 * @example
 * ```ts
 * import { csvNameOf } from "@vision-data/client/vision";
 * csvNameOf("BTCUSDT-1h-2023-10-27.zip"); // "BTCUSDT-1h-2023-10-27.csv"
 * ```
 */
export function csvNameOf(archiveFileName: string): string {
  return archiveFileName.replace(/\.zip$/i, "") + ".csv";
}
