/**
 * `RestDataClient`: klines from the Binance REST API, paged in parallel, paced under the
 * request-weight budget before the server has to refuse, with the same deadline-bounded
 * disposal as the Vision client.
 *
 * @module
 */
import { abortable, delay } from "@std/async";
import { getLogger } from "@logtape/logtape";
import {
  InvalidSymbolError,
  IpBannedError,
  MalformedResponseError,
  RateLimitError,
} from "../errors.ts";
import { cancelBody, fetchResponse, readBody, retryTransient } from "../http/mod.ts";
import { BodyTooLargeError, LimitExceededError } from "../limit_errors.ts";
import { LIMITS } from "../limits.ts";
import { type KlineColumns, Klines, type KlinesMeta } from "../klines.ts";
import {
  assertIntervalSupported,
  type Interval,
  marketCapabilities,
  type MarketType,
  normalizeSymbol,
} from "../market.ts";
import { ResourceOwner } from "../resource/owner.ts";
import { INT_AT_LEAST_1, numberOption } from "../_options.ts";
import { type ClientStats, emptyStats, type ProgressEvent } from "../client_stats.ts";
import type { DisposeReport } from "../resource/dispose_error.ts";
import type { Lifecycle, LifecycleOptions, LifecycleState } from "../resource/lifecycle.ts";
import { resolveRange, type TimeInput, type TimeRange } from "../time.ts";
import { decodeKlineBody } from "./_decode.ts";
import { checkKlineRows } from "../_row_check.ts";
import { type RestErrorContext, restErrorFor } from "./_errors.ts";
import { type PageWindow, planPages } from "./_pagination.ts";
import { runWorkerLoop } from "../_worker_loop.ts";
import { assertDataType } from "../data_types.ts";
import type { FundingRates } from "../funding/funding_rates.ts";
import type { FetchFundingOptions } from "../funding/options.ts";
import { fetchFundingRest } from "../funding/_rest.ts";
import type { AggTradeColumns } from "../agg_trades/columns.ts";
import {
  collectAggTrades,
  type FetchAggTradesOptions,
  type StreamAggTradesOptions,
} from "../agg_trades/options.ts";
import { streamAggTradesRest } from "../agg_trades/_rest.ts";
import {
  assertKlineKind,
  type KlineKind,
  klineKindRestParam,
  klineKindRestPath,
  klineKindSymbol,
} from "../kline_kind.ts";
import { clientStream, type KlinesStream, type StreamOptions } from "../stream.ts";
import { WeightBudget } from "./_weight_budget.ts";
import { closeSymbolMatches, type ExchangeInfo, parseExchangeInfo } from "./exchange_info.ts";

const log = getLogger(["vision-data", "rest"]);

/** Index of `"rest"` in `SOURCE_CODES`. */
const REST_SOURCE = 2;

/** Request weight of `exchangeInfo` (spot: 20; futures: 1). */
const EXCHANGE_INFO_WEIGHT: Record<MarketType, number> = { spot: 20, um: 1, cm: 1 };

/** The header Binance reports the used request weight in. */
const USED_WEIGHT_HEADER = "x-mbx-used-weight-1m";

/** Options for {@linkcode RestDataClient}. */
export interface RestDataClientOptions extends LifecycleOptions {
  /** The market: `"spot"`, `"um"` (USDⓈ-M) or `"cm"` (COIN-M). */
  marketType: MarketType;
  /** REST base URL. @default {marketCapabilities(marketType).restBaseUrl} */
  baseUrl?: string;
  /** Pages fetched at once. @default {4} */
  concurrency?: number;
  /** The server's request-weight limit per window. @default {6000 spot, 2400 futures} */
  weightBudgetPerMinute?: number;
  /** Length of the server's weight window, ms (Binance: one minute). @default {60000} */
  weightWindowMs?: number;
  /** Share of the budget this client allows itself. @default {0.9} */
  weightSafety?: number;
  /** Pace requests under the weight budget. @default {true} */
  pacing?: boolean;
  /** Attempts per request for transient failures (5xx, resets, stalls). @default {4} */
  maxAttempts?: number;
  /** First retry backoff, ms (exponential, jittered). @default {500} */
  retryMinTimeoutMs?: number;
  /** Longest retry backoff, ms. @default {10000} */
  retryMaxTimeoutMs?: number;
  /** 429 answers waited out per request before giving up with `RateLimitError`. @default {5} */
  maxRateLimitWaits?: number;
  /**
   * Largest klines page body accepted, bytes: a larger declared `Content-Length` is refused
   * unread, a longer body is cut at the bound (`BodyTooLargeError`). A 1500-row page is
   * ~0.3 MB. (`exchangeInfo` may be up to `LIMITS.maxExchangeInfoBytes`.)
   * @default {LIMITS.maxPageBytes (4 MiB)}
   */
  maxPageBytes?: number;
  /**
   * Longest 429 `Retry-After` waited out, ms: a longer one fails the call at once with
   * `LimitExceededError` (naming the wait); shorter ones are waited and logged at warning.
   * @default {LIMITS.maxRateLimitWaitMs (120000)}
   */
  maxRateLimitWaitMs?: number;
  /** No response headers within this → retriable timeout, ms. @default {10000} */
  headersTimeoutMs?: number;
  /** No body bytes within this → retriable timeout, ms. @default {10000} */
  idleTimeoutMs?: number;
  /** Check symbols against `exchangeInfo` before fetching klines. @default {false} */
  validateSymbols?: boolean;
  /** The clock for ranges and the open candle. @default {Date.now} */
  now?: () => number;
}

/** Options for {@linkcode RestDataClient.fetchKlines}. */
export interface RestFetchKlinesOptions {
  /** The symbol (case-insensitive), e.g. `BTCUSDT` or `BTCUSD_PERP`. */
  symbol: string;
  /** The kline interval. */
  interval: Interval;
  /** Inclusive start (on open time); before the market's first data it is clamped to it. Exclusive with `days`. */
  start?: TimeInput;
  /** Exclusive end (on open time); clamped to now. @default {"now"} */
  end?: TimeInput;
  /** Days back from `end` (or now) instead of `start`; giving both is an `InvalidRangeError`. */
  days?: number;
  /** Aborts this call only. */
  signal?: AbortSignal;
  /** Called after each page. */
  onProgress?: (progress: ProgressEvent) => void;
  /**
   * Keep the still-open candle (close time ≥ now) as the last row and flag it with
   * `lastIsOpen`. Such a result must never be cached. @default {false}
   */
  includeOpenCandle?: boolean;
  /** Which klines: `trades` (default), or on um/cm `mark`, `index` (asked by pair), `premium`. */
  kind?: KlineKind;
}

/** Counters of a {@linkcode RestDataClient}: the shared {@linkcode ClientStats}. */
export type RestClientStats = ClientStats;

/**
 * Klines from the Binance REST API (spot, USDⓈ-M, COIN-M), with the same half-open
 * `[start, end)` semantics and {@linkcode Klines} result as the Vision client.
 *
 * - Pages are planned up front and fetched in parallel (`concurrency`), never overlapping.
 * - Requests are paced under the request-weight budget; 429 waits `Retry-After`; 418 stops
 *   the client (every call rejects with {@linkcode IpBannedError} until the ban ends).
 * - Transient failures are retried with backoff and jitter; API errors become typed errors.
 * - `await using` disposal is deadline-bounded and leaves nothing open.
 *
 * @example
 * ```ts ignore
 * import { RestDataClient } from "@vision-data/client";
 * await using rest = new RestDataClient({ marketType: "spot" });
 * const k = await rest.fetchKlines({
 *   symbol: "BTCUSDT", interval: "1m", start: "2024-01-01", end: "2024-01-02",
 * });
 * console.log(k.length, k.gaps);
 * ```
 */
export class RestDataClient implements Lifecycle {
  /** The market. */
  readonly marketType: MarketType;
  /** The REST base URL (no trailing slash). */
  readonly baseUrl: string;
  readonly #owner: ResourceOwner;
  readonly #budget?: WeightBudget;
  readonly #concurrency: number;
  readonly #maxAttempts: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #maxRateLimitWaits: number;
  readonly #headersTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #validateSymbols: boolean;
  readonly #maxPageBytes: number;
  readonly #maxRateLimitWaitMs: number;
  readonly #now: () => number;
  #http?: Deno.HttpClient;
  #info?: Promise<ExchangeInfo>;
  /** Wall-clock epoch ms until which Binance banned us (418). */
  #bannedUntil = 0;
  /** `performance.now()` before which no request is sent (a 429's `Retry-After`). */
  #holdUntil = 0;
  readonly #stats: ClientStats = emptyStats();

  /**
   * Creates a RestDataClient.
   *
   * @param options market, endpoints, pacing, retries, disposal budget
   */
  constructor(options: RestDataClientOptions) {
    const caps = marketCapabilities(options.marketType);
    this.marketType = caps.market;
    this.baseUrl = (options.baseUrl ?? caps.restBaseUrl).replace(/\/+$/, "");
    this.#owner = new ResourceOwner({
      name: "RestDataClient",
      disposeTimeoutMs: options.disposeTimeoutMs,
      graceMs: options.graceMs,
      signal: options.signal,
      strictDispose: options.strictDispose,
    });
    if (options.pacing !== false) {
      this.#budget = new WeightBudget({
        limit: options.weightBudgetPerMinute ?? caps.restWeightPerMinute,
        windowMs: options.weightWindowMs,
        safety: options.weightSafety,
      });
    }
    this.#concurrency = numberOption("concurrency", options.concurrency, 4, INT_AT_LEAST_1);
    this.#maxAttempts = numberOption("maxAttempts", options.maxAttempts, 4, INT_AT_LEAST_1);
    this.#retryMinMs = numberOption("retryMinTimeoutMs", options.retryMinTimeoutMs, 500, {
      min: 0,
    });
    this.#retryMaxMs = numberOption(
      "retryMaxTimeoutMs",
      options.retryMaxTimeoutMs,
      Math.max(10_000, this.#retryMinMs),
      { min: this.#retryMinMs },
    );
    this.#maxRateLimitWaits = numberOption("maxRateLimitWaits", options.maxRateLimitWaits, 5, {
      min: 0,
      integer: true,
    });
    this.#headersTimeoutMs = numberOption("headersTimeoutMs", options.headersTimeoutMs, 10_000, {
      min: 0,
    });
    this.#idleTimeoutMs = numberOption("idleTimeoutMs", options.idleTimeoutMs, 10_000, { min: 0 });
    this.#validateSymbols = options.validateSymbols ?? false;
    this.#maxPageBytes = numberOption("maxPageBytes", options.maxPageBytes, LIMITS.maxPageBytes, {
      min: 1024,
      integer: true,
    });
    this.#maxRateLimitWaitMs = numberOption(
      "maxRateLimitWaitMs",
      options.maxRateLimitWaitMs,
      LIMITS.maxRateLimitWaitMs,
      { min: 0, max: LIMITS.maxRetryAfterMs, integer: true },
    );
    this.#now = options.now ?? Date.now;
  }

  /** `"open"`, `"closing"` or `"closed"`. */
  get state(): LifecycleState {
    return this.#owner.state;
  }

  /** What the last dispose did (steps, `timedOut`, errors, elapsed); `undefined` before. */
  get lastDisposeReport(): DisposeReport | undefined {
    return this.#owner.lastDisposeReport;
  }

  /** Counters: requests, pages, 429s, time held back by the weight budget. */
  get stats(): ClientStats {
    const b = this.#budget?.stats;
    return {
      ...this.#stats,
      weightWaitMs: b?.waitMs ?? 0,
      weightWaits: b?.waits ?? 0,
      cache: { ...this.#stats.cache },
    };
  }

  /**
   * Klines whose open time lies in `[start, end)`, sorted, de-duplicated, with the
   * missing spans in `gaps`. The open candle is left out unless `includeOpenCandle`.
   *
   * Rejects with {@linkcode InvalidSymbolError}, `UnsupportedIntervalError` or
   * `InvalidRangeError` before any request; `BinanceApiError` / `HttpStatusError` for
   * answers that retries cannot fix; {@linkcode IpBannedError} on a ban;
   * {@linkcode ClientClosedError} once disposal started.
   */
  async fetchKlines(options: RestFetchKlinesOptions): Promise<Klines> {
    this.#owner.assertOpen();
    this.#throwIfBanned();
    const symbol = normalizeSymbol(options.symbol, this.marketType);
    assertIntervalSupported(this.marketType, options.interval, "rest");
    assertKlineKind(this.marketType, options.kind);
    const now = this.#now();
    const range = resolveRange(options, { now, market: this.marketType });
    return await this.#owner.run(
      (signal) => this.#fetchKlines(symbol, options, range, now, signal),
      { signal: options.signal, name: `fetchKlines ${symbol} ${options.interval}` },
    );
  }

  /**
   * The same rows as {@linkcode RestDataClient.fetchKlines}, as a stream of chunks in time
   * order — one per UTC month (per UTC day for `1s`) — with at most `ahead` chunks fetched
   * ahead of the loop body (see {@linkcode KlinesStream}); only the last chunk may end with
   * the open candle. Validation errors are thrown by this call.
   *
   * @example
   * ```ts ignore
   * for await (const chunk of rest.stream({ symbol: "BTCUSDT", interval: "1h", start: "2024-01-01", end: "2024-04-01" })) {
   *   console.log(chunk.length);
   * }
   * ```
   */
  stream(options: RestFetchKlinesOptions & StreamOptions): KlinesStream {
    this.#owner.assertOpen();
    this.#throwIfBanned();
    const client = {
      marketType: this.marketType,
      source: "rest" as const,
      now: this.#now(),
      assertOpen: () => this.#owner.assertOpen(),
    };
    return clientStream(client, options, (o) => this.fetchKlines(o));
  }

  /**
   * The market's `exchangeInfo`, fetched once per client (concurrent callers share the
   * request; a failed fetch is retried by the next call).
   */
  async exchangeInfo(options: { signal?: AbortSignal } = {}): Promise<ExchangeInfo> {
    this.#owner.assertOpen();
    this.#throwIfBanned();
    if (!this.#info) {
      const path = marketCapabilities(this.marketType).restExchangeInfoPath;
      const url = this.baseUrl + path;
      const ctx: RestErrorContext = { url, market: this.marketType };
      const p = this.#owner.run(async (signal) =>
        parseExchangeInfo(
          parseJson(
            await this.#request(url, EXCHANGE_INFO_WEIGHT[this.marketType], ctx, signal, {
              maxBytes: Math.max(this.#maxPageBytes, LIMITS.maxExchangeInfoBytes),
              option: "LIMITS.maxExchangeInfoBytes",
            }),
            url,
          ),
          url,
        ), { name: "exchangeInfo request" });
      this.#info = p;
      p.catch(() => {
        if (this.#info === p) this.#info = undefined;
      });
    }
    const shared = this.#info;
    return await this.#owner.run((signal) => abortable(shared, signal), {
      signal: options.signal,
      name: "exchangeInfo",
    });
  }

  /**
   * Funding-rate history of a um/cm contract (`/fapi/v1/fundingRate`, `/dapi/v1/fundingRate`),
   * paged forward by `startTime` (1000 rows a page). `intervalHours` is derived from the
   * spacing of the rows (NaN for the first). Spot rejects with `UnsupportedDataError`.
   *
   * @example
   * ```ts ignore
   * await using rest = new RestDataClient({ marketType: "um" });
   * const f = await rest.fetchFundingRates({ symbol: "BTCUSDT", start: Date.now() - 7 * 86400000, end: Date.now() });
   * ```
   */
  async fetchFundingRates(options: FetchFundingOptions): Promise<FundingRates> {
    this.#owner.assertOpen();
    this.#throwIfBanned();
    assertDataType(this.marketType, "funding");
    const symbol = normalizeSymbol(options.symbol, this.marketType);
    const range = resolveRange(options, { now: this.#now(), market: this.marketType });
    return await this.#owner.run(async (signal) => {
      if (this.#validateSymbols) await this.#assertListed(symbol, signal);
      return await fetchFundingRest(
        {
          baseUrl: this.baseUrl,
          market: this.marketType,
          request: (url, weight, sig) =>
            this.#requestPatiently(url, weight, { url, market: this.marketType, symbol }, sig),
        },
        symbol,
        range,
        signal,
      );
    }, { signal: options.signal, name: `fetchFundingRates ${symbol}` });
  }

  /**
   * Aggregate trades of `[start, end)` (on transaction time), page by page (≤ 1000 rows):
   * one-hour `startTime`/`endTime` windows until a page is full, then `fromId`. For the
   * recent edge; history is cheaper from the archive (`VisionDataClient#streamAggTrades`).
   *
   * @example
   * ```ts ignore
   * await using rest = new RestDataClient({ marketType: "spot" });
   * for await (const c of rest.streamAggTrades({ symbol: "BTCUSDT", start: Date.now() - 60_000, end: Date.now() })) {
   *   console.log(c.price.length);
   * }
   * ```
   */
  async *streamAggTrades(options: StreamAggTradesOptions): AsyncGenerator<AggTradeColumns> {
    this.#owner.assertOpen();
    this.#throwIfBanned();
    const symbol = normalizeSymbol(options.symbol, this.marketType);
    const range = resolveRange(options, { now: this.#now(), market: this.marketType });
    const name = `streamAggTrades ${symbol}`;
    yield* streamAggTradesRest(
      {
        baseUrl: this.baseUrl,
        market: this.marketType,
        request: (url, weight) =>
          this.#owner.run(
            (signal) =>
              this.#requestPatiently(url, weight, { url, market: this.marketType, symbol }, signal),
            { signal: options.signal, name },
          ),
      },
      symbol,
      range,
    );
  }

  /** {@linkcode streamAggTrades} collected, up to `maxRows` (else `AggTradesTooLargeError`). */
  fetchAggTrades(options: FetchAggTradesOptions): Promise<AggTradeColumns> {
    return collectAggTrades(this.streamAggTrades(options), options.maxRows);
  }

  /**
   * Disposes within the budget: grace, abort, release the HTTP client (see disposal
   * semantics). Resolves once released (failures in `lastDisposeReport`), or rejects with
   * `DisposeError` when created with `strictDispose: true`. Every call returns the same promise.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#owner[Symbol.asyncDispose]();
  }

  /** Same as `[Symbol.asyncDispose]()`. */
  disposeAsync(): Promise<void> {
    return this.#owner.disposeAsync();
  }

  async #fetchKlines(
    symbol: string,
    options: RestFetchKlinesOptions,
    range: TimeRange,
    now: number,
    signal: AbortSignal,
  ): Promise<Klines> {
    const { interval } = options;
    const meta: KlinesMeta = { symbol, interval, marketType: this.marketType };
    if (this.#validateSymbols) await this.#assertListed(symbol, signal);
    const pages = planPages(range, { market: this.marketType, interval });
    const parts: Klines[] = new Array(pages.length);
    const progress: ProgressEvent = { source: "rest", done: 0, total: pages.length, bytes: 0 };
    log.debug("{symbol} {interval}: {pages} pages for {start}..{end}", {
      symbol,
      interval,
      pages: pages.length,
      start: range.start,
      end: range.end,
    });
    await runWorkerLoop(pages, {
      concurrency: this.#concurrency,
      signal,
      handle: async (page, sig) => {
        const columns = await this.#fetchPage(symbol, interval, page, sig, progress, options.kind);
        const sources = new Uint8Array(columns.openTime.length).fill(REST_SOURCE);
        parts[page.index] = new Klines({ ...meta, columns, sources });
        this.#stats.pages++;
        progress.done++;
        options.onProgress?.({ ...progress });
      },
    });
    const all = Klines.merge(parts.filter(Boolean), meta).between(range.start, range.end);
    // The open candle (close time ≥ now) is unfinished: its values still change.
    let n = all.length;
    while (n > 0 && all.closeTime[n - 1] >= now) n--;
    const open = all.length - n;
    if (open > 0 && options.includeOpenCandle) {
      const merged = Klines.merge([all.slice(0, n + 1)], meta, range);
      return new Klines({
        ...meta,
        columns: merged.columns,
        sources: merged.sources,
        gaps: [...merged.gaps],
        lastIsOpen: true,
      });
    }
    // Without it, the span it covers is not a gap: nothing closed is missing there.
    const end = open > 0 ? Math.min(range.end, all.openTime[n]) : range.end;
    return Klines.merge([all.slice(0, n)], meta, { start: range.start, end });
  }

  /** One page, retried on transient failures; 429s are waited out (up to a cap). */
  async #fetchPage(
    symbol: string,
    interval: Interval,
    page: PageWindow,
    signal: AbortSignal,
    progress: ProgressEvent,
    kind: KlineKind = "trades",
  ): Promise<KlineColumns> {
    const q = new URLSearchParams({
      [klineKindRestParam(kind)]: klineKindSymbol(kind, symbol),
      interval,
      startTime: String(page.start),
      endTime: String(page.end - 1),
      limit: String(page.limit),
    });
    const url = `${this.baseUrl}${klineKindRestPath(this.marketType, kind)}?${q}`;
    const ctx: RestErrorContext = { url, market: this.marketType, symbol, interval };
    const body = await this.#requestPatiently(url, page.weight, ctx, signal);
    progress.bytes += body.length;
    const columns = decodeKlineBody(body, url, page.limit);
    checkKlineRows(columns, interval, `page ${url}`, 0, kind);
    return columns;
  }

  /** {@linkcode #request}, with 429s waited out (up to `maxRateLimitWaits`). */
  async #requestPatiently(
    url: string,
    weight: number,
    ctx: RestErrorContext,
    signal: AbortSignal,
  ): Promise<Uint8Array> {
    for (let waits = 0;; waits++) {
      try {
        const body = await this.#request(url, weight, ctx, signal, {
          maxBytes: this.#maxPageBytes,
          option: "maxPageBytes",
        });
        this.#stats.bytes += body.length;
        return body;
      } catch (err) {
        if (!(err instanceof RateLimitError) || waits >= this.#maxRateLimitWaits) throw err;
        if (err.retryAfterMs > this.#maxRateLimitWaitMs) {
          throw new LimitExceededError(
            `429 Retry-After of ${url}`,
            err.retryAfterMs,
            this.#maxRateLimitWaitMs,
            "maxRateLimitWaitMs",
            "ms",
          );
        }
        // The gate set in #request holds every worker; this loop just tries again after it.
        log.warn("429 on {url}: waiting {ms} ms (Retry-After)", { url, ms: err.retryAfterMs });
      }
    }
  }

  /**
   * One GET → the 2xx body's bytes, with transient retries. Each attempt passes the ban check,
   * the `Retry-After` gate and the weight budget before it is sent.
   */
  #request(
    url: string,
    weight: number,
    ctx: RestErrorContext,
    signal: AbortSignal,
    bound: BodyBound,
  ): Promise<Uint8Array> {
    return retryTransient(() => this.#attempt(url, weight, ctx, signal, bound), {
      signal,
      maxAttempts: this.#maxAttempts,
      minTimeoutMs: this.#retryMinMs,
      maxTimeoutMs: this.#retryMaxMs,
    });
  }

  async #attempt(
    url: string,
    weight: number,
    ctx: RestErrorContext,
    signal: AbortSignal,
    bound: BodyBound,
  ): Promise<Uint8Array> {
    this.#throwIfBanned();
    await this.#waitForGate(signal);
    const settle = this.#budget ? await this.#budget.reserve(weight, signal) : undefined;
    this.#throwIfBanned(); // a sibling may have been banned while we waited
    this.#stats.requests++;
    let res: Response;
    try {
      res = await fetchResponse(url, {
        signal,
        headersTimeoutMs: this.#headersTimeoutMs,
        client: this.#client(),
        acceptStatus: () => true, // error bodies carry Binance's {code, msg}
      });
    } finally {
      settle?.();
    }
    const usedText = res.headers.get(USED_WEIGHT_HEADER)?.trim();
    const used = Number(usedText);
    // Acted on (it paces us): only a plain count within reach of the budget.
    if (usedText !== undefined && /^\d{1,9}$/.test(usedText)) {
      this.#stats.lastUsedWeight = used;
      this.#budget?.observe(used);
    }
    const body = await this.#readBytes(res, url, signal, bound);
    if (res.status >= 200 && res.status < 300) return body;
    const text = new TextDecoder().decode(body);
    const err = restErrorFor(res.status, text, res.headers, ctx, Date.now());
    if (err instanceof IpBannedError) {
      this.#bannedUntil = Math.max(this.#bannedUntil, err.until.getTime());
      log.error("418 from {url}: IP banned until {until}; this client sends nothing more", {
        url,
        until: err.until.toISOString(),
      });
    } else if (err instanceof RateLimitError) {
      this.#stats.rateLimited++;
      this.#holdUntil = Math.max(this.#holdUntil, performance.now() + err.retryAfterMs);
    }
    throw err;
  }

  async #readBytes(
    res: Response,
    url: string,
    signal: AbortSignal,
    bound: BodyBound,
  ): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    const { maxBytes: max, option } = bound;
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > max) {
      await cancelBody(res);
      throw new BodyTooLargeError(url, declared, max, option);
    }
    let size = 0;
    await readBody(res, {
      signal,
      idleTimeoutMs: this.#idleTimeoutMs,
      url,
      onChunk: (c) => {
        size += c.length;
        if (size > max) throw new BodyTooLargeError(url, size, max, option);
        chunks.push(c);
      },
    });
    if (chunks.length === 1) return chunks[0];
    const all = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  }

  /** Waits (abortably) until the last 429's `Retry-After` has passed. */
  async #waitForGate(signal: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.#holdUntil - performance.now();
      if (wait <= 0) return;
      const t0 = performance.now();
      try {
        await delay(wait, { signal });
      } finally {
        this.#stats.rateLimitWaitMs += performance.now() - t0;
      }
    }
  }

  #throwIfBanned(): void {
    if (Date.now() < this.#bannedUntil) throw new IpBannedError(new Date(this.#bannedUntil));
  }

  /** The HTTP client, created on first use and released by dispose. */
  #client(): Deno.HttpClient {
    if (!this.#http) {
      // adopt() still accepts during grace (in-flight work may finish) and refuses later.
      this.#http = this.#owner.adopt("http client", Deno.createHttpClient({}));
    }
    return this.#http;
  }

  async #assertListed(symbol: string, signal: AbortSignal): Promise<void> {
    const info = await abortable(this.exchangeInfo({ signal }), signal);
    const names = info.symbols.map((s) => s.symbol);
    if (names.includes(symbol)) return;
    const near = closeSymbolMatches(symbol, names);
    throw new InvalidSymbolError(
      symbol,
      `not listed on Binance ${this.marketType} (exchangeInfo)` +
        (near.length ? `; did you mean ${near.join(", ")}?` : ""),
    );
  }
}

/** The most bytes a response body may have, and the option that sets it (for errors). */
interface BodyBound {
  maxBytes: number;
  option: string;
}

function parseJson(bytes: Uint8Array, url: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new MalformedResponseError(url, "body is not JSON", { cause });
  }
}
