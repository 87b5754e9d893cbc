/**
 * The replica's WebSocket market streams: `/ws/<symbol>@kline_<interval>` and
 * `/stream?streams=a/b` (events wrapped as `{"stream", "data"}`), serving Binance's kline event
 * shape from the same dataset as the REST API and the archive, on the replica's clock — which,
 * in fast-forward mode, the feed advances itself. Faults: drop after N messages, stall,
 * malformed frame, `serverShutdown`, refused connections.
 *
 * @module
 */
import type { Dataset, SymbolSpec } from "./_dataset.ts";
import { formatDecimal } from "./_csv_format.ts";
import { ALL_INTERVALS, type Interval, intervalMs, type MarketType } from "../src/market.ts";

/** A fault of the live feed; rules are consumed in order, one per connection attempt. */
export interface LiveFaultRule {
  /**
   * - `drop`: the server closes the connection after `afterMessages` kline events;
   * - `stall`: after `afterMessages`, nothing more is sent (the socket stays open, pings too);
   * - `malformed`: after `afterMessages`, one frame that is not JSON, then the feed goes on;
   * - `shutdown`: after `afterMessages`, a `serverShutdown` event; the server closes the
   *   connection `closeAfterMs` later unless the client left first;
   * - `refuse`: the upgrade is answered with HTTP 503 (the connection attempt fails);
   * - `tamper`: kline event number `afterMessages + 1` carries a wrong close price (the socket
   *   disagrees with REST on that candle).
   */
  kind: "drop" | "stall" | "malformed" | "shutdown" | "refuse" | "tamper";
  /** Kline events sent on the connection before the fault. @default {0} */
  afterMessages?: number;
  /** Connection attempts this rule applies to. @default {1} */
  times?: number;
  /** For `shutdown`: real ms until the server closes. @default {1000} */
  closeAfterMs?: number;
}

/** Options of the live feed (`ReplicaOptions.live`). */
export interface LiveFeedOptions {
  /**
   * Fast-forward: from the first WebSocket connection on, the feed moves the replica's clock
   * forward by `interval / updatesPerCandle` every `tickMs` real ms (REST sees the same clock),
   * sending an update per step and the closed candle at each boundary. Without it, the feed
   * ticks every `tickMs` on the replica's clock as it is. @default {false}
   */
  fastForward?: boolean;
  /** Real ms between ticks. @default {1 fast-forward, 1000 otherwise} */
  tickMs?: number;
  /** Steps per candle in fast-forward (the last one closes it). @default {2} */
  updatesPerCandle?: number;
  /** Interval whose candles set the fast-forward step. @default {"1m"} */
  stepInterval?: Interval;
  /** Fast-forward stops at this replica time (ms). @default {Infinity} */
  stopAt?: number;
  /** Seconds between the server's ping frames (Deno answers them; no pong → closed). @default {20 spot, 180 futures} */
  pingIntervalS?: number;
  /** Fault rules (see {@linkcode LiveFaultRule}). */
  faults?: readonly LiveFaultRule[];
  /** Called for every kline event sent (benches timestamp closes with it). */
  onSend?: (e: LiveSendEvent) => void;
}

/** What {@linkcode LiveFeedOptions.onSend} gets. */
export interface LiveSendEvent {
  /** Symbol, upper case. */
  symbol: string;
  /** Candle open time. */
  openTime: number;
  /** The `x` flag. */
  closed: boolean;
  /** `performance.now()` when it was handed to the socket. */
  sentAt: number;
}

/** The live feed of a running replica (`replica.live`). */
export interface LiveFeed {
  /** `ws://127.0.0.1:PORT`: the spot base, use as `wsUrl`. */
  readonly url: string;
  /** The base URL of a market's streams (`url` for spot, `url/um`, `url/cm`). */
  urlFor(market: MarketType): string;
  /** Open WebSocket connections. */
  connections(): number;
  /** Connection attempts so far (refused ones included). */
  readonly attempts: number;
  /** Replaces the fault rules. */
  setFaults(rules: readonly LiveFaultRule[]): void;
  /** Resolves when `n` connection attempts have been seen (existing ones count). */
  waitForAttempts(n: number): Promise<void>;
  /** Resolves once no connection is open (the server saw every close). */
  whenIdle(): Promise<void>;
}

interface Stream {
  name: string;
  spec: SymbolSpec;
  interval: Interval;
  len: number;
}

interface Connection {
  socket: WebSocket;
  streams: Stream[];
  combined: boolean;
  sent: number;
  lastT: number;
  fault?: LiveFaultRule;
  stalled: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

const STREAM_RE = /^([a-z0-9_]{1,40})@kline_([0-9]+[smhdwM])$/;

/** The clock the feed reads and (in fast-forward) moves. */
export interface LiveClock {
  now(): number;
  setNow(t: number): void;
}

/** The feed behind `replica.live`; the replica routes upgrades to {@linkcode LiveHub.handle}. */
export class LiveHub implements LiveFeed {
  readonly url: string;
  attempts = 0;
  readonly #dataset: Dataset;
  readonly #clock: LiveClock;
  readonly #options: LiveFeedOptions;
  readonly #conns = new Set<Connection>();
  readonly #waiters = new Set<{ n: number; resolve: () => void }>();
  readonly #idle = new Set<() => void>();
  #faults: { rule: LiveFaultRule; left: number }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Upgraded sockets not yet open. */
  #pending = 0;

  constructor(origin: string, dataset: Dataset, clock: LiveClock, options: LiveFeedOptions = {}) {
    this.url = origin.replace(/^http/, "ws");
    this.#dataset = dataset;
    this.#clock = clock;
    this.#options = options;
    this.setFaults(options.faults ?? []);
  }

  connections(): number {
    return this.#conns.size;
  }

  setFaults(rules: readonly LiveFaultRule[]): void {
    this.#faults = rules.map((rule) => ({ rule, left: rule.times ?? 1 }));
  }

  waitForAttempts(n: number): Promise<void> {
    if (this.attempts >= n || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.add({ n, resolve }));
  }

  whenIdle(): Promise<void> {
    if (this.#conns.size === 0 && this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  #settle(): void {
    if (this.#conns.size > 0 || this.#pending > 0) return;
    for (const r of this.#idle) r();
    this.#idle.clear();
  }

  urlFor(market: MarketType): string {
    return market === "spot" ? this.url : `${this.url}/${market}`;
  }

  /** The market of a live-feed request (`/ws/…`, `/stream`, under `/um` or `/cm`), or null. */
  static route(url: URL): { market: MarketType; path: string } | null {
    const m = /^(?:\/(um|cm))?(\/ws\/.*|\/stream)$/.exec(url.pathname);
    return m ? { market: (m[1] ?? "spot") as MarketType, path: m[2] } : null;
  }

  /** Answers a WebSocket upgrade (or an HTTP error); null when the URL is not the feed's. */
  handle(req: Request, url: URL): Response | null {
    const route = LiveHub.route(url);
    if (!route) return null;
    const market = route.market;
    this.attempts++;
    for (const w of [...this.#waiters]) {
      if (this.attempts >= w.n) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
    const fault = this.#takeFault();
    if (this.#closed || fault?.kind === "refuse") {
      return new Response("Service Unavailable", { status: 503 });
    }
    const combined = route.path === "/stream";
    const names = combined ? (url.searchParams.get("streams") ?? "").split("/") : [
      decodeURIComponent(route.path.slice("/ws/".length)),
    ];
    if (names.length > 1024) return new Response("Too many streams", { status: 400 });
    const streams: Stream[] = [];
    for (const name of names) {
      const m = STREAM_RE.exec(name);
      const interval = m && ALL_INTERVALS.find((iv) => iv === m[2]);
      const spec = m && this.#dataset.spec(market, m[1].toUpperCase());
      if (!m || !interval || !spec) {
        return new Response(`Invalid stream ${JSON.stringify(name)}`, { status: 400 });
      }
      streams.push({ name, spec, interval, len: intervalMs(interval) });
    }
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("Expected a WebSocket upgrade", { status: 426 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, {
      // Binance pings every 20 s on spot, every 3 minutes on futures.
      idleTimeout: this.#options.pingIntervalS ?? (market === "spot" ? 20 : 180),
    });
    const conn: Connection = {
      socket,
      streams,
      combined,
      sent: 0,
      lastT: this.#clock.now(),
      fault,
      stalled: false,
    };
    this.#pending++;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.#pending--;
      conn.lastT = this.#clock.now();
      this.#conns.add(conn);
      this.#start();
    };
    const gone = () => {
      if (!opened) {
        opened = true;
        this.#pending--;
      }
      clearTimeout(conn.timer);
      this.#conns.delete(conn);
      this.#settle();
    };
    socket.onclose = gone;
    socket.onerror = gone;
    return response;
  }

  #takeFault(): LiveFaultRule | undefined {
    const f = this.#faults.find((f) => f.left > 0);
    if (!f) return undefined;
    f.left--;
    return f.rule;
  }

  #start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const fast = this.#options.fastForward ?? false;
    const tickMs = Math.max(0, this.#options.tickMs ?? (fast ? 1 : 1000));
    const step = intervalMs(this.#options.stepInterval ?? "1m") /
      Math.max(1, this.#options.updatesPerCandle ?? 2);
    const stopAt = this.#options.stopAt ?? Infinity;
    const tick = () => {
      this.#timer = undefined;
      if (this.#closed) return;
      if (fast) {
        const now = this.#clock.now();
        if (now < stopAt) {
          this.#clock.setNow(Math.min(stopAt, Math.floor(now / step) * step + step));
        }
      }
      const now = this.#clock.now();
      for (const conn of this.#conns) this.#emit(conn, now);
      this.#timer = setTimeout(tick, tickMs);
    };
    this.#timer = setTimeout(tick, tickMs);
  }

  /** Sends what happened on `conn`'s streams since its last tick. */
  #emit(conn: Connection, now: number): void {
    const prev = conn.lastT;
    conn.lastT = now;
    if (conn.stalled || conn.socket.readyState !== WebSocket.OPEN || now <= prev) return;
    for (const s of conn.streams) {
      // Candles closing in (prev, now], at most 1000 per tick.
      let open = Math.floor(prev / s.len) * s.len;
      for (let i = 0; open + s.len <= now && i < 1000; i++, open += s.len) {
        this.#send(conn, s, open, open + s.len, now);
        if (conn.stalled || conn.socket.readyState !== WebSocket.OPEN) return;
      }
      // The open candle's update, unless it opened exactly now.
      const live = Math.floor(now / s.len) * s.len;
      if (live < now) this.#send(conn, s, live, now, now);
      if (conn.stalled || conn.socket.readyState !== WebSocket.OPEN) return;
    }
  }

  #send(conn: Connection, s: Stream, openTime: number, at: number, eventTime: number): void {
    const c = this.#dataset.rows({
      spec: s.spec,
      interval: s.interval,
      start: openTime,
      end: openTime + 1,
      now: at,
      includeLive: true,
    });
    if (c.openTime.length === 0) return; // not listed (yet)
    const d = s.spec.decimals;
    const closed = at >= openTime + s.len;
    const n = c.trades[0];
    const first = Math.floor(openTime / 1000);
    const event = {
      e: "kline",
      E: eventTime,
      s: s.spec.symbol,
      k: {
        t: openTime,
        T: c.closeTime[0],
        s: s.spec.symbol,
        i: s.interval,
        f: first,
        L: n > 0 ? first + n - 1 : -1,
        o: formatDecimal(c.open[0], d.price),
        c: formatDecimal(c.close[0], d.price),
        h: formatDecimal(c.high[0], d.price),
        l: formatDecimal(c.low[0], d.price),
        v: formatDecimal(c.volume[0], d.volume),
        n,
        x: closed,
        q: formatDecimal(c.quoteVolume[0], d.quoteVolume),
        V: formatDecimal(c.takerBuyBaseVolume[0], d.takerBuyBaseVolume),
        Q: formatDecimal(c.takerBuyQuoteVolume[0], d.takerBuyQuoteVolume),
        B: "0",
      },
    };
    const f0 = conn.fault;
    if (f0?.kind === "tamper" && conn.sent === (f0.afterMessages ?? 0)) {
      conn.fault = undefined;
      event.k.c = formatDecimal(c.close[0] + 10 ** -d.price, d.price);
    }
    conn.socket.send(JSON.stringify(conn.combined ? { stream: s.name, data: event } : event));
    conn.sent++;
    this.#options.onSend?.({
      symbol: s.spec.symbol,
      openTime,
      closed,
      sentAt: performance.now(),
    });
    const f = conn.fault;
    if (f && conn.sent === (f.afterMessages ?? 0)) this.#fault(conn, f, eventTime);
  }

  #fault(conn: Connection, f: LiveFaultRule, now: number): void {
    conn.fault = undefined;
    if (f.kind === "drop") conn.socket.close(1001, "replica: drop fault");
    else if (f.kind === "stall") conn.stalled = true;
    else if (f.kind === "malformed") conn.socket.send('{"e":"kline","k":{"t":');
    else if (f.kind === "shutdown") {
      conn.socket.send(JSON.stringify({ event: { e: "serverShutdown", E: now } }));
      conn.timer = setTimeout(() => {
        if (conn.socket.readyState === WebSocket.OPEN) conn.socket.close(1001, "shutdown");
      }, f.closeAfterMs ?? 1000);
    }
  }

  /** Stops the feed and closes every connection. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#waiters) w.resolve();
    this.#waiters.clear();
    for (const r of this.#idle) r();
    this.#idle.clear();
    for (const conn of this.#conns) {
      clearTimeout(conn.timer);
      try {
        conn.socket.close(1001, "replica closed");
      } catch {
        // already closing
      }
    }
  }
}
