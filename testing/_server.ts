/**
 * The replica server: real HTTP on 127.0.0.1 serving the Vision archive, the S3 listing and
 * the REST klines API from one deterministic dataset, with declarative fault injection, a
 * request log, and a disposal that is bounded even when clients misbehave.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { createZip } from "./_zip.ts";
import type { KlineColumns } from "../src/columns.ts";
import { intervalMs, type MarketType, parseInterval } from "../src/market.ts";
import { toEpochMs } from "../src/time.ts";
import {
  ArchiveCache,
  archivePath,
  type ArchiveRef,
  buildArchive,
  type BuiltArchive,
  etagFor,
  parseArchivePath,
  type Period,
  periodDataEnd,
  type PublicationLag,
  publishedAt,
} from "./_archive.ts";
import { Dataset, DEFAULT_SYMBOLS, type SymbolSpec } from "./_dataset.ts";
import { fundingArchive, fundingRows, type FundingTruth, handleFundingRate } from "./_funding.ts";
import { kindOfEndpoint, kindSpec } from "./_kinds.ts";
import { aggTradeRows, aggTradesArchive, handleAggTrades } from "./_agg_trades.ts";
import type { AggTradeColumns } from "../src/agg_trades/columns.ts";
import { ArchiveGenerator } from "./_generator.ts";
import { checkBandwidth, checkLatency, Pacer } from "./_pacing.ts";
import type {
  ArchiveQuery,
  FundingTruthQuery,
  NowInput,
  Replica,
  ReplicaOptions,
  RequestLogEntry,
  TruthQuery,
} from "./_types.ts";
import { type AppliedFaults, type FaultRule, FaultSet } from "./_faults.ts";
import { hostileKlinesBody } from "./_hostile.ts";
import { type BodyTracker, trackedBody } from "./_bodies.ts";
import { listingXml, listObjects } from "./_listing.ts";
import { type ExtraRestEndpoint, extraRestRoute, handleExtraRest } from "./_rest_extra.ts";
import {
  apiError,
  handleExchangeInfo,
  handleKlines,
  RateLimiter,
  type RestEndpoint,
  restRoute,
  restWeight,
  type RouteResult,
  weightHeaders,
} from "./_rest.ts";
import { LiveHub } from "./_ws.ts";

const encoder = new TextEncoder();
const MONTH_LAG = 3 * 86_400_000;

function toClock(now: NowInput | undefined): () => number {
  if (now === undefined) return () => Date.now();
  if (typeof now === "function") return now;
  const fixed = toEpochMs(now, "now");
  return () => fixed;
}

function noSuchKey(key: string, id: number, extra: Record<string, string> = {}): RouteResult {
  const rid = id.toString(16).toUpperCase().padStart(16, "0");
  return {
    status: 404,
    headers: { "content-type": "application/xml", ...extra },
    body: encoder.encode(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>` +
        `<Message>The specified key does not exist.</Message><Key>${key}</Key>` +
        `<RequestId>${rid}</RequestId><HostId>replica</HostId></Error>`,
    ),
  };
}

/** An archive found for a path. */
interface Found {
  built: BuiltArchive;
  zipName: string;
  checksum: boolean;
}

class ReplicaImpl implements Replica {
  readonly origin: string;
  readonly visionUrl: string;
  readonly restUrl: string;
  readonly listingUrl: string;
  readonly port: number;
  readonly live: LiveHub;
  readonly requests: RequestLogEntry[] = [];
  readonly #dataset: Dataset;
  readonly #cache: ArchiveCache;
  readonly #generator: ArchiveGenerator;
  readonly #lag: PublicationLag;
  readonly #faults: FaultSet;
  readonly #limiter: RateLimiter;
  readonly #options: ReplicaOptions;
  readonly #chunk: number;
  readonly #latencyMs: number;
  readonly #bandwidthMbps: number | undefined;
  readonly #disposeAbort = new AbortController();
  readonly #serveAbort = new AbortController();
  readonly #kills = new Set<() => void>();
  readonly #raw = new Map<string, BuiltArchive>();
  readonly #waiters = new Set<
    { test: (e: RequestLogEntry) => boolean; resolve: (e: RequestLogEntry) => void }
  >();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  #clock: () => number;
  #nextId = 1;
  #inFlight = 0;
  #disposePromise: Promise<void> | undefined;

  constructor(options: ReplicaOptions) {
    this.#options = options;
    this.#latencyMs = checkLatency(options.latencyMs);
    this.#bandwidthMbps = checkBandwidth(options.bandwidthMbps);
    const seed = options.seed ?? 1;
    this.#clock = toClock(options.now);
    this.#dataset = new Dataset(
      options.symbols ?? DEFAULT_SYMBOLS,
      seed,
      options.fixtures,
      options.csv,
    );
    this.#cache = new ArchiveCache(options.cacheBytes ?? 512 * 1024 * 1024);
    this.#generator = new ArchiveGenerator({
      dataset: this.#dataset,
      cache: this.#cache,
      zipLevel: options.zipLevel ?? 6,
      init: {
        symbols: options.symbols ?? DEFAULT_SYMBOLS,
        seed,
        fixtures: options.fixtures ?? [],
        csv: options.csv ?? {},
      },
    });
    this.#lag = {
      daily: options.publicationLagMs?.daily ?? 6 * 3_600_000,
      monthly: options.publicationLagMs?.monthly ?? MONTH_LAG,
    };
    this.#faults = new FaultSet(options.faults ?? [], seed);
    this.#limiter = new RateLimiter(options.weightLimitPerMinute ?? {}, options.rateLimit ?? {});
    this.#chunk = Math.max(1, options.chunkBytes ?? 65536);
    for (const a of options.rawArchives ?? []) this.setArchive(a.path, a);
    this.#server = Deno.serve({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      signal: this.#serveAbort.signal,
      onListen: () => {},
      // Body streams the replica cuts on purpose (reset, dispose) end up here: stay quiet.
      onError: () => new Response("Internal Server Error", { status: 500 }),
    }, (req) => this.#handle(req));
    this.port = this.#server.addr.port;
    const host = this.#server.addr.hostname;
    this.origin = `http://${host.includes(":") ? `[${host}]` : host}:${this.port}`;
    this.visionUrl = this.origin;
    this.restUrl = this.origin;
    this.listingUrl = `${this.origin}/data.binance.vision`;
    this.live = new LiveHub(this.origin, this.#dataset, this, options.live);
  }

  get closed(): boolean {
    return this.#disposePromise !== undefined;
  }

  get faults(): FaultRule[] {
    return this.#faults.rules;
  }

  now(): number {
    return this.#clock();
  }

  setNow(now: NowInput): void {
    this.#clock = toClock(now);
  }

  setFaults(rules: readonly FaultRule[]): void {
    this.#faults.set(rules);
  }

  openConnections(): number {
    return this.#inFlight;
  }

  clearLog(): void {
    this.requests.length = 0;
  }

  usedWeight(market: MarketType): number {
    return this.#limiter.used(market);
  }

  resetRateLimits(): void {
    this.#limiter.reset();
  }

  cacheStats(): { bytes: number; hits: number; misses: number; generating: number } {
    return {
      bytes: this.#cache.bytes,
      hits: this.#cache.hits,
      misses: this.#cache.misses,
      generating: this.#generator.generating,
    };
  }

  waitFor(
    predicate: (e: RequestLogEntry) => boolean,
    options: { signal?: AbortSignal } = {},
  ): Promise<RequestLogEntry> {
    const found = this.requests.find(predicate);
    if (found) return Promise.resolve(found);
    if (this.closed) return Promise.reject(new Error("Replica is closed"));
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      const waiter = {
        test: predicate,
        resolve: (e: RequestLogEntry) => {
          cleanup();
          resolve(e);
        },
      };
      const onAbort = () => {
        cleanup();
        reject(signal?.reason ?? this.#disposeAbort.signal.reason);
      };
      const cleanup = () => {
        this.#waiters.delete(waiter);
        signal?.removeEventListener("abort", onAbort);
        this.#disposeAbort.signal.removeEventListener("abort", onAbort);
      };
      if (signal?.aborted) return onAbort();
      this.#waiters.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#disposeAbort.signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  #notify(entry: RequestLogEntry): void {
    for (const w of [...this.#waiters]) if (w.test(entry)) w.resolve(entry);
  }

  // ---- truth accessors ----

  #spec(market: MarketType, symbol: string): SymbolSpec {
    const spec = this.#dataset.spec(market, symbol.toUpperCase());
    if (!spec) throw new RangeError(`The replica does not list ${symbol} on ${market}`);
    return spec;
  }

  klines(q: TruthQuery): KlineColumns {
    const spec = this.#spec(q.marketType, q.symbol);
    const interval = parseInterval(q.interval);
    // Without includeLive, rows() holds only candles closed by now.
    return this.#dataset.rows({
      spec,
      interval,
      start: toEpochMs(q.start, "start"),
      end: toEpochMs(q.end, "end"),
      now: this.now(),
      kind: q.kind,
    });
  }

  fundingRates(q: FundingTruthQuery): FundingTruth {
    const spec = this.#spec(q.marketType, q.symbol);
    const start = toEpochMs(q.start, "start");
    return fundingRows(this.#dataset, spec, start, toEpochMs(q.end, "end"), this.now());
  }

  aggTrades(q: FundingTruthQuery): AggTradeColumns {
    const spec = this.#spec(q.marketType, q.symbol);
    const start = toEpochMs(q.start, "start");
    return aggTradeRows(this.#dataset, spec, start, toEpochMs(q.end, "end"), this.now());
  }

  #resolveArchive(pathOrQuery: string | ArchiveQuery) {
    const path = typeof pathOrQuery === "string"
      ? pathOrQuery.replace(/^https?:\/\/[^/]+/, "").replace(/^\//, "")
      : archivePath(pathOrQuery);
    const ref = parseArchivePath(path);
    if (!ref) return null;
    const spec = kindSpec(this.#dataset, ref.market, ref.kind, ref.symbol);
    if (!spec) return null;
    const published = publishedAt(spec, ref.interval, ref.period, this.#lag);
    if (published === null || published > this.now()) return null;
    return { ref, spec, published };
  }

  /**
   * The archive behind a zip or CHECKSUM path: a raw one, else the dataset's if published.
   * Big archives come as a promise: they are generated off the request path.
   */
  #lookup(path: string): Found | null | Promise<Found | null> {
    const checksum = path.endsWith(".CHECKSUM");
    const key = checksum ? path.slice(0, -".CHECKSUM".length) : path;
    const zipName = key.slice(key.lastIndexOf("/") + 1);
    const raw = this.#raw.get(key);
    if (raw) return { built: raw, zipName, checksum };
    const level = this.#options.zipLevel ?? 6;
    const funding = fundingArchive(this.#dataset, this.#cache, key, this.now(), this.#lag, level);
    if (funding) return { built: funding, zipName, checksum };
    const agg = aggTradesArchive(this.#dataset, this.#cache, key, this.now(), this.#lag, level);
    if (agg) return { built: agg, zipName, checksum };
    const r = this.#resolveArchive(path);
    if (!r) return null;
    const found = (built: BuiltArchive | null) => built ? { built, zipName, checksum } : null;
    const built = this.#generator.build(r.ref, r.spec, r.published);
    return built instanceof Promise ? built.then(found) : found(built);
  }

  setArchive(path: string, content: { zip?: Uint8Array; csv?: Uint8Array } | null): void {
    const key = path.replace(/^https?:\/\/[^/]+/, "").replace(/^\//, "");
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
      etag: etagFor(key + "#raw", this.#dataset.seed),
      lastModified: Date.now(),
    });
  }

  archiveBytes(pathOrQuery: string | ArchiveQuery): Uint8Array | null {
    if (typeof pathOrQuery === "string") {
      const key = pathOrQuery.replace(/^https?:\/\/[^/]+/, "").replace(/^\//, "");
      const raw = this.#raw.get(key);
      if (raw) return raw.zip;
    }
    const r = this.#resolveArchive(pathOrQuery);
    if (!r) return null;
    const built = this.#build(r);
    return built ? built.zip : null;
  }

  #build(r: { ref: ArchiveRef; spec: SymbolSpec; published: number }): BuiltArchive | null {
    const level = this.#options.zipLevel ?? 6;
    return buildArchive(this.#dataset, this.#cache, r.ref, r.spec, r.published, level);
  }

  csvFor(q: ArchiveQuery): Uint8Array | null {
    const r = this.#resolveArchive(q);
    if (!r) return null;
    return this.#dataset.periodCsv(
      r.spec,
      r.ref.interval,
      r.ref.period.start,
      r.ref.period.end,
      periodDataEnd(r.ref.interval, r.ref.period),
    );
  }

  archiveUrl(q: ArchiveQuery): string {
    return `${this.visionUrl}/${archivePath(q)}`;
  }

  publishedAt(q: ArchiveQuery): number | null {
    const ref = parseArchivePath(archivePath(q));
    const spec = ref && this.#dataset.spec(ref.market, ref.symbol);
    if (!ref || !spec) return null;
    return publishedAt(spec, ref.interval, ref.period, this.#lag);
  }

  // ---- request handling ----

  #log(req: Request, url: URL): RequestLogEntry {
    const entry: RequestLogEntry = {
      id: this.#nextId++,
      method: req.method,
      path: url.pathname,
      query: url.search.slice(1),
      route: "other",
      status: 0,
      bytes: 0,
      durationMs: 0,
      aborted: false,
      state: "waiting",
      startedAt: Date.now(),
    };
    const max = this.#options.maxLogEntries ?? 100_000;
    if (this.requests.length >= max) this.requests.splice(0, this.requests.length - max + 1);
    this.requests.push(entry);
    return entry;
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const live = this.live.handle(req, url);
    if (live) return live;
    const entry = this.#log(req, url);
    // Classified before any fault delay, so a request held by `latency`/`stallHeaders` already
    // shows its route and market (tests wait on `route === "klines"`).
    this.#classify(entry, url);
    const t0 = performance.now();
    this.#inFlight++;
    let finished = false;
    const finish = (aborted = false) => {
      if (finished) return;
      finished = true;
      entry.aborted ||= aborted;
      entry.state = "done";
      entry.durationMs = performance.now() - t0;
      this.#inFlight--;
      this.#notify(entry);
    };
    this.#notify(entry);
    try {
      if (this.closed) {
        entry.status = 503;
        finish();
        return new Response("Replica is shutting down", { status: 503 });
      }
      const applied = this.#faults.pick(req.method, url.pathname);
      if (applied.kinds.length > 0) entry.fault = applied.kinds.join(",");
      const rule = applied.rule;
      const latencyMs = applied.latencyMs + this.#latencyMs;
      if (latencyMs > 0) entry.latencyMs = latencyMs;
      if (latencyMs > 0 || rule?.kind === "stallHeaders") {
        if (rule?.kind === "stallHeaders") {
          entry.state = "stalled";
          this.#notify(entry);
        }
        const ms = rule?.kind === "stallHeaders" ? Infinity : latencyMs;
        const outcome = await this.#wait(ms, req);
        if (outcome !== "ok") {
          finish(outcome === "client");
          return new Response(null, { status: 503 });
        }
        entry.state = "waiting";
      }
      let result: RouteResult;
      if (rule?.kind === "status") {
        result = this.#statusFault(entry, url, applied);
      } else if (rule?.kind === "endless") {
        return this.#endless(entry, rule, finish);
      } else {
        result = await this.#route(req, url, entry, applied);
      }
      let body = result.body;
      if (rule?.kind === "hostileRows" && entry.route === "klines" && result.status === 200) {
        body = hostileKlinesBody(body, rule.row ?? "overflow", rule.at ?? 0);
        if (result.headers["content-length"]) {
          result.headers["content-length"] = String(body.length);
        }
      }
      if (rule?.kind === "truncate") {
        body = body.subarray(0, Math.min(body.length, rule.bytes ?? Math.floor(body.length / 2)));
        result.headers["content-length"] = String(body.length);
      } else if (rule?.kind === "corrupt" && body.length > 0) {
        body = body.slice();
        body[body.length >> 1] ^= 0xff;
      }
      entry.status = result.status;
      if (req.method === "HEAD") {
        finish();
        return new Response(null, { status: result.status, headers: result.headers });
      }
      const pacer = this.#bandwidthMbps === undefined ? undefined : new Pacer(this.#bandwidthMbps);
      if (pacer) entry.bandwidthMbps = this.#bandwidthMbps;
      const streaming = rule?.kind === "stallBody" || rule?.kind === "reset" ||
        body.length > Math.min(this.#chunk, pacer?.piece ?? Infinity);
      if (!streaming) {
        entry.bytes = body.length;
        finish();
        return new Response(body as Uint8Array<ArrayBuffer>, {
          status: result.status,
          headers: result.headers,
        });
      }
      return this.#stream(entry, result, body, rule, finish, pacer);
    } catch (e) {
      entry.status = 500;
      finish();
      return new Response(`Replica error: ${e instanceof Error ? e.message : String(e)}`, {
        status: 500,
      });
    }
  }

  /** Waits `ms` (Infinity: forever) unless the client leaves or the replica closes. */
  #wait(ms: number, req: Request): Promise<"ok" | "client" | "disposed"> {
    return new Promise((resolve) => {
      const dispose = this.#disposeAbort.signal;
      if (dispose.aborted) return resolve("disposed");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (v: "ok" | "client" | "disposed") => {
        if (timer !== undefined) clearTimeout(timer);
        req.signal.removeEventListener("abort", onClient);
        dispose.removeEventListener("abort", onDispose);
        resolve(v);
      };
      const onClient = () => done("client");
      const onDispose = () => done("disposed");
      if (Number.isFinite(ms)) timer = setTimeout(() => done("ok"), ms);
      req.signal.addEventListener("abort", onClient, { once: true });
      dispose.addEventListener("abort", onDispose, { once: true });
    });
  }

  #classify(entry: RequestLogEntry, url: URL): void {
    const path = url.pathname;
    const rest = restRoute(path) ?? extraRestRoute(path);
    if (rest) {
      entry.route = rest.endpoint;
      entry.market = rest.market;
    } else if (path.startsWith("/data/")) {
      entry.route = path.endsWith(".CHECKSUM") ? "checksum" : "archive";
    } else if (
      path === "/" || path === "/data.binance.vision" || path === "/data.binance.vision/"
    ) {
      entry.route = "listing";
    }
  }

  #statusFault(entry: RequestLogEntry, url: URL, applied: AppliedFaults): RouteResult {
    const rule = applied.rule!;
    const status = rule.status ?? 503;
    const headers: Record<string, string> = {};
    if (rule.retryAfter !== undefined) headers["retry-after"] = String(rule.retryAfter);
    if (rule.body !== undefined) {
      return {
        status,
        headers: { "content-type": "text/plain", ...headers },
        body: encoder.encode(rule.body),
      };
    }
    if (entry.market !== undefined) {
      const used = this.#limiter.used(entry.market!);
      Object.assign(headers, weightHeaders(used));
      if (status === 429 || status === 418) {
        return apiError(
          status,
          -1003,
          status === 429 ? "Too many requests." : "IP banned.",
          headers,
        );
      }
      return apiError(
        status,
        -1000,
        "An unknown error occurred while processing the request.",
        headers,
      );
    }
    if (status === 404 && url.pathname.startsWith("/data/")) {
      return noSuchKey(url.pathname.slice(1), entry.id, headers);
    }
    if (url.pathname.startsWith("/data/") || entry.route === "listing") {
      const code = status === 503 ? "SlowDown" : status === 403 ? "AccessDenied" : "InternalError";
      return {
        status,
        headers: { "content-type": "application/xml", ...headers },
        body: encoder.encode(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>Injected fault</Message></Error>`,
        ),
      };
    }
    return {
      status,
      headers: { "content-type": "text/plain", ...headers },
      body: encoder.encode(`HTTP ${status}`),
    };
  }

  #route(
    req: Request,
    url: URL,
    entry: RequestLogEntry,
    applied: AppliedFaults,
  ): RouteResult | Promise<RouteResult> {
    const path = url.pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return {
        status: 405,
        headers: { allow: "GET, HEAD" },
        body: encoder.encode("Method Not Allowed"),
      };
    }
    if (entry.market !== undefined) return this.#rest(req, url, entry);
    if (entry.route === "listing") return this.#listing(url);
    if (path.startsWith("/data/")) return this.#archive(req, path.slice(1), entry, applied);
    return {
      status: 404,
      headers: { "content-type": "text/plain" },
      body: encoder.encode("Not Found"),
    };
  }

  #rest(req: Request, url: URL, entry: RequestLogEntry): RouteResult {
    const market = entry.market!;
    const endpoint = entry.route as RestEndpoint | ExtraRestEndpoint;
    const weight = restWeight(market, endpoint, url.searchParams);
    entry.weight = weight;
    const taken = this.#limiter.take(market, weight);
    entry.usedWeight = taken.used;
    if (taken.refuse) return taken.refuse;
    const ctx = { dataset: this.#dataset, now: this.now() };
    const result = endpoint === "exchangeInfo"
      ? handleExchangeInfo(market, url.searchParams, ctx, this.#limiter.limits[market])
      : endpoint === "fundingRate"
      ? handleFundingRate(market, url.searchParams, ctx)
      : endpoint === "aggTrades"
      ? handleAggTrades(market, url.searchParams, ctx)
      : endpoint === "ping" || endpoint === "time"
      ? handleExtraRest(endpoint, ctx)
      : handleKlines(
        market,
        url.searchParams,
        req.headers,
        ctx,
        kindOfEndpoint(endpoint === "uiKlines" ? "klines" : endpoint),
      );
    Object.assign(result.headers, weightHeaders(taken.used));
    return result;
  }

  #listing(url: URL): RouteResult {
    const p = url.searchParams;
    const rawMax = p.get("max-keys");
    const maxKeys = rawMax !== null && /^\d+$/.test(rawMax) ? Math.min(1000, Number(rawMax)) : 1000;
    const req = {
      prefix: p.get("prefix") ?? "",
      delimiter: p.get("delimiter") ?? "",
      marker: p.get("marker") ?? "",
      maxKeys,
    };
    const result = listObjects(req, {
      dataset: this.#dataset,
      lag: this.#lag,
      now: this.now(),
      describe: (key, spec, interval, period: Period, published) => {
        const ref = parseArchivePath(key)!;
        const cached = this.#cache.peek(key);
        if (cached) return { size: cached.zip.length, etag: cached.etag };
        if (this.#options.exactListingSizes) {
          const built = this.#build({ ref, spec, published });
          if (built) return { size: built.zip.length, etag: built.etag };
        }
        // Estimate: ~45 compressed bytes per row.
        const rows = Math.max(
          1,
          Math.round((period.end - period.start) / intervalMs(interval, period.start)),
        );
        return { size: 200 + rows * 45, etag: etagFor(key, this.#dataset.seed) };
      },
      checksumEtag: (key) => etagFor(key, this.#dataset.seed),
    });
    return {
      status: 200,
      headers: { "content-type": "application/xml" },
      body: encoder.encode(listingXml(req, result)),
    };
  }

  #archive(
    req: Request,
    path: string,
    entry: RequestLogEntry,
    applied: AppliedFaults,
  ): RouteResult | Promise<RouteResult> {
    const found = this.#lookup(path);
    return found instanceof Promise
      ? found.then((f) => this.#archiveResult(req, path, entry, applied, f))
      : this.#archiveResult(req, path, entry, applied, found);
  }

  #archiveResult(
    req: Request,
    path: string,
    entry: RequestLogEntry,
    applied: AppliedFaults,
    found: Found | null,
  ): RouteResult {
    if (!found) return noSuchKey(path, entry.id);
    const { built, zipName, checksum } = found;
    const common = {
      "last-modified": new Date(built.lastModified).toUTCString(),
      "accept-ranges": "bytes",
    };
    if (checksum) {
      let hash = built.sha256;
      if (applied.rule?.kind === "badChecksum") {
        hash = createHash("sha256").update(built.zip).update("bad").digest("hex");
      }
      const body = encoder.encode(`${hash}  ${zipName}\n`);
      return {
        status: 200,
        headers: {
          ...common,
          "content-type": "application/octet-stream",
          "etag": etagFor(path, this.#dataset.seed),
          "content-length": String(body.length),
        },
        body,
      };
    }
    const headers: Record<string, string> = {
      ...common,
      "content-type": "application/zip",
      "etag": built.etag,
    };
    let body = built.zip;
    let status = 200;
    const range = req.headers.get("range");
    const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
    if (m && (m[1] !== "" || m[2] !== "")) {
      const size = body.length;
      let a = m[1] === "" ? size - Number(m[2]) : Number(m[1]);
      let b = m[1] === "" ? size - 1 : m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
      a = Math.max(0, a);
      if (a > b || a >= size) {
        return {
          status: 416,
          headers: { "content-range": `bytes */${size}`, "content-type": "application/xml" },
          body: encoder.encode(
            `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message></Error>`,
          ),
        };
      }
      b = Math.max(a, b);
      body = body.subarray(a, b + 1);
      status = 206;
      headers["content-range"] = `bytes ${a}-${b}/${size}`;
    }
    headers["content-length"] = String(body.length);
    return { status, headers, body };
  }

  // ---- bodies ----

  /** A body tracker for one request: disposal cuts it; the log follows its progress. */
  #tracker(entry: RequestLogEntry, finish: (aborted?: boolean) => void): BodyTracker {
    entry.state = "streaming";
    return {
      track: (kill) => {
        this.#kills.add(kill);
        return () => this.#kills.delete(kill);
      },
      progress: (sent, stalled) => {
        entry.bytes = sent;
        if (stalled) entry.state = "stalled";
        this.#notify(entry);
      },
      finish,
    };
  }

  #stream(
    entry: RequestLogEntry,
    result: RouteResult,
    body: Uint8Array,
    rule: FaultRule | undefined,
    finish: (aborted?: boolean) => void,
    pacer?: Pacer,
  ): Response {
    const cut = rule?.kind === "stallBody" || rule?.kind === "reset";
    const stopAt = cut ? Math.min(body.length, Math.max(0, rule.afterBytes ?? 0)) : body.length;
    const chunk = Math.min(this.#chunk, pacer?.piece ?? Infinity);
    let offset = 0;
    const stream = trackedBody(this.#tracker(entry, finish), () => {
      if (offset < stopAt) {
        const piece = body.subarray(offset, Math.min(stopAt, offset + chunk));
        offset += piece.length;
        return { chunk: piece, delayMs: pacer?.delayMs(offset) };
      }
      return rule?.kind === "reset" ? "reset" : rule?.kind === "stallBody" ? "stall" : "end";
    });
    result.headers["content-length"] ??= String(body.length);
    return new Response(stream, { status: result.status, headers: result.headers });
  }

  #endless(entry: RequestLogEntry, rule: FaultRule, finish: (aborted?: boolean) => void): Response {
    const chunk = new Uint8Array(Math.max(1, rule.chunkBytes ?? 16384)).fill(0x30);
    const delayMs = Math.max(0, rule.intervalMs ?? 5);
    entry.status = 200;
    const stream = trackedBody(this.#tracker(entry, finish), () => ({ chunk, delayMs }));
    const headers: Record<string, string> = { "content-type": "application/zip" };
    if (rule.contentLength !== undefined) headers["content-length"] = String(rule.contentLength);
    return new Response(stream, { status: 200, headers });
  }

  // ---- lifecycle ----

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    this.#disposePromise ??= this.#dispose();
    return this.#disposePromise;
  }

  async #dispose(): Promise<void> {
    const budget = Math.max(0, this.#options.disposeTimeoutMs ?? 2000);
    // Stalls, latency waits and waiters end; bodies in flight are cut.
    this.#disposeAbort.abort(new Error("Replica disposed"));
    this.live.close();
    const generation = this.#generator.close();
    for (const kill of [...this.#kills]) kill();
    // Then the server is cancelled, not drained: a graceful shutdown waits on connections whose
    // client stopped reading (the socket write never completes), and once it has started the
    // server can no longer be cancelled.
    this.#serveAbort.abort();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#server.finished.catch(() => {}),
        new Promise<void>((resolve) => timer = setTimeout(resolve, budget)),
      ]);
    } finally {
      clearTimeout(timer);
      await generation;
      this.#cache.clear();
    }
  }
}

/**
 * Starts a replica of Binance Vision + REST on 127.0.0.1 (any free port by default).
 *
 * @example
 * ```ts ignore
 * import { startReplica } from "@vision-data/client/testing";
 * await using replica = await startReplica({ now: "2024-03-01T00:00:00Z" });
 * const res = await fetch(`${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=2`);
 * console.log(await res.json());
 * ```
 */
export function startReplica(options: ReplicaOptions = {}): Promise<Replica> {
  try {
    return Promise.resolve(new ReplicaImpl(options));
  } catch (e) {
    return Promise.reject(e);
  }
}
