/**
 * Archive paths, publication rules and the in-memory archive cache of the replica.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  type Interval,
  intervalMs,
  marketCapabilities,
  type MarketType,
  parseInterval,
  visionIntervalName,
} from "../src/market.ts";
import { DAY_MS, monthStart } from "../src/time.ts";
import { createZip } from "./_zip.ts";
import type { KlineKind } from "../src/kline_kind.ts";
import { kindOfDir } from "./_kinds.ts";
import { buildPieces, pieceJobs, pieceRanges, zipOfPieces } from "./_archive_pieces.ts";
import { ceilOpen, type Dataset, floorOpen, hashString, type SymbolSpec } from "./_dataset.ts";

/** The market's folder below `data/`. */
export function marketFolder(market: MarketType): string {
  return market === "spot" ? "spot" : `futures/${market}`;
}

/** One archive period. */
export interface Period {
  kind: "daily" | "monthly";
  label: string;
  start: number;
  end: number;
}

/**
 * The archive path (no leading slash) of a kline file: `data/spot/daily/klines/...zip`.
 *
 * @example
 * ```ts
 * import { archivePath } from "@vision-data/client/testing";
 * archivePath({ marketType: "um", symbol: "BTCUSDT", interval: "1M", period: "2024-01" });
 * // "data/futures/um/monthly/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-01.zip"
 * ```
 */
export function archivePath(
  q: { marketType: MarketType; symbol: string; interval: Interval; period: string },
): string {
  const kind = q.period.length === 7 ? "monthly" : "daily";
  const iv = visionIntervalName(q.interval);
  const sym = q.symbol.toUpperCase();
  return `data/${
    marketFolder(q.marketType)
  }/${kind}/klines/${sym}/${iv}/${sym}-${iv}-${q.period}.zip`;
}

/** A parsed archive request. */
export interface ArchiveRef {
  /** Path without leading slash, without `.CHECKSUM`. */
  key: string;
  market: MarketType;
  symbol: string;
  interval: Interval;
  period: Period;
  checksum: boolean;
  /** File name of the zip. */
  zipName: string;
  /** Which klines (`klines/` → trades, `markPriceKlines/` → mark, …). */
  kind: KlineKind;
}

const PATH_RE =
  /^data\/(spot|futures\/um|futures\/cm)\/(daily|monthly)\/(klines|markPriceKlines|indexPriceKlines|premiumIndexKlines)\/([A-Z0-9_]+)\/([0-9a-z]+)\/([A-Z0-9_]+)-([0-9a-z]+)-(\d{4}-\d\d(?:-\d\d)?)\.zip(\.CHECKSUM)?$/;

/** Parses `data/.../X.zip[.CHECKSUM]`; null when the path is not a kline archive name. */
export function parseArchivePath(path: string): ArchiveRef | null {
  const m = PATH_RE.exec(path);
  if (!m) return null;
  const [, folder, kind, dataType, sym, ivName, sym2, ivName2, label, ck] = m;
  if (sym !== sym2 || ivName !== ivName2) return null;
  if ((kind === "daily") !== (label.length === 10)) return null;
  let interval: Interval;
  try {
    interval = parseInterval(ivName);
  } catch {
    return null;
  }
  if (visionIntervalName(interval) !== ivName) return null; // "1M" is "1mo" in the archive
  const start = Date.parse(kind === "daily" ? `${label}T00:00:00Z` : `${label}-01T00:00:00Z`);
  if (!Number.isFinite(start)) return null;
  const end = kind === "daily" ? start + DAY_MS : monthStart(start, 1);
  const market = (folder === "spot" ? "spot" : folder.slice(8)) as MarketType;
  const key = ck ? path.slice(0, -".CHECKSUM".length) : path;
  return {
    key,
    market,
    symbol: sym,
    interval,
    period: { kind: kind as "daily" | "monthly", label, start, end },
    checksum: ck !== undefined,
    zipName: key.slice(key.lastIndexOf("/") + 1),
    kind: kindOfDir(dataType)!,
  };
}

/** Publication lag after a period's end. */
export interface PublicationLag {
  /** Daily files appear this long after the day ends. @default {6 h} */
  daily: number;
  /** Monthly files appear this long after the month ends. @default {3 days} */
  monthly: number;
}

/** Whether the market publishes this interval as this kind of archive. */
export function intervalPublished(
  market: MarketType,
  interval: Interval,
  kind: "daily" | "monthly",
): boolean {
  const caps = marketCapabilities(market);
  return (kind === "daily" ? caps.visionDaily : caps.visionMonthly).includes(interval);
}

/**
 * When the last candle of a period closes (exclusive). A file holds every candle whose OPEN
 * time lies in its period (Binance's rule since binance-public-data#134/#298), so a 3d or 1w
 * candle opening near a month's end closes after that month: the file waits for it. For
 * intervals that divide the period this is the period's end.
 */
export function periodDataEnd(interval: Interval, period: Period): number {
  return ceilOpen(interval, period.end);
}

/** When the period's file is published, or null when it never is (no rows / unsupported). */
export function publishedAt(
  spec: SymbolSpec,
  interval: Interval,
  period: Period,
  lag: PublicationLag,
): number | null {
  if (!intervalPublished(spec.marketType, interval, period.kind)) return null;
  if (period.end <= floorOpen(interval, spec.listedAt) || period.start >= spec.delistedAt) {
    return null;
  }
  return periodDataEnd(interval, period) + (period.kind === "daily" ? lag.daily : lag.monthly);
}

/** A built archive. */
export interface BuiltArchive {
  zip: Uint8Array;
  sha256: string;
  etag: string;
  lastModified: number;
}

/** Deterministic S3-style ETag of a key (quoted 32 hex digits). */
export function etagFor(key: string, seed: number): string {
  let out = "";
  let h = hashString(`${seed}|${key}`);
  for (let i = 0; i < 4; i++) {
    h = hashString(h.toString(16) + key + i);
    out += h.toString(16).padStart(8, "0");
  }
  return `"${out}"`;
}

/** Byte-bounded LRU of built archives, keyed by archive key. */
export class ArchiveCache {
  readonly #map = new Map<string, BuiltArchive>();
  #bytes = 0;
  readonly maxBytes: number;
  hits = 0;
  misses = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get(key: string): BuiltArchive | undefined {
    const v = this.#map.get(key);
    if (v) {
      this.#map.delete(key);
      this.#map.set(key, v);
      this.hits++;
    } else this.misses++;
    return v;
  }

  peek(key: string): BuiltArchive | undefined {
    return this.#map.get(key);
  }

  set(key: string, v: BuiltArchive): void {
    const old = this.#map.get(key);
    if (old) {
      this.#bytes -= old.zip.length;
      this.#map.delete(key);
    }
    this.#map.set(key, v);
    this.#bytes += v.zip.length;
    for (const [k, e] of this.#map) {
      if (this.#bytes <= this.maxBytes || k === key) break;
      this.#map.delete(k);
      this.#bytes -= e.zip.length;
    }
  }

  get bytes(): number {
    return this.#bytes;
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}

/**
 * Archives of at least this many candles (a month of 1s klines is 2.68 M; a day 86 400) are
 * deflated at {@linkcode BIG_ARCHIVE_ZIP_LEVEL} unless a level is set: level 6 alone caps
 * generation near 0.25 M rows/s, level 1 is ~4× faster for zips ~60 % bigger — fine for a test
 * replica.
 */
export const BIG_ARCHIVE_ROWS = 500_000;
/** The default DEFLATE level of big archives (see {@linkcode BIG_ARCHIVE_ROWS}). */
export const BIG_ARCHIVE_ZIP_LEVEL = 1;
/** The default DEFLATE level of the other archives (what Binance's files look like). */
export const DEFAULT_ZIP_LEVEL = 6;

/** Candles a period can hold at most (what sizes it, before anything is generated). */
export function periodRows(interval: Interval, period: { start: number; end: number }): number {
  return Math.ceil((period.end - period.start) / intervalMs(interval, period.start));
}

/** The DEFLATE level of an archive: the one set, else the default for its size. */
export function archiveZipLevel(zipLevel: number | undefined, rows: number): number {
  if (zipLevel !== undefined) return zipLevel;
  return rows >= BIG_ARCHIVE_ROWS ? BIG_ARCHIVE_ZIP_LEVEL : DEFAULT_ZIP_LEVEL;
}

/** Builds (or fetches from cache) the archive for a published period; null when absent. */
export function buildArchive(
  dataset: Dataset,
  cache: ArchiveCache,
  ref: ArchiveRef,
  spec: SymbolSpec,
  published: number,
  zipLevel: number | undefined,
): BuiltArchive | null {
  const hit = cache.get(ref.key);
  if (hit) return hit;
  const built = makeArchive(dataset, ref, spec, published, zipLevel);
  if (built) cache.set(ref.key, built);
  return built;
}

/**
 * Builds the archive of a published period without any cache (the one recipe behind the
 * in-process path and the generator worker, so both serve the same bytes); null when absent.
 * `zipLevel` undefined: {@linkcode archiveZipLevel}'s default for the CSV's size.
 */
export function makeArchive(
  dataset: Dataset,
  ref: Pick<ArchiveRef, "key" | "interval" | "period" | "zipName" | "kind">,
  spec: SymbolSpec,
  published: number,
  zipLevel: number | undefined,
): BuiltArchive | null {
  // Rows are closed by construction: the file is only published after its last candle closes.
  const now = periodDataEnd(ref.interval, ref.period);
  const level = archiveZipLevel(zipLevel, periodRows(ref.interval, ref.period));
  const name = ref.zipName.replace(/\.zip$/, ".csv");
  const modified = new Date(published);
  const ranges = pieceRanges(dataset, spec, ref.interval, ref.period, ref.kind);
  let zip: Uint8Array | null;
  if (ranges) {
    const jobs = pieceJobs(ranges, {
      interval: ref.interval,
      start: ref.period.start,
      now,
      kind: ref.kind,
      level,
    });
    zip = zipOfPieces(name, buildPieces(dataset, spec, jobs), modified);
  } else {
    const csv = dataset.periodCsv(
      spec,
      ref.interval,
      ref.period.start,
      ref.period.end,
      now,
      ref.kind,
    );
    zip = csv && createZip(name, csv, { level, modified });
  }
  if (!zip) return null;
  return builtArchive(zip, etagFor(ref.key, dataset.seed), published);
}

/** A built archive's record: the zip, its SHA-256, ETag and Last-Modified. */
/**
 * The archive of `key` holding one CSV (the zip's name with `.csv`), as Binance publishes
 * every data type: zipped at `zipLevel`, stamped with its publication time.
 */
export function csvArchive(
  dataset: Dataset,
  key: string,
  csv: Uint8Array,
  published: number,
  zipLevel: number,
): BuiltArchive {
  const name = key.slice(key.lastIndexOf("/") + 1).replace(/\.zip$/, ".csv");
  const zip = createZip(name, csv, { level: zipLevel, modified: new Date(published) });
  return builtArchive(zip, etagFor(key, dataset.seed), published);
}

/** A built archive's record: its bytes, SHA-256 and S3 metadata. */
export function builtArchive(zip: Uint8Array, etag: string, published: number): BuiltArchive {
  return {
    zip,
    sha256: createHash("sha256").update(zip).digest("hex"),
    etag,
    lastModified: published,
  };
}
