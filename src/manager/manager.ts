/**
 * `DataSourceManager`: one call for klines from wherever they are — the local cache, the
 * Binance Vision archive, the REST API — with failover per missing span, and one
 * `await using` that releases everything it opened within one time budget.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type CacheKey, KlineCache } from "../cache/mod.ts";
import {
  ChecksumMismatchError,
  ClientClosedError,
  InvalidRangeError,
  InvalidSymbolError,
  UnsupportedIntervalError,
  VisionDataError,
} from "../errors.ts";
import {
  DataSource,
  KLINE_COLUMNS,
  type KlineColumns,
  Klines,
  type KlinesMeta,
  mergeRanges,
} from "../klines.ts";
import { type Interval, type MarketType, normalizeSymbol } from "../market.ts";
import { ResourceOwner } from "../resource/owner.ts";
import { INT_AT_LEAST_1, numberOption } from "../_options.ts";
import {
  type CacheStats,
  type ClientStats,
  emptyStats,
  type ProgressEvent,
  sumStats,
} from "../client_stats.ts";

export type { CacheStats };
import type { DisposeReport } from "../resource/dispose_error.ts";
import type { Lifecycle, LifecycleOptions, LifecycleState } from "../resource/lifecycle.ts";
import { RestDataClient, type RestDataClientOptions } from "../rest/client.ts";
import { iso, resolveRange, type TimeInput, type TimeRange } from "../time.ts";
import { SourceTimeoutError } from "../limit_errors.ts";
import { LIMITS } from "../limits.ts";
import { VisionDataClient, type VisionDataClientOptions } from "../vision/client.ts";
import {
  type AllowedSources,
  allowedSources,
  type CacheDay,
  cacheDaysOf,
  candleRange,
  clipRanges,
  CODE,
  completeDaysOf,
  daysToCache,
  isCacheable,
  splitForRetry,
  splitMissing,
  subtractRanges,
  visionHorizon,
} from "./_plan.ts";
import { runLimited } from "../_worker_loop.ts";
import { assertKlineKind, type KlineKind } from "../kline_kind.ts";
import { assertDataType } from "../data_types.ts";
import { FundingCache } from "../funding/cache.ts";
import type { FundingRates } from "../funding/funding_rates.ts";
import type { GetFundingOptions } from "../funding/options.ts";
import { getFunding } from "../funding/_manager.ts";
import { Semaphore } from "../_semaphore.ts";
import { streamAggTradesWithFallback } from "../agg_trades/stream.ts";
import type { AggTradeColumns } from "../agg_trades/columns.ts";
import type { StreamAggTradesOptions } from "../agg_trades/options.ts";
import { KlinesStream, type StreamOptions, streamSpans } from "../stream.ts";
import { DayWriter } from "./_writer.ts";
import { klinesOfCachedDays } from "./_warm.ts";

const logger = getLogger(["vision-data", "manager"]);

/** Cache files read at once: local reads are cheap to overlap (the cache's own default). */
const CACHE_READ_CONCURRENCY = 8;
/** Chunks (months; days of `1s`) `getData` fetches at once. */
const GET_DATA_AHEAD = 7;

/**
 * Options of {@linkcode DataSourceManager}.
 *
 * @example
 * ```ts
 * import type { DataSourceManagerOptions } from "@vision-data/client";
 * const options: DataSourceManagerOptions = { marketType: "spot", disposeTimeoutMs: 2000 };
 * ```
 */
export interface DataSourceManagerOptions extends LifecycleOptions {
  /** The market every call of this manager is about. */
  marketType: MarketType;
  /** Cache root; default `defaultCacheDir()` (`$VISION_DATA_CACHE_DIR` or the platform's). */
  cacheDir?: string;
  /** Read complete days from the cache and write the complete days fetched. @default {true} */
  useCache?: boolean;
  /** Vision archive base URL. @default {"https://data.binance.vision"} */
  visionUrl?: string;
  /** REST API base URL; default the market's (`https://api.binance.com` for spot). */
  restUrl?: string;
  /** The clock, epoch ms; tests pass the replica's. @default {Date.now} */
  now?: () => number;
  /** How many source fetches (spans, cache files) run at once. @default {4} */
  concurrency?: number;
  /**
   * Longest a Vision span may go in AUTO without finishing an archive before the manager
   * gives up on it and asks REST for that span (a stalling archive host otherwise costs
   * minutes of retries), ms. Each finished archive restarts it, so a long healthy download
   * is never cut. @default {LIMITS.sourceTimeoutMs (60000)}
   */
  sourceTimeoutMs?: number;
  /** Extra options for the Vision client (download concurrency, timeouts, retries). */
  vision?: Omit<
    VisionDataClientOptions,
    "marketType" | "baseUrl" | keyof LifecycleOptions | "now"
  >;
  /** Extra options for the REST client (pacing, weight budget, retries). */
  rest?: Omit<
    RestDataClientOptions,
    "marketType" | "baseUrl" | keyof LifecycleOptions | "now"
  >;
}

/** Progress of {@linkcode DataSourceManager.getData}: the shared {@linkcode ProgressEvent}. */
export type DataProgress = ProgressEvent;

/**
 * Options of {@linkcode DataSourceManager.getData}.
 *
 * @example
 * ```ts
 * import type { GetDataOptions } from "@vision-data/client";
 * const q: GetDataOptions = { symbol: "BTCUSDT", interval: "1h", start: "2024-01-01", end: "2024-02-01" };
 * ```
 */
export interface GetDataOptions {
  /** The symbol, e.g. `BTCUSDT` (validated, upper-cased). */
  symbol: string;
  /** The interval; it must be offered by a source the call may use. */
  interval: Interval;
  /** Inclusive start (on open time); before the market's first data it is clamped to it. Exclusive with `days`. */
  start?: TimeInput;
  /** Exclusive end (on open time); clamped to now. @default {"now"} */
  end?: TimeInput;
  /** Days back from `end` (or now) instead of `start`; giving both is an `InvalidRangeError`. */
  days?: number;
  /**
   * `AUTO` (default): cache, then Vision for archived days, then REST for the rest and for
   * what Vision lacked. `VISION`/`REST`: only that remote source fills what the cache lacks
   * (pass `useCache: false` for the remote source alone), and what it lacks is a gap.
   * `CACHE`: only the cache.
   */
  enforceSource?: DataSource;
  /** Also return the candle still open at `now` (REST only; never cached). @default {false} */
  includeOpenCandle?: boolean;
  /** Which klines: `trades` (default), or on um/cm `mark`, `index`, `premium`. */
  kind?: KlineKind;
  /** Progress callback. */
  onProgress?: (progress: DataProgress) => void;
  /** Aborts this call (the manager stays usable). */
  signal?: AbortSignal;
}

/**
 * Klines from the cache, the Vision archive and the REST API, merged into one sorted,
 * de-duplicated {@linkcode Klines} with per-row `sources` and the `gaps` no source could fill.
 *
 * Only complete, closed UTC days are cached: every candle of the day closed at least one
 * interval before now, and the day has all its candles (`86400000 / interval` rows) — or it
 * is a listing day whose rows came from the archive and run without a hole to midnight.
 * A partial day, a day with a hole and the open candle are never cached, so a partial REST
 * answer can never overwrite a full day. `3d`, `1w` and `1M` are not cached. A day whose
 * archive holds all its candles is written as soon as that archive is parsed, while the
 * others still download; every write of a call is settled (or aborted, leaving no partial
 * file) before the call returns or rejects.
 *
 * The manager owns its clients (opened on first use) and releases them on dispose within
 * `disposeTimeoutMs` in total; calls in flight are aborted and reject with
 * {@linkcode ClientClosedError}.
 *
 * @example
 * ```ts ignore
 * import { DataSource, DataSourceManager, Interval, MarketType } from "@vision-data/client";
 *
 * await using manager = new DataSourceManager({ marketType: MarketType.SPOT });
 * const k = await manager.getData({
 *   symbol: "BTCUSDT",
 *   interval: Interval.MINUTE_1,
 *   start: "2024-01-01",
 *   end: "2024-01-02",
 *   enforceSource: DataSource.AUTO,
 * });
 * console.log(k.length, k.gaps, manager.getCacheStats());
 * ```
 */
export class DataSourceManager implements Lifecycle {
  /** The market. */
  readonly marketType: MarketType;
  readonly #options: DataSourceManagerOptions;
  readonly #owner: ResourceOwner;
  readonly #now: () => number;
  readonly #concurrency: number;
  readonly #childBudgetMs: number;
  readonly #cache: KlineCache | undefined;
  readonly #stats: CacheStats = { hits: 0, misses: 0, errors: 0, writes: 0 };
  readonly #failovers: FailoverStats = { checksum: 0, timeout: 0, other: 0 };
  readonly #sourceTimeoutMs: number;
  readonly #cacheReads = new Semaphore(CACHE_READ_CONCURRENCY);
  #vision: VisionDataClient | undefined;
  #rest: RestDataClient | undefined;
  #fundingCache: FundingCache | undefined;

  /**
   * Creates a DataSourceManager.
   *
   * @param options market, endpoints, cache and disposal budget
   */
  constructor(options: DataSourceManagerOptions) {
    this.#options = options;
    this.marketType = options.marketType;
    this.#owner = new ResourceOwner({
      name: "DataSourceManager",
      disposeTimeoutMs: options.disposeTimeoutMs,
      graceMs: options.graceMs,
      signal: options.signal,
      strictDispose: options.strictDispose,
    });
    // The clients are released one after the other after the manager's grace: each gets
    // half of what is left, so both fit in the one budget even if each uses all of its own.
    this.#childBudgetMs = Math.floor((this.#owner.disposeTimeoutMs - this.#owner.graceMs) / 2);
    this.#sourceTimeoutMs = numberOption(
      "sourceTimeoutMs",
      options.sourceTimeoutMs,
      LIMITS.sourceTimeoutMs,
      INT_AT_LEAST_1,
    );
    this.#now = options.now ?? Date.now;
    this.#concurrency = numberOption("concurrency", options.concurrency, 4, {
      min: 1,
      integer: true,
    });
    this.#cache = options.useCache === false
      ? undefined
      : new KlineCache({ dir: options.cacheDir });
  }

  /**
   * The cache statistics so far (a copy).
   *
   * @example
   * ```ts ignore
   * const { hits, misses, errors } = manager.getCacheStats();
   * ```
   */
  getCacheStats(): CacheStats {
    return { ...this.#stats };
  }

  /**
   * How often AUTO replaced Vision spans with REST data so far (a copy): `checksum` for
   * archives that failed their checksum after retries, `timeout` for spans over
   * `sourceTimeoutMs`, `other` for the remaining source failures. Each is logged at warning.
   *
   * @example
   * ```ts ignore
   * const { checksum } = manager.getFailoverStats();
   * ```
   */
  getFailoverStats(): FailoverStats {
    return { ...this.#failovers };
  }

  /**
   * Counters since creation, in the shape the clients share: the clients' requests, bytes,
   * archives and pages summed, plus the cache statistics.
   */
  get stats(): ClientStats {
    const own = { ...emptyStats(), cache: { ...this.#stats } };
    return sumStats(own, ...[this.#vision, this.#rest].flatMap((c) => c ? [c.stats] : []));
  }

  /**
   * Klines of `symbol` at `interval` whose open time lies in `[start, end)`: sorted,
   * de-duplicated, with per-row `sources` and the `gaps` no allowed source could fill (no
   * row is ever invented). Throws the clients' typed errors: `InvalidSymbolError`,
   * `UnsupportedIntervalError`, `InvalidRangeError` up front, `ClientClosedError` once the
   * manager is closing, and network or API errors REST could not recover from.
   *
   * @example
   * ```ts ignore
   * const k = await manager.getData({ symbol: "BTCUSDT", interval: "1h", start: "2024-01-01", end: "2024-02-01" });
   * ```
   */
  async getData(options: GetDataOptions): Promise<Klines> {
    // The collection of the stream; the chunks are joined, not copied. Nothing waits on a
    // consumer here, so enough chunks run at once to keep every source busy (each bounds
    // its own connections, parse workers and cache reads).
    const call = this.#resolve(options);
    // A warm range (the usual repeat query) is read in one pass: every cached day at once,
    // bounded, straight into one chunk list — no per-chunk planning. What it found is
    // handed to the stream, which then fetches only what the cache lacked.
    const warm = await this.#readWarm(call);
    if (warm instanceof Klines) return warm;
    return await this.#stream(call, { ahead: GET_DATA_AHEAD, ...options }, warm).collect();
  }

  /**
   * The same rows as {@linkcode DataSourceManager.getData}, as a stream of chunks in time
   * order — one per UTC month (per UTC day for `1s`), each with its own `gaps` and
   * `sources` — with at most `ahead` chunks fetched ahead of the loop body. Leaving the loop
   * aborts the fetches in flight; disposing the manager ends it with `ClientClosedError`.
   * Validation errors are thrown by this call, before any request.
   *
   * @example
   * ```ts ignore
   * for await (const chunk of manager.stream({ symbol: "BTCUSDT", interval: "1m", start: "2020-01-01", end: "2026-01-01" })) {
   *   await writer.write(chunk);
   * }
   * ```
   */
  stream(options: StreamDataOptions): KlinesStream {
    return this.#stream(this.#resolve(options), options);
  }

  /** Validates and resolves one call's query (throws before any request). */
  #resolve(options: GetDataOptions): Call {
    this.#owner.assertOpen();
    const symbol = normalizeSymbol(options.symbol, this.marketType);
    const interval = options.interval;
    const mode = options.enforceSource ?? DataSource.AUTO;
    assertKlineKind(this.marketType, options.kind);
    const allowed = allowedSources(this.marketType, interval, mode, this.#cache !== undefined);
    const now = this.#now();
    const asked = resolveRange(options, { now, market: this.marketType });
    const includeOpen = options.includeOpenCandle ?? false;
    const range = candleRange(asked, interval, now, includeOpen);
    const meta: KlinesMeta = { symbol, interval, marketType: this.marketType };
    const progress = progressOfSpans(options.onProgress);
    return { meta, range, now, allowed, options, includeOpen, progress };
  }

  #stream(call: Call, options: StreamOptions, known?: KnownDays): KlinesStream {
    const { meta, range, now, allowed, includeOpen, progress } = call;
    const spans = streamSpans(range, meta.interval);
    return new KlinesStream({
      meta,
      spans,
      options,
      assertOpen: () => {
        if (this.#owner.state !== "open") throw new ClientClosedError("DataSourceManager");
      },
      fetch: (span, i, left) => {
        const last = i === spans.length - 1;
        return this.#run(
          (sig) =>
            this.#getData({
              meta,
              range: span,
              now,
              allowed,
              options: call.options,
              includeOpen: includeOpen && last,
              onProgress: progress?.(i),
              signal: sig,
              known,
            }),
          call.options.signal,
          left,
        );
      },
    });
  }

  /**
   * Reads every cached day of a call at once. Returns the result when the cache held the
   * whole range, else what each day read gave (for the stream to skip those days).
   */
  async #readWarm(call: Call): Promise<Klines | KnownDays | undefined> {
    const { meta, range, now, allowed } = call;
    const cache = allowed.cache ? this.#cache : undefined;
    const days = cache ? cacheDaysOf(range, meta.interval, now) : [];
    if (!cache || days.length === 0) return undefined;
    const known: KnownDays = new Map();
    const hits = await this.#run((signal) =>
      this.#readCache(
        cache,
        {
          ...call,
          includeOpen: false,
          onProgress: call.progress?.(-1),
          signal,
        },
        days,
        known,
      ), call.options.signal);
    if (subtractRanges([range], hits.days).length > 0) return known;
    return klinesOfCachedDays(
      meta,
      range,
      days.map((day) => ({ day, columns: known.get(day.day)! })),
    );
  }

  /** Runs a call's work under the owner; a call cut short by dispose rejects typed. */
  async #run<T>(
    work: (signal: AbortSignal) => Promise<T>,
    asked: AbortSignal | undefined,
    left?: AbortSignal,
  ): Promise<T> {
    const signal = left && asked ? AbortSignal.any([left, asked]) : left ?? asked;
    try {
      return await this.#owner.run(work, { signal });
    } catch (err) {
      // A call cut short by dispose must say so with a typed error, not a bare AbortError.
      if (this.#owner.state !== "open" && !(err instanceof VisionDataError)) {
        throw new ClientClosedError("DataSourceManager");
      }
      throw err;
    }
  }

  /**
   * Funding-rate history (um, cm): cached months, then the monthly archives, then REST for
   * months the archive lacks; complete months fetched are cached. Funding months count in
   * {@linkcode getCacheStats} like kline days. Spot rejects with `UnsupportedDataError`.
   *
   * @example
   * ```ts ignore
   * await using m = new DataSourceManager({ marketType: "um" });
   * const f = await m.getFundingRates({ symbol: "BTCUSDT", start: "2024-01-01", end: "2024-02-01" });
   * ```
   */
  async getFundingRates(options: GetFundingOptions): Promise<FundingRates> {
    this.#owner.assertOpen();
    assertDataType(this.marketType, "funding");
    const symbol = normalizeSymbol(options.symbol, this.marketType);
    const now = this.#now();
    const range = resolveRange(options, { now, market: this.marketType });
    const ctx = {
      market: this.marketType,
      now,
      mode: options.enforceSource ?? DataSource.AUTO,
      cache: this.#cache && (this.#fundingCache ??= new FundingCache({ dir: this.#cache.dir })),
      vision: () => this.#visionClient(),
      rest: () => this.#restClient(),
      stats: this.#stats,
      concurrency: this.#concurrency,
    };
    try {
      return await this.#owner.run((signal) => getFunding(ctx, symbol, range, signal), {
        signal: options.signal,
      });
    } catch (err) {
      if (this.#owner.state !== "open" && !(err instanceof VisionDataError)) {
        throw new ClientClosedError("DataSourceManager");
      }
      throw err;
    }
  }

  /** `open`, `closing` (dispose running) or `closed`. */
  get state(): LifecycleState {
    return this.#owner.state;
  }

  /**
   * What the last dispose did; a client's failed close appears as a failed step named after
   * the client (its error a `DisposeError` with the client's own report). `undefined` before.
   */
  get lastDisposeReport(): DisposeReport | undefined {
    return this.#owner.lastDisposeReport;
  }

  /** Same as `[Symbol.asyncDispose]()`. */
  disposeAsync(): Promise<void> {
    return this.#owner.disposeAsync();
  }

  /**
   * Aborts calls in flight (after a short grace), closes the clients it opened, and resolves
   * within `disposeTimeoutMs` (+ timer jitter) once everything is released — failures are in
   * `lastDisposeReport`, or reject with `DisposeError` under `strictDispose: true`. Every
   * call returns the same promise.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#owner[Symbol.asyncDispose]();
  }

  async #getData(req: Request): Promise<Klines> {
    const { meta, range } = req;
    if (range.start >= range.end) return Klines.empty(meta);
    const cache = req.allowed.cache ? this.#cache : undefined;
    // Complete days are written while the rest is still fetched; the writes belong to this
    // call: on any failure they are aborted (no partial file) and awaited before it rejects.
    const writer = cache && new DayWriter({
      cache,
      meta,
      concurrency: this.#concurrency,
      signal: req.signal,
      onWritten: () => this.#stats.writes++,
      onFailed: () => this.#stats.errors++,
      kind: req.options.kind,
    });
    try {
      return await this.#fetchAll(req, cache, writer);
    } catch (err) {
      await writer?.abort();
      throw err;
    }
  }

  async #fetchAll(
    req: Request,
    cache: KlineCache | undefined,
    writer: DayWriter | undefined,
  ): Promise<Klines> {
    const { meta, range, allowed } = req;
    const parts: Klines[] = [];
    let missing: TimeRange[] = [range];

    if (cache) {
      const hits = await this.#readCache(cache, req, cacheDaysOf(range, meta.interval, req.now));
      parts.push(...hits.parts);
      missing = subtractRanges(missing, hits.days);
    }

    const split = splitMissing(missing, {
      vision: allowed.vision,
      rest: allowed.rest,
      horizon: visionHorizon(meta.interval, req.now),
      widenToDays: cache !== undefined && isCacheable(meta.interval),
    });
    const remote: Klines[] = [];
    const visionLacked: TimeRange[] = [];
    await runLimited<void>(
      [
        ...split.vision.map((span) => async (signal: AbortSignal) => {
          const got = await this.#fromVision(req, span, signal, allowed.rest, writer);
          remote.push(...got.parts);
          visionLacked.push(...got.lacked);
        }),
        ...split.rest.map((span) => async (signal: AbortSignal) => {
          remote.push(await this.#fromRest(req, span, signal));
        }),
      ],
      this.#concurrency,
      req.signal,
    );

    // Failover: what Vision did not have (unpublished or missing files, a failed download)
    // inside the asked range goes to REST.
    const lacked = allowed.rest
      ? clipRanges(mergeRanges(visionLacked), range.start, range.end)
      : [];
    await runLimited(
      lacked.map((span) => async (signal: AbortSignal) => {
        remote.push(await this.#fromRest(req, span, signal));
      }),
      this.#concurrency,
      req.signal,
    );

    if (writer) {
      if (remote.length > 0) this.#writeRest(writer, req, remote, [...split.vision, ...split.rest]);
      await writer.flush();
    }
    parts.push(...remote);
    return assemble(parts, meta, range);
  }

  async #readCache(
    cache: KlineCache,
    req: Request,
    days: CacheDay[],
    record?: KnownDays,
  ): Promise<{ parts: Klines[]; days: TimeRange[] }> {
    const { meta } = req;
    const parts: Klines[] = [];
    const hit: TimeRange[] = [];
    // Days the call read already (getData's warm pass): taken as read, counted once.
    const known = req.known;
    if (known) {
      const unread: CacheDay[] = [];
      for (const d of days) {
        const columns = known.get(d.day);
        if (columns === undefined) unread.push(d);
        else if (columns) {
          hit.push({ start: d.start, end: d.end });
          parts.push(cachedPart(meta, columns));
        }
      }
      days = unread;
    }
    let done = 0;
    await runLimited(
      days.map((d) => async (signal: AbortSignal) => {
        signal.throwIfAborted();
        let columns;
        try {
          // One limit for the whole manager: the chunks of a stream read their days at
          // the same time, and more reads at once than this only queue in the thread pool.
          const release = await this.#cacheReads.acquire(signal);
          try {
            columns = await cache.read(cacheKey(meta, d.day, req.options.kind));
          } finally {
            release();
          }
        } catch (err) {
          // Corrupt (already deleted by the cache) or unreadable: count it and refetch.
          this.#stats.errors++;
          logger.warn("Cache read failed for {day}, fetching it again: {error}", {
            day: d.day,
            error: err,
          });
        }
        signal.throwIfAborted();
        record?.set(d.day, columns ?? null);
        if (columns) {
          this.#stats.hits++;
          hit.push({ start: d.start, end: d.end });
          // Recorded days become parts where they are used.
          if (!record) parts.push(cachedPart(meta, columns));
        } else if (columns === null) {
          this.#stats.misses++;
        }
        req.onProgress?.({ source: "cache", done: ++done, total: days.length, bytes: 0 });
      }),
      CACHE_READ_CONCURRENCY,
      req.signal,
    );
    return { parts, days: hit };
  }

  async #fromVision(
    req: Request,
    span: TimeRange,
    signal: AbortSignal,
    failover: boolean,
    writer: DayWriter | undefined,
  ): Promise<{ parts: Klines[]; lacked: TimeRange[] }> {
    const { meta } = req;
    // AUTO bounds how long the span may go without finishing an archive: past it, the span
    // is REST's (see sourceTimeoutMs). A healthy long download keeps resetting it.
    const timer = failover ? new AbortController() : undefined;
    let timeout: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timeout);
      if (!timer) return;
      const limit = this.#sourceTimeoutMs;
      const what = `Vision span ${iso(span.start)}..${iso(span.end)} without a finished archive`;
      timeout = setTimeout(
        () => timer.abort(new SourceTimeoutError(what, limit, limit, "sourceTimeoutMs", "ms")),
        limit,
      );
    };
    arm();
    try {
      const k = await this.#visionClient().fetchKlines({
        symbol: meta.symbol,
        interval: meta.interval,
        start: span.start,
        end: span.end,
        kind: req.options.kind,
        signal: timer ? AbortSignal.any([signal, timer.signal]) : signal,
        onProgress: (p) => {
          arm();
          req.onProgress?.(p);
        },
        onArchive: writer && (({ columns }) => writeCompleteDays(writer, req, span, columns)),
      });
      const lacked = mergeRanges([...k.gaps, ...k.gapsOver(span)]);
      return { parts: [tag(k.between(span.start, span.end), CODE.vision)], lacked };
    } catch (err) {
      // With REST allowed, an archive that cannot be had (checksum, bad zip, server errors
      // after retries) is a span for REST, not a failed call: retry the span's files one by
      // one so that only the bad one goes to REST. Aborts and closes propagate.
      if (!failover || signal.aborted || !isFailoverError(err)) throw err;
      const units = err instanceof SourceTimeoutError ? [] : splitForRetry(span, meta.interval);
      if (units.length === 0) {
        const kind = err instanceof ChecksumMismatchError
          ? "checksum"
          : err instanceof SourceTimeoutError
          ? "timeout"
          : "other";
        this.#failovers[kind]++;
        logger.warn("Vision failed for {start}..{end}, asking REST: {error}", {
          start: new Date(span.start).toISOString(),
          end: new Date(span.end).toISOString(),
          error: err,
        });
        return { parts: [], lacked: [span] };
      }
      const got = await runLimited(
        units.map((u) => (sig: AbortSignal) => this.#fromVision(req, u, sig, failover, writer)),
        this.#concurrency,
        signal,
      );
      return { parts: got.flatMap((g) => g.parts), lacked: got.flatMap((g) => g.lacked) };
    } finally {
      clearTimeout(timeout);
    }
  }

  async #fromRest(req: Request, span: TimeRange, signal: AbortSignal): Promise<Klines> {
    const { meta } = req;
    const k = await this.#restClient().fetchKlines({
      symbol: meta.symbol,
      interval: meta.interval,
      start: span.start,
      end: span.end,
      signal,
      includeOpenCandle: req.includeOpen,
      kind: req.options.kind,
      onProgress: req.onProgress,
    });
    return tag(k, CODE.rest);
  }

  /** Schedules the cacheable days of the fetched rows that were not written early. */
  #writeRest(writer: DayWriter, req: Request, remote: Klines[], fetched: TimeRange[]): void {
    const { meta, now } = req;
    // Every source returns its rows sorted and de-duplicated: a lone part needs no merge.
    const all = remote.length === 1 ? remote[0] : Klines.merge(remote, meta);
    for (const d of daysToCache(all, { interval: meta.interval, now, fetched })) {
      if (!writer.has(d.day)) writer.write(d.day, all.between(d.start, d.end).columns);
    }
  }

  /**
   * Aggregate trades (spot, um, cm) as a stream of chunks: the daily and monthly archives
   * first, then REST for the spans they lack (the recent days), through
   * `streamAggTradesWithFallback`; spans neither has go to `onGap`. Not cached. Disposing the
   * manager mid-stream rejects the iteration with `ClientClosedError`.
   *
   * @example
   * ```ts ignore
   * await using m = new DataSourceManager({ marketType: "spot" });
   * const stream = m.streamAggTrades({ symbol: "BTCUSDT", start: Date.now() - 3 * 86400000, end: Date.now() });
   * await writeAggTrades(stream, "btc-agg.parquet");
   * ```
   */
  streamAggTrades(options: StreamAggTradesOptions): AsyncGenerator<AggTradeColumns> {
    this.#owner.assertOpen();
    return streamAggTradesWithFallback(
      { streamAggTrades: (o) => this.#visionClient().streamAggTrades(o) },
      { streamAggTrades: (o) => this.#restClient().streamAggTrades(o) },
      options,
    );
  }

  // Created on first use. While the manager is closing, in-flight calls may still open a
  // client (the owner accepts it during grace); after that the owner refuses it.
  /** What both clients get from the manager: its market, clock, signal and a share of its budget. */
  #childOptions(baseUrl: string | undefined) {
    return {
      marketType: this.marketType,
      baseUrl,
      disposeTimeoutMs: this.#childBudgetMs,
      graceMs: 0,
      signal: this.#owner.signal,
      // Strict inside: a client's failed close becomes a failed step of the manager's report.
      strictDispose: true,
      now: this.#now,
    };
  }

  #visionClient(): VisionDataClient {
    if (!this.#vision) {
      const o = this.#options;
      this.#vision = this.#owner.adopt(
        "VisionDataClient",
        new VisionDataClient({ ...o.vision, ...this.#childOptions(o.visionUrl) }),
      );
    }
    return this.#vision;
  }

  #restClient(): RestDataClient {
    if (!this.#rest) {
      const o = this.#options;
      this.#rest = this.#owner.adopt(
        "RestDataClient",
        new RestDataClient({ ...o.rest, ...this.#childOptions(o.restUrl) }),
      );
    }
    return this.#rest;
  }
}

/**
 * Counts of Vision spans AUTO handed to REST, by cause (see `getFailoverStats`).
 *
 * @example
 * ```ts
 * import type { FailoverStats } from "@vision-data/client";
 * const total = (s: FailoverStats) => s.checksum + s.timeout + s.other;
 * ```
 */
export interface FailoverStats {
  /** Archives that failed their checksum after retries. */
  checksum: number;
  /** Spans over `sourceTimeoutMs`. */
  timeout: number;
  /** Other source failures (server errors, corrupt archives or rows, body limits). */
  other: number;
}

/** One stream chunk's resolved request. */
interface Request {
  meta: KlinesMeta;
  /** The chunk's span of the asked range. */
  range: TimeRange;
  now: number;
  allowed: AllowedSources;
  options: GetDataOptions;
  /** Whether this chunk may end with the open candle (the last chunk of such a call). */
  includeOpen: boolean;
  /** The call's progress callback, summed over the chunks. */
  onProgress: ((progress: DataProgress) => void) | undefined;
  signal: AbortSignal;
  /** Cache days the call has read already (null: not cached or unreadable). */
  known?: KnownDays;
}

/** What reading a call's cache days gave, by day: the columns, or null (none, unreadable). */
type KnownDays = Map<string, KlineColumns | null>;

/** One call's resolved query, shared by its chunks. */
interface Call {
  meta: KlinesMeta;
  range: TimeRange;
  now: number;
  allowed: AllowedSources;
  options: GetDataOptions;
  includeOpen: boolean;
  /** Per-chunk progress callbacks (chunk -1: getData's warm pass). */
  progress: ((chunk: number) => (p: DataProgress) => void) | undefined;
}

/**
 * Options of {@linkcode DataSourceManager.stream}: a `getData` query and how many chunks to
 * fetch ahead.
 *
 * @example
 * ```ts
 * import type { StreamDataOptions } from "@vision-data/client";
 * const q: StreamDataOptions = { symbol: "BTCUSDT", interval: "1m", start: "2020-01-01", end: "2026-01-01", ahead: 2 };
 * ```
 */
export interface StreamDataOptions extends GetDataOptions, StreamOptions {}

/**
 * Per-chunk progress callbacks whose reports add up per source to the call's progress
 * (each chunk plans and counts its own cache days, archives and pages).
 */
function progressOfSpans(
  onProgress: ((p: DataProgress) => void) | undefined,
): ((chunk: number) => (p: DataProgress) => void) | undefined {
  if (!onProgress) return undefined;
  const last = new Map<string, DataProgress>();
  const sums = new Map<DataProgress["source"], DataProgress>();
  return (chunk) => (p) => {
    const key = `${chunk}:${p.source}`;
    const before = last.get(key);
    last.set(key, { ...p });
    const sum = sums.get(p.source) ?? { source: p.source, done: 0, total: 0, bytes: 0 };
    sum.done += p.done - (before?.done ?? 0);
    sum.total += p.total - (before?.total ?? 0);
    sum.bytes += p.bytes - (before?.bytes ?? 0);
    sums.set(p.source, sum);
    onProgress({ ...sum });
  };
}

/**
 * Options of {@linkcode fetchMarketData}: a manager's and one call's (`signal` serves as both).
 *
 * @example
 * ```ts
 * import type { FetchMarketDataOptions } from "@vision-data/client";
 * const o: FetchMarketDataOptions = {
 *   marketType: "um", symbol: "BTCUSDT", interval: "1d", start: "2024-01-01", end: "2025-01-01",
 * };
 * ```
 */
export interface FetchMarketDataOptions extends DataSourceManagerOptions, GetDataOptions {}

/**
 * One-shot: opens a {@linkcode DataSourceManager}, runs one `getData`, and disposes the
 * manager (and its clients) before returning.
 *
 * @example
 * ```ts ignore
 * import { fetchMarketData } from "@vision-data/client";
 * const k = await fetchMarketData({
 *   marketType: "spot", symbol: "BTCUSDT", interval: "1h", start: "2024-01-01", end: "2024-01-08",
 * });
 * ```
 */
export async function fetchMarketData(options: FetchMarketDataOptions): Promise<Klines> {
  await using manager = new DataSourceManager(options);
  return await manager.getData(options);
}

/**
 * Schedules the complete days of one parsed archive inside `span` (see `completeDaysOf`)
 * as views of it; returns whether any was, i.e. whether the archive's columns must be kept.
 */
function writeCompleteDays(
  writer: DayWriter,
  req: Request,
  span: TimeRange,
  columns: KlineColumns,
): boolean {
  const days = completeDaysOf(columns, { interval: req.meta.interval, now: req.now, span });
  let kept = false;
  for (const d of days) {
    if (writer.has(d.day)) continue;
    const day = {} as KlineColumns;
    for (const name of KLINE_COLUMNS) day[name] = columns[name].subarray(d.lo, d.hi);
    writer.write(d.day, day);
    kept = true;
  }
  return kept;
}

function cacheKey(meta: KlinesMeta, day: string, kind?: KlineKind): CacheKey {
  return { marketType: meta.marketType, symbol: meta.symbol, interval: meta.interval, day, kind };
}

/** One cached day's columns (not copied) as a part, every row's source the cache. */
function cachedPart(meta: KlinesMeta, columns: KlineColumns): Klines {
  const sources = new Uint8Array(columns.openTime.length).fill(CODE.cache);
  return new Klines({ ...meta, columns, sources });
}

/** The same rows (not copied) with every row's source set to `code`. */
function tag(k: Klines, code: number): Klines {
  return new Klines({
    ...k.meta,
    chunks: k.chunks.map((c) => ({
      columns: c.columns,
      sources: new Uint8Array(c.length).fill(code),
    })),
    gaps: [...k.gaps],
    lastIsOpen: k.lastIsOpen,
  });
}

/** The asked range's rows of every part, sorted and de-duplicated, gaps over `range`. */
function assemble(parts: Klines[], meta: KlinesMeta, range: TimeRange): Klines {
  const inRange = parts.map((p) => p.between(range.start, range.end)).filter((p) => p.length > 0);
  // Parts are sorted inside (every source returns them so); when they do not overlap either —
  // the usual case: disjoint days and spans — merge joins their chunks without a copy (the
  // open candle, if any, sits in the newest part and stays last).
  if (inRange.length === 0) {
    return Klines.empty(meta, [{ start: range.start, end: range.end }]);
  }
  return Klines.merge(inRange, meta, range);
}

/** Vision errors worth a REST retry of the span (not programming, validation or abort errors). */
function isFailoverError(err: unknown): boolean {
  return err instanceof VisionDataError &&
    !(err instanceof ClientClosedError || err instanceof InvalidSymbolError ||
      err instanceof UnsupportedIntervalError || err instanceof InvalidRangeError);
}
