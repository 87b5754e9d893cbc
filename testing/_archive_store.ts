/**
 * What the replica knows: the dataset's truth (klines, funding, aggregate trades) and the
 * archives built from it — raw ones set by tests, published ones found by path or query, big
 * ones generated off the request path.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createZip } from "./_zip.ts";
import type { KlineColumns } from "../src/columns.ts";
import { type MarketType, parseInterval } from "../src/market.ts";
import { toEpochMs } from "../src/time.ts";
import type { AggTradeColumns } from "../src/agg_trades/columns.ts";
import {
  ArchiveCache,
  archivePath,
  type ArchiveRef,
  buildArchive,
  type BuiltArchive,
  etagFor,
  parseArchivePath,
  periodDataEnd,
  type PublicationLag,
  publishedAt,
} from "./_archive.ts";
import { Dataset, DEFAULT_SYMBOLS, type SymbolSpec } from "./_dataset.ts";
import { fundingArchive, fundingRows, type FundingTruth } from "./_funding.ts";
import { kindSpec } from "./_kinds.ts";
import { aggTradeRows, aggTradesArchive } from "./_agg_trades.ts";
import { ArchiveGenerator } from "./_generator.ts";
import type { ArchiveQuery, FundingTruthQuery, ReplicaOptions, TruthQuery } from "./_types.ts";

const MONTH_LAG = 3 * 86_400_000;

/** An archive found for a path. */
export interface Found {
  built: BuiltArchive;
  zipName: string;
  checksum: boolean;
}

/** A published archive: its path parts, its symbol and when it appeared. */
export interface Resolved {
  ref: ArchiveRef;
  spec: SymbolSpec;
  published: number;
}

/** An archive path as given (full URL, `/data/...` or `data/...`) → its key `data/...`. */
function archiveKey(path: string): string {
  return path.replace(/^https?:\/\/[^/]+/, "").replace(/^\//, "");
}

/** The dataset, its archives, and the clock that decides what is published. */
export class ArchiveStore {
  readonly dataset: Dataset;
  readonly lag: PublicationLag;
  readonly #cache: ArchiveCache;
  readonly #generator: ArchiveGenerator;
  readonly #raw = new Map<string, BuiltArchive>();
  /** `undefined`: the size-dependent default (`archiveZipLevel`). */
  readonly #level: number | undefined;
  readonly #now: () => number;

  constructor(options: ReplicaOptions, now: () => number) {
    const seed = options.seed ?? 1;
    this.#now = now;
    this.#level = options.zipLevel;
    this.dataset = new Dataset(
      options.symbols ?? DEFAULT_SYMBOLS,
      seed,
      options.fixtures,
      options.csv,
    );
    this.#cache = new ArchiveCache(options.cacheBytes ?? 512 * 1024 * 1024);
    this.#generator = new ArchiveGenerator({
      dataset: this.dataset,
      cache: this.#cache,
      zipLevel: this.#level,
      init: {
        symbols: options.symbols ?? DEFAULT_SYMBOLS,
        seed,
        fixtures: options.fixtures ?? [],
        csv: options.csv ?? {},
      },
    });
    this.lag = {
      daily: options.publicationLagMs?.daily ?? 6 * 3_600_000,
      monthly: options.publicationLagMs?.monthly ?? MONTH_LAG,
    };
    for (const a of options.rawArchives ?? []) this.setArchive(a.path, a);
  }

  // ---- truth ----

  #spec(market: MarketType, symbol: string): SymbolSpec {
    const spec = this.dataset.spec(market, symbol.toUpperCase());
    if (!spec) throw new RangeError(`The replica does not list ${symbol} on ${market}`);
    return spec;
  }

  /** Closed candles with open time in `[start, end)` (`replica.klines`). */
  klines(q: TruthQuery): KlineColumns {
    const spec = this.#spec(q.marketType, q.symbol);
    const interval = parseInterval(q.interval);
    // Without includeLive, rows() holds only candles closed by now.
    return this.dataset.rows({
      spec,
      interval,
      start: toEpochMs(q.start, "start"),
      end: toEpochMs(q.end, "end"),
      now: this.#now(),
      kind: q.kind,
    });
  }

  /** Funding rows with time in `[start, end)` (`replica.fundingRates`). */
  fundingRates(q: FundingTruthQuery): FundingTruth {
    const spec = this.#spec(q.marketType, q.symbol);
    const start = toEpochMs(q.start, "start");
    return fundingRows(this.dataset, spec, start, toEpochMs(q.end, "end"), this.#now());
  }

  /** Aggregate trades with time in `[start, end)` (`replica.aggTrades`). */
  aggTrades(q: FundingTruthQuery): AggTradeColumns {
    const spec = this.#spec(q.marketType, q.symbol);
    const start = toEpochMs(q.start, "start");
    return aggTradeRows(this.dataset, spec, start, toEpochMs(q.end, "end"), this.#now());
  }

  // ---- archives ----

  #resolve(pathOrQuery: string | ArchiveQuery): Resolved | null {
    const path = typeof pathOrQuery === "string"
      ? archiveKey(pathOrQuery)
      : archivePath(pathOrQuery);
    const ref = parseArchivePath(path);
    if (!ref) return null;
    const spec = kindSpec(this.dataset, ref.market, ref.kind, ref.symbol);
    if (!spec) return null;
    const published = publishedAt(spec, ref.interval, ref.period, this.lag);
    if (published === null || published > this.#now()) return null;
    return { ref, spec, published };
  }

  /**
   * The archive behind a zip or CHECKSUM path: a raw one, else the dataset's if published.
   * Big archives come as a promise: they are generated off the request path.
   */
  lookup(path: string): Found | null | Promise<Found | null> {
    const checksum = path.endsWith(".CHECKSUM");
    const key = checksum ? path.slice(0, -".CHECKSUM".length) : path;
    const zipName = key.slice(key.lastIndexOf("/") + 1);
    const raw = this.#raw.get(key);
    if (raw) return { built: raw, zipName, checksum };
    const level = this.#level ?? 6;
    const funding = fundingArchive(this.dataset, this.#cache, key, this.#now(), this.lag, level);
    if (funding) return { built: funding, zipName, checksum };
    const agg = aggTradesArchive(this.dataset, this.#cache, key, this.#now(), this.lag, level);
    if (agg) return { built: agg, zipName, checksum };
    const r = this.#resolve(path);
    if (!r) return null;
    const found = (built: BuiltArchive | null) => built ? { built, zipName, checksum } : null;
    const built = this.#generator.build(r.ref, r.spec, r.published);
    return built instanceof Promise ? built.then(found) : found(built);
  }

  /** A published archive built on the spot (the listing's exact sizes, `archiveBytes`). */
  build(r: Resolved): BuiltArchive | null {
    return buildArchive(this.dataset, this.#cache, r.ref, r.spec, r.published, this.#level);
  }

  /** An archive already built, without counting a hit or a miss. */
  peek(key: string): BuiltArchive | undefined {
    return this.#cache.peek(key);
  }

  /** Serves exact bytes at an archive path; null removes them (`replica.setArchive`). */
  setArchive(path: string, content: { zip?: Uint8Array; csv?: Uint8Array } | null): void {
    const key = archiveKey(path);
    if (!/^data\/.+\.zip$/.test(key)) {
      throw new TypeError(`An archive path ends in .zip below data/, got ${JSON.stringify(path)}`);
    }
    if (content === null) {
      this.#raw.delete(key);
      return;
    }
    const name = key.slice(key.lastIndexOf("/") + 1).replace(/\.zip$/, ".csv");
    const zip = content.zip ?? (content.csv ? createZip(name, content.csv) : undefined);
    if (!zip) throw new TypeError("setArchive needs zip or csv bytes");
    this.#raw.set(key, {
      zip,
      sha256: createHash("sha256").update(zip).digest("hex"),
      etag: etagFor(key + "#raw", this.dataset.seed),
      lastModified: Date.now(),
    });
  }

  /** Zip bytes of a raw or published archive, without faults (`replica.archiveBytes`). */
  archiveBytes(pathOrQuery: string | ArchiveQuery): Uint8Array | null {
    if (typeof pathOrQuery === "string") {
      const raw = this.#raw.get(archiveKey(pathOrQuery));
      if (raw) return raw.zip;
    }
    const r = this.#resolve(pathOrQuery);
    if (!r) return null;
    const built = this.build(r);
    return built ? built.zip : null;
  }

  /** The CSV inside a published archive (`replica.csvFor`). */
  csvFor(q: ArchiveQuery): Uint8Array | null {
    const r = this.#resolve(q);
    if (!r) return null;
    return this.dataset.periodCsv(
      r.spec,
      r.ref.interval,
      r.ref.period.start,
      r.ref.period.end,
      periodDataEnd(r.ref.interval, r.ref.period),
    );
  }

  /** When an archive is (or will be) published; null if never (`replica.publishedAt`). */
  publishedAt(q: ArchiveQuery): number | null {
    const ref = parseArchivePath(archivePath(q));
    const spec = ref && this.dataset.spec(ref.market, ref.symbol);
    if (!ref || !spec) return null;
    return publishedAt(spec, ref.interval, ref.period, this.lag);
  }

  /** Built-archive cache figures and archives being generated now. */
  cacheStats(): { bytes: number; hits: number; misses: number; generating: number } {
    return {
      bytes: this.#cache.bytes,
      hits: this.#cache.hits,
      misses: this.#cache.misses,
      generating: this.#generator.generating,
    };
  }

  /** Stops generation; resolves once the generators are gone. */
  stopGenerating(): Promise<void> {
    return this.#generator.close();
  }

  /** Drops every built archive (last step of disposal). */
  clear(): void {
    this.#cache.clear();
  }
}
