/**
 * `KlineStream`: live klines from Binance's market-data WebSocket, with no holes and no
 * duplicates across disconnects (missed closed candles are repaired from REST before newer
 * ones are yielded), a bounded queue, and the library's deadline-bounded disposal.
 *
 * @module
 */
import { delay } from "@std/async";
import { getLogger } from "@logtape/logtape";
import {
  BinanceApiError,
  InvalidSymbolError,
  IpBannedError,
  UnsupportedIntervalError,
} from "../errors.ts";
import {
  ALL_INTERVALS,
  assertIntervalSupported,
  type Interval,
  intervalMs,
  marketCapabilities,
  type MarketType,
  normalizeSymbol,
} from "../market.ts";
import type { DisposeReport } from "../resource/dispose_error.ts";
import { ResourceOwner } from "../resource/owner.ts";
import { RestDataClient, type RestDataClientOptions } from "../rest/client.ts";
import { decodeFrame } from "./_decode.ts";
import { UpdateQueue } from "./_queue.ts";
import { backoffMs } from "./_reconnect.ts";
import { type Gap, Sequencer } from "./_sequencer.ts";
import { SocketSource } from "./_socket.ts";
import { InvalidOptionError } from "./errors.ts";
import type { KlineStreamStats, KlineStreamStatus, KlineUpdate } from "./types.ts";

const log = getLogger(["vision-data", "live"]);

/**
 * Binance's market-data WebSocket base URLs, per market.
 *
 * @example
 * ```ts
 * import { WS_BASE_URLS } from "@vision-data/client/live";
 * WS_BASE_URLS.um; // "wss://fstream.binance.com"
 * ```
 */
export const WS_BASE_URLS: Readonly<Record<MarketType, string>> = {
  spot: "wss://stream.binance.com:9443",
  um: "wss://fstream.binance.com",
  cm: "wss://dstream.binance.com",
};

/**
 * Streams one connection may carry (Binance: 1024), so the most symbols of one stream.
 *
 * @example
 * ```ts
 * import { MAX_STREAMS } from "@vision-data/client/live";
 * MAX_STREAMS; // 1024
 * ```
 */
export const MAX_STREAMS = 1024;

/** Options for {@linkcode KlineStream}. */
export interface KlineStreamOptions {
  /** The market: `"spot"`, `"um"` or `"cm"`. */
  marketType: MarketType;
  /** One symbol or several (any case); several share one combined-stream connection. */
  symbols: string | readonly string[];
  /** The kline interval (not `1M`). */
  interval: Interval;
  /** Yield closed candles only; `false` also yields open-candle updates. @default {true} */
  closedOnly?: boolean;
  /** WebSocket base URL. @default {WS_BASE_URLS[marketType]} */
  wsUrl?: string;
  /** REST base URL for repairs. @default {the market's REST URL} */
  restUrl?: string;
  /** Hard budget of `[Symbol.asyncDispose]()`, ms. @default {5000} */
  disposeTimeoutMs?: number;
  /** Lifetime signal: aborting it ends the stream (like dispose, without releasing). */
  signal?: AbortSignal;
  /** Items the queue holds before the backpressure policy applies. @default {1000} */
  queueSize?: number;
  /**
   * No frame for this long → the connection is deemed dead and replaced. Binance pushes kline
   * updates every 1–2 s (spot) or 250 ms (futures); its ping frames are answered by the
   * runtime but are not visible to the WebSocket API. @default {60000}
   */
  silenceTimeoutMs?: number;
  /** A connection not open within this is abandoned. @default {10000} */
  connectTimeoutMs?: number;
  /** First reconnect wait (exponential, jittered), ms. @default {250} */
  reconnectMinMs?: number;
  /** Longest reconnect wait, ms. @default {30000} */
  reconnectMaxMs?: number;
  /** Connections are replaced after this long (Binance cuts them at 24 h). @default {23.5 h} */
  maxConnectionMs?: number;
  /** Called on every state change (connecting, open, repairing, backoff, paused, closed). */
  onStatus?: (status: KlineStreamStatus) => void;
  /** Options of the REST client used for repairs (retries, pacing). */
  rest?: Omit<RestDataClientOptions, "marketType" | "baseUrl" | "signal" | "disposeTimeoutMs">;
  /** Random source of the reconnect jitter, in [0, 1). @default {Math.random} */
  random?: () => number;
}

interface Outcome {
  reason: string;
  healthy: boolean;
  immediate?: boolean;
  pause?: boolean;
}

/**
 * Live candles of one interval for one or more symbols, as an async iterable.
 *
 * Guarantees:
 * - **No holes, no duplicates** in the closed candles of each symbol, from the first candle
 *   seen on: after any disconnect (error, server close, the 24-hour cut, `serverShutdown`,
 *   silence) the stream reconnects with backoff and jitter, fetches the closed candles it
 *   missed from REST (the library's {@linkcode RestDataClient}: weights, 429, 418) and yields
 *   them before anything newer. Candles seen twice are dropped; when REST and the socket
 *   disagree on one, REST's is kept and a warning is logged.
 * - **Bounded memory**: a queue of `queueSize`. Open-candle updates are coalesced per symbol and
 *   dropped when it is full (`stats.updatesDropped`); closed candles are never dropped — when
 *   they fill it the socket is closed (`stats.pauses`) until the consumer has taken half, and
 *   the candles that closed meanwhile are repaired from REST.
 * - **Disposal** closes the socket and aborts backoff waits and REST repairs within
 *   `disposeTimeoutMs`, whatever the stream is doing; `break` out of `for await` disposes.
 *
 * @example
 * ```ts ignore
 * import { KlineStream } from "@vision-data/client/live";
 * await using stream = new KlineStream({
 *   marketType: "spot",
 *   symbols: ["BTCUSDT", "ETHUSDT"],
 *   interval: "1m",
 * });
 * for await (const k of stream) console.log(k.symbol, new Date(k.openTime), k.close);
 * ```
 */
export class KlineStream implements AsyncDisposable, AsyncIterable<KlineUpdate> {
  /** The market. */
  readonly marketType: MarketType;
  /** The symbols, upper case. */
  readonly symbols: readonly string[];
  /** The interval. */
  readonly interval: Interval;
  /** Whether only closed candles are yielded. */
  readonly closedOnly: boolean;
  /** The URL connected to. */
  readonly url: string;
  readonly #owner: ResourceOwner;
  readonly #rest: RestDataClient;
  readonly #queue: UpdateQueue;
  readonly #seq: Sequencer;
  readonly #len: number;
  readonly #symbolSet: Set<string>;
  readonly #options: KlineStreamOptions;
  readonly #silenceMs: number;
  readonly #connectMs: number;
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #maxAgeMs: number;
  #started = false;
  #iterated = false;
  #error: unknown;
  readonly #stats = {
    connects: 0,
    reconnects: 0,
    frames: 0,
    malformed: 0,
    closedYielded: 0,
    updatesYielded: 0,
    repaired: 0,
    pauses: 0,
  };

  /**
   * Creates a KlineStream; nothing connects until it is iterated.
   *
   * Throws {@linkcode InvalidOptionError} (naming the option), `InvalidSymbolError` or
   * `UnsupportedIntervalError` for bad options.
   */
  constructor(options: KlineStreamOptions) {
    if (typeof options !== "object" || options === null) {
      throw new InvalidOptionError("options", options, "an options object");
    }
    const caps = marketCapabilities(options.marketType);
    this.marketType = caps.market;
    const list = typeof options.symbols === "string" ? [options.symbols] : options.symbols;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_STREAMS) {
      throw new InvalidOptionError(
        "symbols",
        options.symbols,
        `a symbol or 1 to ${MAX_STREAMS} symbols`,
      );
    }
    this.symbols = [...new Set(list.map((s) => normalizeSymbol(s)))];
    if (options.interval === "1M") {
      throw new UnsupportedIntervalError(
        "1M",
        "live streams",
        ALL_INTERVALS.filter((i) => i !== "1M"),
      );
    }
    assertIntervalSupported(this.marketType, options.interval, "rest");
    this.interval = options.interval;
    this.#len = intervalMs(options.interval);
    this.closedOnly = bool("closedOnly", options.closedOnly ?? true);
    const wsBase = url("wsUrl", options.wsUrl ?? WS_BASE_URLS[this.marketType], ["ws:", "wss:"]);
    const restBase = options.restUrl === undefined
      ? undefined
      : url("restUrl", options.restUrl, ["http:", "https:"]);
    const queueSize = int("queueSize", options.queueSize ?? 1000, 2);
    this.#silenceMs = ms("silenceTimeoutMs", options.silenceTimeoutMs ?? 60_000, 1);
    this.#connectMs = ms("connectTimeoutMs", options.connectTimeoutMs ?? 10_000, 1);
    this.#minMs = ms("reconnectMinMs", options.reconnectMinMs ?? 250, 0);
    this.#maxMs = Math.max(this.#minMs, ms("reconnectMaxMs", options.reconnectMaxMs ?? 30_000, 0));
    this.#maxAgeMs = ms("maxConnectionMs", options.maxConnectionMs ?? 23.5 * 3_600_000, 1);
    const budget = ms("disposeTimeoutMs", options.disposeTimeoutMs ?? 5000, 0);
    if (options.onStatus !== undefined && typeof options.onStatus !== "function") {
      throw new InvalidOptionError("onStatus", options.onStatus, "a function");
    }
    this.#options = options;
    const names = this.symbols.map((s) => `${s.toLowerCase()}@kline_${this.interval}`);
    this.url = names.length === 1
      ? `${wsBase}/ws/${names[0]}`
      : `${wsBase}/stream?streams=${names.join("/")}`;
    this.#symbolSet = new Set(this.symbols);
    this.#queue = new UpdateQueue(queueSize);
    this.#seq = new Sequencer(this.#len);
    // Nothing waits in grace: the stream's only in-flight work is its own loop.
    this.#owner = new ResourceOwner({
      name: "KlineStream",
      disposeTimeoutMs: budget,
      graceMs: 0,
      signal: options.signal,
    });
    this.#rest = this.#owner.adopt(
      "rest client",
      new RestDataClient({
        ...options.rest,
        marketType: this.marketType,
        baseUrl: restBase,
        disposeTimeoutMs: budget,
        graceMs: 0,
      }),
    );
    this.#owner.defer("queue", () => this.#queue.end());
  }

  /** `"open"`, `"closing"` or `"closed"`. */
  get state(): "open" | "closing" | "closed" {
    return this.#owner.state;
  }

  /** What the last dispose did (elapsed, steps, timed-out steps, errors). */
  get lastDisposeReport(): DisposeReport | undefined {
    return this.#owner.lastDisposeReport;
  }

  /** Counters: reconnects, repairs, duplicates, drops, pauses, queue high water. */
  get stats(): KlineStreamStats {
    return {
      ...this.#stats,
      duplicates: this.#seq.duplicates,
      disagreements: this.#seq.disagreements,
      updatesDropped: this.#queue.dropped,
      queueHighWater: this.#queue.highWater,
    };
  }

  /** The updates; one consumer. Leaving the loop (`break`, `return`, a throw) disposes. */
  [Symbol.asyncIterator](): AsyncIterator<KlineUpdate> {
    if (this.#iterated) throw new TypeError("A KlineStream can be iterated once");
    this.#iterated = true;
    return {
      next: () => this.#next(),
      return: async (): Promise<IteratorResult<KlineUpdate>> => {
        await this[Symbol.asyncDispose]();
        return { done: true, value: undefined };
      },
    };
  }

  /** Closes the socket, aborts waits and repairs, releases the REST client, within budget. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#owner[Symbol.asyncDispose]();
  }

  async #next(): Promise<IteratorResult<KlineUpdate>> {
    this.#start();
    for (;;) {
      if (this.#owner.state !== "open") return { done: true, value: undefined };
      const u = this.#queue.shift();
      if (u) {
        if (u.closed) this.#stats.closedYielded++;
        else this.#stats.updatesYielded++;
        return { done: false, value: u };
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#queue.ended) return { done: true, value: undefined };
      await this.#queue.whenItem();
    }
  }

  #start(): void {
    if (this.#started || this.#owner.state !== "open") return;
    this.#started = true;
    this.#owner.run((signal) => this.#run(signal), { name: "kline stream" }).catch((err) => {
      this.#error ??= err;
    });
  }

  #status(status: KlineStreamStatus): void {
    try {
      this.#options.onStatus?.(status);
    } catch (err) {
      log.warn("onStatus threw: {err}", { err });
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    try {
      while (!signal.aborted) {
        let outcome: Outcome;
        try {
          outcome = await this.#connection(signal);
        } catch (err) {
          if (signal.aborted) break;
          if (isFatal(err)) {
            this.#error = err;
            log.error("{url}: giving up: {err}", { url: this.url, err });
            break;
          }
          outcome = { reason: describe(err), healthy: false };
        }
        if (signal.aborted) break;
        this.#stats.reconnects++;
        if (outcome.pause) {
          this.#stats.pauses++;
          this.#status({ state: "paused", reason: outcome.reason });
          await this.#queue.whenDrained(signal);
          failures = 0;
          continue;
        }
        failures = outcome.healthy ? 0 : failures + 1;
        const wait = outcome.immediate ? 0 : backoffMs(failures, {
          minMs: this.#minMs,
          maxMs: this.#maxMs,
          random: this.#options.random ?? Math.random,
        });
        log.info("{url}: {reason}; reconnecting in {wait} ms", {
          url: this.url,
          reason: outcome.reason,
          wait,
        });
        this.#status({ state: "backoff", reason: outcome.reason, delayMs: wait });
        await delay(wait, { signal });
      }
    } catch (err) {
      if (!signal.aborted) this.#error ??= err;
    } finally {
      this.#queue.end();
      this.#status({ state: "closed" });
    }
  }

  /** One connection, from connect to its end; repairs happen inside it. */
  async #connection(signal: AbortSignal): Promise<Outcome> {
    this.#status({ state: "connecting" });
    this.#stats.connects++;
    const conn = new SocketSource(this.url, {
      connectTimeoutMs: this.#connectMs,
      silenceMs: this.#silenceMs,
      maxAgeMs: this.#maxAgeMs,
      maxInbound: Math.max(1024, this.#queue.capacity),
      closeTimeoutMs: Math.max(100, this.#owner.disposeTimeoutMs),
      signal,
    });
    let healthy = false;
    try {
      if (!(await conn.opened)) return { reason: conn.endReason ?? "not connected", healthy };
      this.#status({ state: "open" });
      for (;;) {
        const frame = await conn.next();
        if (frame === undefined) return { reason: conn.endReason ?? "ended", healthy };
        this.#stats.frames++;
        const f = decodeFrame(frame);
        if (f.kind === "malformed") {
          this.#stats.malformed++;
          log.warn("{url}: skipped a malformed frame ({reason})", {
            url: this.url,
            reason: f.reason,
          });
          continue;
        }
        if (f.kind === "shutdown") {
          return { reason: "serverShutdown event", healthy: true, immediate: true };
        }
        if (f.kind !== "kline" || f.interval !== this.interval) continue;
        if (!this.#symbolSet.has(f.update.symbol)) continue;
        healthy = true;
        if (await this.#accept(f.update, signal)) {
          return { reason: "the consumer is behind: queue full", healthy, pause: true };
        }
      }
    } finally {
      await conn.close();
    }
  }

  /** Takes one socket update in order; true when closed candles filled the queue. */
  async #accept(u: KlineUpdate, signal: AbortSignal): Promise<boolean> {
    const gap = this.#seq.gapBefore(u);
    if (gap) {
      // A closed candle is fetched too, so that REST and the socket can be compared on it.
      await this.#repair(u.symbol, {
        start: gap.start,
        end: u.openTime + (u.closed ? this.#len : 0),
      }, signal);
    }
    if (u.closed) {
      return this.#seq.admitClosed(u, this.#onDisagree) && this.#queue.pushClosed(u);
    }
    if (!this.closedOnly && this.#seq.admitOpen(u)) this.#queue.pushOpen(u);
    return false;
  }

  readonly #onDisagree = (kept: KlineUpdate, other: KlineUpdate): void => {
    log.warn(
      "{symbol} {openTime}: REST and the socket disagree on a closed candle; kept the {kept} one",
      {
        symbol: kept.symbol,
        openTime: new Date(kept.openTime).toISOString(),
        kept: kept.source,
        rest: kept.source === "rest" ? kept : other,
        socket: kept.source === "rest" ? other : kept,
      },
    );
  };

  /** Fetches the closed candles of `gap` from REST and queues them (waiting for room). */
  async #repair(symbol: string, gap: Gap, signal: AbortSignal): Promise<void> {
    this.#status({ state: "repairing", reason: `${symbol} ${gap.start}..${gap.end}` });
    const k = await this.#rest.fetchKlines({
      symbol,
      interval: this.interval,
      start: gap.start,
      end: gap.end,
      signal,
    });
    if (k.gaps.length > 0) {
      log.warn("{symbol}: REST has no closed candles for {gaps}", {
        symbol,
        gaps: k.gaps.map((g) => `${g.start}..${g.end}`).join(", "),
      });
    }
    for (let i = 0; i < k.length; i++) {
      const u: KlineUpdate = {
        symbol,
        openTime: k.openTime[i],
        open: k.open[i],
        high: k.high[i],
        low: k.low[i],
        close: k.close[i],
        volume: k.volume[i],
        closeTime: k.closeTime[i],
        quoteVolume: k.quoteVolume[i],
        trades: k.trades[i],
        takerBuyBaseVolume: k.takerBuyBaseVolume[i],
        takerBuyQuoteVolume: k.takerBuyQuoteVolume[i],
        closed: true,
        source: "rest",
      };
      if (!this.#seq.admitClosed(u, this.#onDisagree)) continue;
      if (this.#queue.size >= this.#queue.capacity) await this.#queue.whenDrained(signal);
      this.#queue.pushClosed(u);
      this.#stats.repaired++;
    }
    this.#status({ state: "open" });
  }
}

/** Errors a reconnect cannot fix. */
function isFatal(err: unknown): boolean {
  return err instanceof InvalidSymbolError || err instanceof UnsupportedIntervalError ||
    err instanceof IpBannedError || (err instanceof BinanceApiError && err.status === 400);
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== "boolean") throw new InvalidOptionError(name, v, "true or false");
  return v;
}

function int(name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new InvalidOptionError(name, v, `an integer >= ${min}`);
  }
  return v;
}

function ms(name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > 2 ** 31 - 1) {
    throw new InvalidOptionError(name, v, `a number of ms from ${min} to ${2 ** 31 - 1}`);
  }
  return v;
}

function url(name: string, v: unknown, protocols: readonly string[]): string {
  try {
    if (typeof v === "string" && protocols.includes(new URL(v).protocol)) {
      return v.replace(/\/+$/, "");
    }
  } catch {
    // reported below
  }
  throw new InvalidOptionError(name, v, `a URL starting with ${protocols.join(" or ")}//`);
}
