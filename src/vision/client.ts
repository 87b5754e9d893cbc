/**
 * `VisionDataClient`: klines from the Binance Vision archive — planned as monthly and
 * daily files, downloaded concurrently, verified against their `.CHECKSUM`, parsed off the
 * main thread, merged with exact gaps — by a client whose dispose never hangs.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { HttpSession } from "../http/session.ts";
import type { KlineColumns, Klines, KlinesMeta } from "../klines.ts";
import {
  assertIntervalSupported,
  firstOpenAtOrAfter,
  type Interval,
  isMonthlyOnly,
  marketCapabilities,
  type MarketType,
  normalizeSymbol,
} from "../market.ts";
import { ResourceOwner } from "../resource/owner.ts";
import { INT_AT_LEAST_1, numberOption } from "../_options.ts";
import { type ClientStats, emptyStats, type ProgressEvent } from "../client_stats.ts";
import type { Lifecycle, LifecycleOptions, LifecycleState } from "../resource/lifecycle.ts";
import { sweepStaleTempDirs } from "../resource/temp_dir.ts";
import type { DisposeReport } from "../resource/dispose_error.ts";
import {
  type ArchivePeriod,
  daysOf,
  planArchives,
  resolveRange,
  type TimeInput,
  type TimeRange,
} from "../time.ts";
import { downloadArchive, type DownloadContext, IN_MEMORY_MAX_BYTES } from "./_download.ts";
import { runWorkerLoop } from "../_worker_loop.ts";
import { clientStream, type KlinesStream, type StreamOptions } from "../stream.ts";
import { PartAssembler } from "./_assemble.ts";
import { releaseBuffer } from "./_parse_job.ts";
import { defaultParseWorkers, ParsePool } from "./parse_pool.ts";
import { Semaphore } from "../_semaphore.ts";
import { LIMITS } from "../limits.ts";
import {
  csvNameOf,
  DEFAULT_VISION_BASE_URL,
  klineArchiveFileName,
  klineArchiveUrl,
} from "./paths.ts";
import { checkKlineRows } from "../_row_check.ts";
import { assertKlineKind, type KlineKind } from "../kline_kind.ts";
import { assertDataType } from "../data_types.ts";
import type { FundingRates } from "../funding/funding_rates.ts";
import type { FetchFundingOptions } from "../funding/options.ts";
import { fetchFundingVision } from "../funding/_vision.ts";
import type { AggTradeColumns } from "../agg_trades/columns.ts";
import {
  collectAggTrades,
  type FetchAggTradesOptions,
  type StreamAggTradesOptions,
} from "../agg_trades/options.ts";
import { streamAggTradesVision } from "../agg_trades/_vision.ts";

const logger = getLogger(["vision-data", "vision"]);

/** Options for {@linkcode VisionDataClient}. */
export interface VisionDataClientOptions extends LifecycleOptions {
  /** The market whose archives to read. */
  marketType: MarketType;
  /** Archive host. @default {"https://data.binance.vision"} */
  baseUrl?: string;
  /** Archives downloaded at once. @default {8} */
  concurrency?: number;
  /** No response headers within this → retried, then `RequestTimeoutError`. @default {30000} */
  headersTimeoutMs?: number;
  /** No body bytes for this long → retried, then `RequestTimeoutError`. @default {30000} */
  idleTimeoutMs?: number;
  /** Attempts per archive (transient failures and checksum mismatches). @default {4} */
  maxAttempts?: number;
  /** First retry backoff in ms (doubles, with jitter). @default {250} */
  retryMinTimeoutMs?: number;
  /** Longest retry backoff in ms. @default {5000} */
  retryMaxTimeoutMs?: number;
  /** "Now" in epoch ms, for range clamping. @default {Date.now} */
  now?: () => number;
  /**
   * Parse workers (≥ 1). Each costs ~23 MB, and past 4 the downloads, not the parsing, are
   * the limit. `0` (parse on the calling thread) is refused with `InvalidOptionError`: a
   * synchronous parse of a large archive would block the event loop, and with it the
   * dispose deadline. @default {min(navigator.hardwareConcurrency, 4)}
   */
  parseWorkers?: number;
  /**
   * Largest archive accepted, bytes: a larger declared `Content-Length` is refused before a
   * byte is stored (`BodyTooLargeError`). @default {LIMITS.maxArchiveBytes (4 GiB)}
   */
  maxArchiveBytes?: number;
  /**
   * Creates the client's `Deno.HttpClient` (proxy, certificates, pool sizes). Called once,
   * lazily; the client disposes it. @default {() => Deno.createHttpClient({})}
   */
  createHttpClient?: () => Deno.HttpClient;
}

/** Progress of {@linkcode VisionDataClient.fetchKlines}: the shared {@linkcode ProgressEvent}. */
export type FetchProgress = ProgressEvent;

/** Options for {@linkcode VisionDataClient.fetchKlines}. */
export interface FetchKlinesOptions {
  /** Symbol, any case (`btcusdt` → `BTCUSDT`). */
  symbol: string;
  /** Kline interval (must be offered by the market's archive). */
  interval: Interval;
  /** Inclusive start (on open time); before the market's first data it is clamped to it. Exclusive with `days`. */
  start?: TimeInput;
  /** Exclusive end (on open time); clamped to now. @default {"now"} */
  end?: TimeInput;
  /** Days back from `end` (or now) instead of `start`; giving both is an `InvalidRangeError`. */
  days?: number;
  /** Aborts this call (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Called after each archive; a throw aborts the call with that error. */
  onProgress?: (progress: FetchProgress) => void;
  /** Use monthly archives for whole months. @default {true} */
  preferMonthly?: boolean;
  /** Which klines: `trades` (default), or on um/cm `mark`, `index`, `premium`. */
  kind?: KlineKind;
  /**
   * Called with each archive's rows as soon as they are parsed, before they are merged (in
   * completion order; a monthly archive's rows may reach outside `[start, end)`), e.g. to
   * store whole days while the other archives download. Return `true` to keep the columns
   * (they are then the caller's, left to the garbage collector); otherwise their memory is
   * released as soon as the call returns. A throw aborts the fetch with that error.
   */
  onArchive?: (archive: ArchiveRows) => boolean | void;
}

/**
 * One parsed archive, as {@linkcode FetchKlinesOptions.onArchive} sees it.
 *
 * @example
 * ```ts
 * import type { ArchiveRows } from "@vision-data/client";
 * const onArchive = (a: ArchiveRows) => console.log(a.file, a.columns.openTime.length);
 * ```
 */
export interface ArchiveRows {
  /** The archive's file name, e.g. `BTCUSDT-1m-2024-01.zip`. */
  file: string;
  /** Its rows in file order (released after the callback unless it returns `true`). */
  columns: KlineColumns;
}

/** What the client holds right now (for diagnostics and tests). */
export interface VisionClientResources {
  /** Whether the `Deno.HttpClient` exists (created on first request, dropped on dispose). */
  httpClient: boolean;
  /** Responses of the HTTP session not consumed yet, or `undefined` without a session. */
  openResponses: number | undefined;
  /** Whether the parse pool exists. */
  parsePool: boolean;
  /** The temp dir, once created (it is removed on dispose). */
  tempDir: string | undefined;
}

let sweptStaleTempDirs = false;

/**
 * Reads klines from the Binance Vision archive.
 *
 * Per call: validates (typed errors naming the value), plans monthly archives for whole
 * months and daily ones for the edges (a missing month falls back to its days), downloads
 * with bounded concurrency and retries, verifies each zip's SHA-256, parses in worker
 * threads, and returns sorted, de-duplicated rows with open time in `[start, end)` plus
 * the exact gaps (missing files and missing rows; nothing invented).
 *
 * Dispose (`await using`, disposal_semantics.md §4) settles within `disposeTimeoutMs`:
 * grace for running downloads, then abort, then session → parse pool → HTTP client, then
 * the temp dir. A `fetchKlines` cut short by dispose rejects with `ClientClosedError`;
 * calls after dispose began reject with `ClientClosedError` at once.
 *
 * @example
 * ```ts ignore
 * import { VisionDataClient } from "@vision-data/client";
 * await using client = new VisionDataClient({ marketType: "spot" });
 * const k = await client.fetchKlines({
 *   symbol: "BTCUSDT",
 *   interval: "1h",
 *   start: "2024-01-01",
 *   end: "2024-02-01",
 * });
 * console.log(k.length, k.gaps);
 * ```
 */
export class VisionDataClient implements Lifecycle {
  /** The market. */
  readonly marketType: MarketType;
  /** Archive host, without trailing slash. */
  readonly baseUrl: string;
  /** Archives downloaded at once. */
  readonly concurrency: number;
  readonly #owner: ResourceOwner;
  readonly #options: VisionDataClientOptions;
  readonly #now: () => number;
  #httpClient: Deno.HttpClient | undefined;
  #session: HttpSession | undefined;
  #pool: ParsePool | undefined;
  #tempDir: string | undefined;
  readonly #inMemorySlots: Semaphore;
  readonly #maxArchiveBytes: number;
  readonly #stats: ClientStats = emptyStats();

  /**
   * Creates a VisionDataClient.
   *
   * @param options market, host, concurrency, timeouts, dispose budget
   */
  constructor(options: VisionDataClientOptions) {
    marketCapabilities(options.marketType);
    this.marketType = options.marketType;
    this.baseUrl = (options.baseUrl ?? DEFAULT_VISION_BASE_URL).replace(/\/+$/, "");
    this.concurrency = numberOption("concurrency", options.concurrency, 8, INT_AT_LEAST_1);
    numberOption("maxAttempts", options.maxAttempts, 4, INT_AT_LEAST_1);
    // 0 (parse on the calling thread) is refused: such a parse could not be cut short by dispose.
    numberOption("parseWorkers", options.parseWorkers, 1, { min: 1, max: 64, integer: true });
    numberOption("headersTimeoutMs", options.headersTimeoutMs, 30_000, { min: 0 });
    numberOption("idleTimeoutMs", options.idleTimeoutMs, 30_000, { min: 0 });
    const retryMin = numberOption("retryMinTimeoutMs", options.retryMinTimeoutMs, 250, { min: 0 });
    numberOption("retryMaxTimeoutMs", options.retryMaxTimeoutMs, Math.max(5000, retryMin), {
      min: retryMin,
    });
    this.#maxArchiveBytes = numberOption(
      "maxArchiveBytes",
      options.maxArchiveBytes,
      LIMITS.maxArchiveBytes,
      INT_AT_LEAST_1,
    );
    this.#options = options;
    this.#now = options.now ?? Date.now;
    // Archives held in memory at once (downloaded, not yet parsed): one per parse worker
    // plus a couple ready for the next free one. More only raise the peak RSS: loopback
    // downloads outrun the workers, and on a slow link the downloads are the bottleneck.
    const workers = options.parseWorkers ?? defaultParseWorkers();
    this.#inMemorySlots = new Semaphore(workers + 2);
    this.#owner = new ResourceOwner({
      name: "VisionDataClient",
      disposeTimeoutMs: options.disposeTimeoutMs,
      graceMs: options.graceMs,
      signal: options.signal,
      strictDispose: options.strictDispose,
    });
    // Released LIFO: session, then parse pool, then the HTTP client (sync: always runs).
    this.#owner.adopt("http client", { [Symbol.dispose]: () => this.#closeHttpClient() });
    this.#owner.adopt("parse pool", { [Symbol.asyncDispose]: () => this.#closePool() });
    this.#owner.adopt("session", { [Symbol.asyncDispose]: () => this.#closeSession() });
  }

  /** `open`, `closing` (dispose running) or `closed`. */
  get state(): LifecycleState {
    return this.#owner.state;
  }

  /** What the last dispose did (steps, `timedOut`, errors, elapsed); `undefined` before. */
  get lastDisposeReport(): DisposeReport | undefined {
    return this.#owner.lastDisposeReport;
  }

  /** Counters since creation (the shared {@linkcode ClientStats} shape; REST-only ones stay 0). */
  get stats(): ClientStats {
    return {
      ...this.#stats,
      requests: this.#stats.requests + (this.#session?.requests ?? 0),
      cache: { ...this.#stats.cache },
    };
  }

  /** What the client holds right now. */
  get resources(): VisionClientResources {
    return {
      httpClient: this.#httpClient !== undefined,
      openResponses: this.#session?.openResponses,
      parsePool: this.#pool !== undefined,
      tempDir: this.#tempDir,
    };
  }

  /**
   * Releases `resource` with the client, before the client's own session, pool and HTTP
   * client, within the same dispose budget (an overrun is named in `timedOut`).
   *
   * @example
   * ```ts ignore
   * const client = new VisionDataClient({ marketType: "spot" });
   * client.adopt("my cache", { [Symbol.asyncDispose]: async () => {} });
   * ```
   */
  adopt<T extends AsyncDisposable | Disposable>(name: string, resource: T): T {
    return this.#owner.adopt(name, resource);
  }

  /**
   * Klines with open time in `[start, end)`, sorted and de-duplicated, with `gaps` for
   * every span no archive covered (unpublished days, days before listing, missing rows).
   *
   * Throws `InvalidSymbolError`, `UnsupportedIntervalError`, `InvalidRangeError` before
   * any request; `ChecksumMismatchError`, `ArchiveError`, `HttpStatusError`,
   * `RequestTimeoutError`, `NetworkError` when an archive fails after retries;
   * `ClientClosedError` when the client is (or gets) disposed; the signal's reason when
   * `signal` aborts.
   */
  async fetchKlines(options: FetchKlinesOptions): Promise<Klines> {
    this.#owner.assertOpen();
    const symbol = normalizeSymbol(options.symbol, this.marketType);
    assertIntervalSupported(this.marketType, options.interval, "vision");
    assertKlineKind(this.marketType, options.kind);
    const interval = options.interval;
    const now = this.#now();
    const range = resolveRange(options, { now, market: this.marketType });
    const meta: KlinesMeta = { symbol, interval, marketType: this.marketType };
    return await this.#owner.run(
      (signal) => this.#fetch(meta, range, now, options, signal),
      { signal: options.signal, name: `fetchKlines ${symbol} ${interval}` },
    );
  }

  /**
   * The same rows as {@linkcode VisionDataClient.fetchKlines}, as a stream of chunks in time
   * order — one per UTC month (a monthly archive; per UTC day for `1s`) — with at most
   * `ahead` chunks fetched ahead of the loop body (see {@linkcode KlinesStream}). Progress
   * and `onArchive` are reported per chunk. Validation errors are thrown by this call.
   *
   * @example
   * ```ts ignore
   * for await (const chunk of client.stream({ symbol: "BTCUSDT", interval: "1m", start: "2024-01-01", end: "2025-01-01" })) {
   *   console.log(chunk.length);
   * }
   * ```
   */
  stream(options: FetchKlinesOptions & StreamOptions): KlinesStream {
    this.#owner.assertOpen();
    const client = {
      marketType: this.marketType,
      source: "vision" as const,
      now: this.#now(),
      assertOpen: () => this.#owner.assertOpen(),
    };
    return clientStream(client, options, (o) => this.fetchKlines(o));
  }

  async #fetch(
    meta: KlinesMeta,
    range: TimeRange,
    now: number,
    options: FetchKlinesOptions,
    signal: AbortSignal,
  ): Promise<Klines> {
    const { symbol, interval } = meta;
    const monthlyOnly = isMonthlyOnly(interval);
    const plan = planArchives(range, { preferMonthly: options.preferMonthly ?? true, interval });
    logger.debug("Fetching {symbol} {interval}: {count} archives", {
      symbol,
      interval,
      count: plan.length,
    });
    const session = this.#ensureSession(signal);
    // Worker start-up (tens of ms each) overlaps the first downloads.
    if (plan.some((p) => p.end <= now)) this.#ensurePool(signal).warmUp();
    const ctx = {
      session,
      tempDir: () => this.#ensureTempDir(),
      parse: (path: string, file: string, sig: AbortSignal) =>
        this.#ensurePool(sig).parseZipFile(path, { file, signal: sig }),
      parseBytes: (zip: Uint8Array, file: string, sig: AbortSignal) =>
        this.#ensurePool(sig).parseZipBytes(zip, { file, signal: sig, transfer: true }),
      inMemoryMaxBytes: IN_MEMORY_MAX_BYTES,
      maxArchiveBytes: this.#maxArchiveBytes,
      inMemorySlots: this.#inMemorySlots,
      maxAttempts: this.#options.maxAttempts ?? 4,
      retryMinTimeoutMs: this.#options.retryMinTimeoutMs ?? 250,
      retryMaxTimeoutMs: this.#options.retryMaxTimeoutMs ?? 5000,
    };
    // A range starting mid-candle must not report the part before the first open as a gap.
    const gapRange = { start: firstOpenAtOrAfter(interval, range.start), end: range.end };
    // Parts are copied into place as they arrive, while the workers parse the next ones.
    const assembler = new PartAssembler({ meta, range, gapRange });
    const progress: ProgressEvent = { source: "vision", done: 0, total: plan.length, bytes: 0 };
    await runWorkerLoop<ArchivePeriod>(plan, {
      concurrency: this.concurrency,
      signal,
      handle: async (period, sig, enqueue) => {
        const kind = options.kind;
        const fileName = klineArchiveFileName(symbol, interval, period, kind);
        const url = klineArchiveUrl(this.baseUrl, this.marketType, symbol, interval, period, kind);
        // A period that has not ended cannot be published yet: no request for today.
        const out = period.end > now
          ? { status: "absent" as const, httpStatus: 0 }
          : await downloadArchive(ctx, url, fileName, sig);
        if (out.status === "ok") {
          // Before anyone sees the rows (onArchive writes the cache): corrupt ones never pass.
          checkKlineRows(out.columns, interval, csvNameOf(fileName), 0, kind);
          progress.bytes += out.bytes;
          this.#stats.bytes += out.bytes;
          const kept = options.onArchive?.({ file: fileName, columns: out.columns }) === true;
          // Once copied into place, the part's buffer (fresh from the parser, ours alone)
          // is freed at once rather than at the next GC: it bounds the fetch's peak RSS.
          if (assembler.add(out.columns) && !kept) releaseBuffer(out.columns.openTime);
        } else if (period.kind === "monthly" && !monthlyOnly) {
          // Usually the month is not published yet: its days are.
          const days = daysOf(period).filter((d) => d.start < range.end && d.end > range.start);
          logger.debug("{file} absent (HTTP {status}); trying its {days} daily files", {
            file: fileName,
            status: out.httpStatus,
            days: days.length,
          });
          progress.total += days.length;
          enqueue(...days);
        } else {
          logger.debug("{file} absent (HTTP {status}): gap", {
            file: fileName,
            status: out.httpStatus,
          });
        }
        progress.done++;
        this.#stats.archives++;
        options.onProgress?.({ ...progress });
      },
    });
    return assembler.finish();
  }

  /**
   * Funding-rate history of a um/cm contract from the monthly `fundingRate` archives
   * (checksum-verified like klines), with `gaps` for months not published or absent.
   * Spot rejects with `UnsupportedDataError`; `markPrice` is NaN (the archive has none).
   *
   * @example
   * ```ts ignore
   * await using vision = new VisionDataClient({ marketType: "um" });
   * const f = await vision.fetchFundingRates({ symbol: "BTCUSDT", start: "2024-01-01", end: "2024-03-01" });
   * ```
   */
  async fetchFundingRates(options: FetchFundingOptions): Promise<FundingRates> {
    this.#owner.assertOpen();
    assertDataType(this.marketType, "funding");
    const symbol = normalizeSymbol(options.symbol, this.marketType);
    const now = this.#now();
    const range = resolveRange(options, { now, market: this.marketType });
    return await this.#owner.run(
      (signal) =>
        fetchFundingVision(
          {
            baseUrl: this.baseUrl,
            market: this.marketType,
            now,
            concurrency: this.concurrency,
            download: this.#downloadBase(signal),
          },
          symbol,
          range,
          signal,
        ),
      { signal: options.signal, name: `fetchFundingRates ${symbol}` },
    );
  }

  /**
   * Aggregate trades of `[start, end)` (on transaction time) from the daily and monthly
   * `aggTrades` archives, as chunks of columns in time order — one archive downloaded and
   * held at a time, so memory stays flat however long the range. Every step runs under the
   * client (aborted by its dispose: the iteration then rejects with `ClientClosedError`).
   * Spot µs timestamps (2025 on) are normalised to ms. Absent archives go to `onGap`.
   *
   * @example
   * ```ts ignore
   * await using vision = new VisionDataClient({ marketType: "spot" });
   * for await (const c of vision.streamAggTrades({ symbol: "BTCUSDT", start: "2024-01-01", end: "2024-01-02" })) {
   *   console.log(c.aggTradeId.length);
   * }
   * ```
   */
  async *streamAggTrades(options: StreamAggTradesOptions): AsyncGenerator<AggTradeColumns> {
    this.#owner.assertOpen();
    const symbol = normalizeSymbol(options.symbol, this.marketType);
    const now = this.#now();
    const range = resolveRange(options, { now, market: this.marketType });
    const chunkRows = numberOption("chunkRows", options.chunkRows, 1_000_000, INT_AT_LEAST_1);
    const name = `streamAggTrades ${symbol}`;
    yield* streamAggTradesVision(
      {
        baseUrl: this.baseUrl,
        market: this.marketType,
        now,
        run: (step) => this.#owner.run(step, { signal: options.signal, name }),
        download: this.#downloadBase(this.#owner.signal),
      },
      symbol,
      range,
      chunkRows,
      options.onGap,
      options.releaseChunks,
    );
  }

  /**
   * {@linkcode streamAggTrades} collected into one set of columns, for ranges that fit:
   * past `maxRows` (default 5 M) it rejects with `AggTradesTooLargeError`.
   */
  fetchAggTrades(options: FetchAggTradesOptions): Promise<AggTradeColumns> {
    return collectAggTrades(this.streamAggTrades(options), options.maxRows);
  }

  /** The download settings every archive type shares. */
  #downloadBase(signal: AbortSignal): Omit<DownloadContext, "parse" | "parseBytes"> {
    return {
      session: this.#ensureSession(signal),
      tempDir: () => this.#ensureTempDir(),
      inMemoryMaxBytes: IN_MEMORY_MAX_BYTES,
      maxAttempts: this.#options.maxAttempts ?? 4,
      retryMinTimeoutMs: this.#options.retryMinTimeoutMs ?? 250,
      retryMaxTimeoutMs: this.#options.retryMaxTimeoutMs ?? 5000,
    };
  }

  #ensureSession(signal: AbortSignal): HttpSession {
    signal.throwIfAborted();
    return this.#session ??= new HttpSession({
      name: "VisionDataClient",
      headersTimeoutMs: this.#options.headersTimeoutMs ?? 30_000,
      idleTimeoutMs: this.#options.idleTimeoutMs ?? 30_000,
      client: () => this.#ensureHttpClient(),
    });
  }

  #ensureHttpClient(): Deno.HttpClient | undefined {
    // Past the abort phase nothing new is created: the release steps may have run already.
    if (this.#owner.signal.aborted) return undefined;
    return this.#httpClient ??= (this.#options.createHttpClient ??
      (() => Deno.createHttpClient({})))();
  }

  #ensurePool(signal: AbortSignal): ParsePool {
    signal.throwIfAborted();
    const workers = this.#options.parseWorkers;
    return this.#pool ??= new ParsePool(workers === undefined ? {} : { workers });
  }

  #ensureTempDir(): string {
    if (!sweptStaleTempDirs) {
      // Directories of crashed processes (§4.5); once per process, best effort.
      sweptStaleTempDirs = true;
      try {
        sweepStaleTempDirs();
      } catch (err) {
        logger.debug("Stale temp dir sweep failed: {err}", { err });
      }
    }
    return this.#tempDir = this.#owner.tempDir();
  }

  async #closeSession(): Promise<void> {
    const session = this.#session;
    // Keep its count: stats outlive the session.
    this.#stats.requests += session?.requests ?? 0;
    this.#session = undefined;
    await session?.close();
  }

  async #closePool(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.[Symbol.asyncDispose]();
  }

  #closeHttpClient(): void {
    const client = this.#httpClient;
    this.#httpClient = undefined;
    this.#tempDir = undefined; // removed by the owner right after this step
    client?.[Symbol.dispose]();
  }

  /**
   * Disposes within `disposeTimeoutMs` (see the class docs). Every call returns the same
   * promise; it resolves once everything is released (failures in `lastDisposeReport`), or
   * rejects with `DisposeError` when created with `strictDispose: true`.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#owner[Symbol.asyncDispose]();
  }

  /** Same as `[Symbol.asyncDispose]()`. */
  disposeAsync(): Promise<void> {
    return this.#owner.disposeAsync();
  }
}
