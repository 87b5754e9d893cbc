/**
 * `RestDataClient`: klines from the Binance REST API, paged in parallel, paced under the
 * request-weight budget before the server has to refuse, with the same deadline-bounded
 * disposal as the Vision client.
 *
 * @module
 */
import { delay } from "@std/async";
import { getLogger } from "@logtape/logtape";
import {
  InvalidSymbolError,
  IpBannedError,
  MalformedResponseError,
  RateLimitError,
} from "../errors.ts";
import { fetchResponse, readBody, retryTransient } from "../http/mod.ts";
import { type KlineColumns, Klines, type KlinesMeta } from "../klines.ts";
import {
  assertIntervalSupported,
  type Interval,
  marketCapabilities,
  type MarketType,
  normalizeSymbol,
} from "../market.ts";
import { ResourceOwner } from "../resource/owner.ts";
import { resolveRange, type TimeInput, type TimeRange } from "../time.ts";
import { decodeKlineBody } from "./_decode.ts";
import { type RestErrorContext, restErrorFor } from "./_errors.ts";
import { type PageWindow, planPages } from "./_pagination.ts";
import { runWorkerLoop } from "../_worker_loop.ts";
import { KlinesStream, type StreamOptions, streamSpans } from "../stream.ts";
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
export interface RestDataClientOptions {
  /** The market: `"spot"`, `"um"` (USDⓈ-M) or `"cm"` (COIN-M). */
  marketType: MarketType;
  /** REST base URL. @default {marketCapabilities(marketType).restBaseUrl} */
  baseUrl?: string;
  /** Hard budget for `[Symbol.asyncDispose]()`, ms. @default {5000} */
  disposeTimeoutMs?: number;
  /** How long dispose lets in-flight requests finish before aborting them, ms. */
  graceMs?: number;
  /** Lifetime signal: aborting it aborts in-flight work (it does not dispose). */
  signal?: AbortSignal;
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
  /** Inclusive start (on open time). */
  start: TimeInput;
  /** Exclusive end (on open time); clamped to now. */
  end: TimeInput;
  /** Aborts this call only. */
  signal?: AbortSignal;
  /** Called after each page. */
  onProgress?: (p: { done: number; total: number }) => void;
  /**
   * Keep the still-open candle (close time ≥ now) as the last row and flag it with
   * `lastIsOpen`. Such a result must never be cached. @default {false}
   */
  includeOpenCandle?: boolean;
}

/** Counters of a {@linkcode RestDataClient}, for benches and logs. */
export interface RestClientStats {
  /** HTTP requests sent (retries included). */
  requests: number;
  /** Klines pages completed. */
  pages: number;
  /** 429 answers received. */
  rateLimited: number;
  /** Wall-clock ms requests were held back by the weight budget. */
  weightWaitMs: number;
  /** Times the weight budget made the next request wait. */
  weightWaits: number;
  /** Wall-clock ms spent waiting out `Retry-After` of 429s. */
  rateLimitWaitMs: number;
  /** The last `X-MBX-USED-WEIGHT-1M` seen. */
  lastUsedWeight: number;
}

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
export class RestDataClient implements AsyncDisposable {
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
  readonly #now: () => number;
  #http?: Deno.HttpClient;
  #info?: Promise<ExchangeInfo>;
  /** Wall-clock epoch ms until which Binance banned us (418). */
  #bannedUntil = 0;
  /** `performance.now()` before which no request is sent (a 429's `Retry-After`). */
  #holdUntil = 0;
  readonly #stats = {
    requests: 0,
    pages: 0,
    rateLimited: 0,
    rateLimitWaitMs: 0,
    lastUsedWeight: 0,
  };

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
    });
    if (options.pacing !== false) {
      this.#budget = new WeightBudget({
        limit: options.weightBudgetPerMinute ?? caps.restWeightPerMinute,
        windowMs: options.weightWindowMs,
        safety: options.weightSafety,
      });
    }
    this.#concurrency = positive("concurrency", options.concurrency ?? 4);
    this.#maxAttempts = positive("maxAttempts", options.maxAttempts ?? 4);
    this.#retryMinMs = options.retryMinTimeoutMs ?? 500;
    this.#retryMaxMs = Math.max(this.#retryMinMs, options.retryMaxTimeoutMs ?? 10_000);
    this.#maxRateLimitWaits = Math.max(0, options.maxRateLimitWaits ?? 5);
    this.#headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    this.#validateSymbols = options.validateSymbols ?? false;
    this.#now = options.now ?? Date.now;
  }

  /** `"open"`, `"closing"` or `"closed"`. */
  get state(): "open" | "closing" | "closed" {
    return this.#owner.state;
  }

  /** Counters: requests, pages, 429s, time held back by the weight budget. */
  get stats(): RestClientStats {
    const b = this.#budget?.stats;
    return { ...this.#stats, weightWaitMs: b?.waitMs ?? 0, weightWaits: b?.waits ?? 0 };
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
    const symbol = normalizeSymbol(options.symbol);
    assertIntervalSupported(this.marketType, options.interval, "rest");
    const now = this.#now();
    const range = resolveRange(options, { now });
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
    const symbol = normalizeSymbol(options.symbol);
    assertIntervalSupported(this.marketType, options.interval, "rest");
    const range = resolveRange(options, { now: this.#now() });
    const spans = streamSpans(range, options.interval);
    return new KlinesStream({
      meta: { symbol, interval: options.interval, marketType: this.marketType },
      spans,
      options,
      assertOpen: () => this.#owner.assertOpen(),
      fetch: (span, i, left) =>
        this.fetchKlines({
          ...options,
          start: span.start,
          end: span.end,
          includeOpenCandle: (options.includeOpenCandle ?? false) && i === spans.length - 1,
          signal: options.signal ? AbortSignal.any([left, options.signal]) : left,
        }),
    });
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
            await this.#request(url, EXCHANGE_INFO_WEIGHT[this.marketType], ctx, signal),
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
    return await this.#owner.run((signal) => raceAbort(shared, signal), {
      signal: options.signal,
      name: "exchangeInfo",
    });
  }

  /** Disposes within the budget: grace, abort, release the HTTP client (see disposal semantics). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#owner[Symbol.asyncDispose]();
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
    let done = 0;
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
        const columns = await this.#fetchPage(symbol, interval, page, sig);
        const sources = new Uint8Array(columns.openTime.length).fill(REST_SOURCE);
        parts[page.index] = new Klines({ ...meta, columns, sources });
        this.#stats.pages++;
        options.onProgress?.({ done: ++done, total: pages.length });
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
  ): Promise<KlineColumns> {
    const caps = marketCapabilities(this.marketType);
    const q = new URLSearchParams({
      symbol,
      interval,
      startTime: String(page.start),
      endTime: String(page.end - 1),
      limit: String(page.limit),
    });
    const url = `${this.baseUrl}${caps.restKlinesPath}?${q}`;
    const ctx: RestErrorContext = { url, market: this.marketType, symbol, interval };
    for (let waits = 0;; waits++) {
      try {
        return decodeKlineBody(await this.#request(url, page.weight, ctx, signal), url, page.limit);
      } catch (err) {
        if (!(err instanceof RateLimitError) || waits >= this.#maxRateLimitWaits) throw err;
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
  ): Promise<Uint8Array> {
    return retryTransient(() => this.#attempt(url, weight, ctx, signal), {
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
    const used = Number(res.headers.get(USED_WEIGHT_HEADER));
    if (res.headers.has(USED_WEIGHT_HEADER) && Number.isFinite(used)) {
      this.#stats.lastUsedWeight = used;
      this.#budget?.observe(used);
    }
    const body = await this.#readBytes(res, url, signal);
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

  async #readBytes(res: Response, url: string, signal: AbortSignal): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    await readBody(res, {
      signal,
      idleTimeoutMs: this.#idleTimeoutMs,
      url,
      onChunk: (c) => {
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
    const info = await raceAbort(this.exchangeInfo({ signal }), signal);
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

function parseJson(bytes: Uint8Array, url: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (cause) {
    throw new MalformedResponseError(url, "body is not JSON", { cause });
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Invalid ${name} ${value}: expected an integer >= 1`);
  }
  return value;
}

/** `p`, or the signal's reason as soon as it aborts (p keeps running; its rejection is handled). */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
