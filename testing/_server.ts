/**
 * The replica server: real HTTP on 127.0.0.1 serving the Vision archive, the S3 listing and
 * the REST klines API from one deterministic dataset, with declarative fault injection, a
 * request log, and a disposal that is bounded even when clients misbehave.
 *
 * This module only wires the parts together: the truth and archives (`_archive_store.ts`),
 * routing (`_routes.ts`), faults (`_fault_apply.ts`), bodies (`_response_body.ts`), the
 * request pipeline (`_handler.ts`), the log (`_request_log.ts`) and the lifecycle
 * (`_lifecycle.ts`).
 *
 * @module
 */
import type { KlineColumns } from "../src/columns.ts";
import type { MarketType } from "../src/market.ts";
import type { AggTradeColumns } from "../src/agg_trades/columns.ts";
import { archivePath } from "./_archive.ts";
import { ArchiveStore } from "./_archive_store.ts";
import { Clock } from "./_clock.ts";
import { type FaultRule, FaultSet } from "./_faults.ts";
import type { FundingTruth } from "./_funding.ts";
import { createHandler } from "./_handler.ts";
import { Lifecycle } from "./_lifecycle.ts";
import { checkBandwidth, checkLatency } from "./_pacing.ts";
import { RequestLog } from "./_request_log.ts";
import { BodySender } from "./_response_body.ts";
import { RateLimiter } from "./_rest.ts";
import { Router } from "./_routes.ts";
import type {
  ArchiveQuery,
  FundingTruthQuery,
  NowInput,
  Replica,
  ReplicaOptions,
  RequestLogEntry,
  TruthQuery,
} from "./_types.ts";
import { LiveHub } from "./_ws.ts";

class ReplicaImpl implements Replica {
  readonly origin: string;
  readonly visionUrl: string;
  readonly restUrl: string;
  readonly listingUrl: string;
  readonly port: number;
  readonly live: LiveHub;
  readonly requests: RequestLogEntry[];
  readonly #clock: Clock;
  readonly #store: ArchiveStore;
  readonly #faults: FaultSet;
  readonly #limiter: RateLimiter;
  readonly #life = new Lifecycle();
  readonly #log: RequestLog;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #disposeTimeoutMs: number;

  constructor(options: ReplicaOptions) {
    const latencyMs = checkLatency(options.latencyMs);
    const bandwidthMbps = checkBandwidth(options.bandwidthMbps);
    this.#disposeTimeoutMs = Math.max(0, options.disposeTimeoutMs ?? 2000);
    this.#clock = new Clock(options.now);
    const now = () => this.#clock.now();
    this.#store = new ArchiveStore(options, now);
    this.#faults = new FaultSet(options.faults ?? [], options.seed ?? 1);
    this.#limiter = new RateLimiter(options.weightLimitPerMinute ?? {}, options.rateLimit ?? {});
    const life = this.#life;
    this.#log = new RequestLog({
      maxEntries: options.maxLogEntries ?? 100_000,
      closed: () => life.closed,
      disposed: life.disposed,
    });
    this.requests = this.#log.entries;
    const log = this.#log;
    const limiter = this.#limiter;
    const handle = createHandler({
      // The feed needs the port, so it is made after the server; requests come later.
      live: { handle: (req, url) => this.live.handle(req, url) },
      log,
      life,
      faults: this.#faults,
      latencyMs,
      router: new Router({
        store: this.#store,
        limiter,
        now,
        exactListingSizes: options.exactListingSizes ?? false,
      }),
      bodies: new BodySender({
        chunkBytes: Math.max(1, options.chunkBytes ?? 65536),
        bandwidthMbps,
        track: (kill) => life.track(kill),
        notify: (entry) => log.notify(entry),
      }),
      usedWeight: (market) => limiter.used(market),
    });
    this.#server = Deno.serve({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      signal: life.serveSignal,
      onListen: () => {},
      // Body streams the replica cuts on purpose (reset, dispose) end up here: stay quiet.
      onError: () => new Response("Internal Server Error", { status: 500 }),
    }, handle);
    this.port = this.#server.addr.port;
    const host = this.#server.addr.hostname;
    this.origin = `http://${host.includes(":") ? `[${host}]` : host}:${this.port}`;
    this.visionUrl = this.origin;
    this.restUrl = this.origin;
    this.listingUrl = `${this.origin}/data.binance.vision`;
    this.live = new LiveHub(this.origin, this.#store.dataset, this.#clock, options.live);
  }

  get closed(): boolean {
    return this.#life.closed;
  }

  get faults(): FaultRule[] {
    return this.#faults.rules;
  }

  now(): number {
    return this.#clock.now();
  }

  setNow(now: NowInput): void {
    this.#clock.setNow(now);
  }

  setFaults(rules: readonly FaultRule[]): void {
    this.#faults.set(rules);
  }

  openConnections(): number {
    return this.#life.inFlight;
  }

  clearLog(): void {
    this.#log.clear();
  }

  waitFor(
    predicate: (e: RequestLogEntry) => boolean,
    options: { signal?: AbortSignal } = {},
  ): Promise<RequestLogEntry> {
    return this.#log.waitFor(predicate, options);
  }

  usedWeight(market: MarketType): number {
    return this.#limiter.used(market);
  }

  resetRateLimits(): void {
    this.#limiter.reset();
  }

  cacheStats(): { bytes: number; hits: number; misses: number; generating: number } {
    return this.#store.cacheStats();
  }

  klines(q: TruthQuery): KlineColumns {
    return this.#store.klines(q);
  }

  fundingRates(q: FundingTruthQuery): FundingTruth {
    return this.#store.fundingRates(q);
  }

  aggTrades(q: FundingTruthQuery): AggTradeColumns {
    return this.#store.aggTrades(q);
  }

  setArchive(path: string, content: { zip?: Uint8Array; csv?: Uint8Array } | null): void {
    this.#store.setArchive(path, content);
  }

  archiveBytes(pathOrQuery: string | ArchiveQuery): Uint8Array | null {
    return this.#store.archiveBytes(pathOrQuery);
  }

  csvFor(q: ArchiveQuery): Uint8Array | null {
    return this.#store.csvFor(q);
  }

  archiveUrl(q: ArchiveQuery): string {
    return `${this.visionUrl}/${archivePath(q)}`;
  }

  publishedAt(q: ArchiveQuery): number | null {
    return this.#store.publishedAt(q);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  close(): Promise<void> {
    return this.#life.close(this.#disposeTimeoutMs, {
      stop: () => {
        this.live.close();
        return this.#store.stopGenerating();
      },
      finished: () => this.#server.finished.catch(() => {}),
      cleanup: () => this.#store.clear(),
    });
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
