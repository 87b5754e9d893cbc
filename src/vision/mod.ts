/**
 * The Binance Vision archive: {@linkcode VisionDataClient} and archive path helpers.
 *
 * @module
 */
export {
  type ArchiveRows,
  type FetchKlinesOptions,
  type FetchProgress,
  type VisionClientResources,
  VisionDataClient,
  type VisionDataClientOptions,
} from "./client.ts";
export {
  type ArchivePeriodRef,
  checksumUrl,
  csvNameOf,
  DEFAULT_VISION_BASE_URL,
  klineArchiveDir,
  klineArchiveFileName,
  klineArchivePath,
  klineArchiveUrl,
} from "./paths.ts";
export { type ParseCsvOptions, parseKlineCsv } from "./csv_parser.ts";
export { type ExtractOptions, extractSingleCsv } from "./zip.ts";
export { createSha256, parseChecksumFile, type Sha256 } from "./checksum.ts";
export {
  defaultParseWorkers,
  type ParseBytesOptions,
  type ParseJobOptions,
  ParsePool,
  type ParsePoolOptions,
} from "./parse_pool.ts";
