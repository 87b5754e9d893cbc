/**
 * The replica's public types: options, the request log entry, and the running replica.
 *
 * @module
 */
import type { KlineKind } from "../src/kline_kind.ts";
import type { FundingTruth } from "./_funding.ts";
import type { AggTradeColumns } from "../src/agg_trades/columns.ts";
import type { KlineColumns } from "../src/columns.ts";
import type { Interval, MarketType } from "../src/market.ts";
import type { TimeInput } from "../src/time.ts";
import type { PublicationLag } from "./_archive.ts";
import type { CsvRules, MountedFixture, ReplicaSymbol } from "./_dataset.ts";
import type { FaultRule } from "./_faults.ts";
import type { LiveFeed, LiveFeedOptions } from "./_ws.ts";

/** A clock value or a clock. */
export type NowInput = number | string | Date | (() => number);

/** Options for `startReplica`. */
export interface ReplicaOptions {
  /** Port to listen on. @default {0 (any free port)} */
  port?: number;
  /** Interface to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** The replica's "now": a fixed instant or a clock. @default {Date.now} */
  now?: NowInput;
  /** Listed symbols (replaces `DEFAULT_SYMBOLS`). */
  symbols?: readonly ReplicaSymbol[];
  /** Seed of the synthetic dataset and of fault probabilities. @default {1} */
  seed?: number;
  /** Publication lag after a period's end. @default {{ daily: 6 h, monthly: 3 days }} */
  publicationLagMs?: Partial<PublicationLag>;
  /** Real CSV days served byte-for-byte. */
  fixtures?: readonly MountedFixture[];
  /** Fault rules (see `FaultRule`). */
  faults?: readonly FaultRule[];
  /** Request-weight budget per market per window. @default {{ spot: 6000, um: 2400, cm: 2400 }} */
  weightLimitPerMinute?: Partial<Record<MarketType, number>>;
  /** Rate-limit window, ban length (418) and clock (real monotonic time by default). */
  rateLimit?: { windowMs?: number; banMs?: number; clock?: () => number };
  /** Which archives carry a header / µs times. */
  csv?: CsvRules;
  /** Memory budget of the built-archive LRU. @default {512 MiB} */
  cacheBytes?: number;
  /**
   * DEFLATE level of generated archives. @default {1 for archives of ≥ 500 000 candles (a week
   * or month of 1s klines: several times faster to build, zips ~60 % bigger), else 6}
   */
  zipLevel?: number;
  /** Bytes per body chunk. @default {65536} */
  chunkBytes?: number;
  /** Dispose budget: after it, connections are cut. @default {2000} */
  disposeTimeoutMs?: number;
  /** Build archives to report exact listing sizes (slow); else unbuilt sizes are estimates. */
  exactListingSizes?: boolean;
  /**
   * Exact archives served at these paths, bypassing the dataset, publication and validation
   * (e.g. a malformed CSV); their `.CHECKSUM` is computed from the bytes. Not listed.
   */
  rawArchives?: readonly RawArchive[];
  /** Keep at most this many log entries (oldest dropped). @default {100000} */
  maxLogEntries?: number;
  /** The WebSocket kline streams: fast-forward clock, ping interval, faults. */
  live?: LiveFeedOptions;
  /**
   * Delay before every response's headers, in ms (a wide-area round trip; `latency` faults add
   * to it). A finite number ≥ 0, else `startReplica` throws `ReplicaOptionError`. @default {0}
   */
  latencyMs?: number;
  /**
   * Bandwidth of every response body, in megabits (10^6 bits) per second: bodies are sent in
   * pieces of ~10 ms at this rate. A connection carries one response at a time, so this is
   * the limit per connection. A finite number > 0, else `startReplica` throws
   * `ReplicaOptionError`. @default {no limit}
   */
  bandwidthMbps?: number;
}

/** An archive served byte-for-byte at a path (see `ReplicaOptions.rawArchives`). */
export interface RawArchive {
  /** `data/.../NAME.zip` (a leading `/` or origin is ignored). */
  path: string;
  /** The zip bytes. */
  zip?: Uint8Array;
  /** Or CSV bytes, zipped as `NAME.csv`. */
  csv?: Uint8Array;
}

/** One request as the replica saw it. */
export interface RequestLogEntry {
  /** Sequence number. */
  id: number;
  /** HTTP method. */
  method: string;
  /** URL path. */
  path: string;
  /** Query string without `?`. */
  query: string;
  /** What was asked for (set on arrival, before any fault delay). */
  route:
    | "archive"
    | "checksum"
    | "listing"
    | "klines"
    | "exchangeInfo"
    | "markPriceKlines"
    | "indexPriceKlines"
    | "premiumIndexKlines"
    | "fundingRate"
    | "aggTrades"
    | "ping"
    | "time"
    | "uiKlines"
    | "other";
  /** REST market, for REST routes (set on arrival, like `route`). */
  market?: MarketType;
  /** Status sent (0 while headers are pending, or when none were ever sent). */
  status: number;
  /** Body bytes handed to the connection. */
  bytes: number;
  /** From arrival until the response ended or was abandoned (grows while in flight). */
  durationMs: number;
  /** The client went away before the response completed. */
  aborted: boolean;
  /** Fault kinds applied, comma-separated. */
  fault?: string;
  /** Where the request is. */
  state: "waiting" | "streaming" | "stalled" | "done";
  /** Wall-clock arrival time (ms). */
  startedAt: number;
  /** REST weight of the request and the window's total after it. */
  weight?: number;
  /** `X-MBX-USED-WEIGHT-1M` sent. */
  usedWeight?: number;
  /** Delay applied before the headers (`latencyMs` option plus `latency` faults). */
  latencyMs?: number;
  /** Bandwidth the body was paced to (`bandwidthMbps` option). */
  bandwidthMbps?: number;
}

/** A kline query against the replica's truth. */
export interface TruthQuery {
  /** Market. */
  marketType: MarketType;
  /** Symbol (any case). */
  symbol: string;
  /** Interval. */
  interval: Interval;
  /** Inclusive start of open times. */
  start: TimeInput;
  /** Exclusive end of open times. */
  end: TimeInput;
  /** Mark/index/premium klines instead of trade klines. @default {"trades"} */
  kind?: KlineKind;
}

/** A funding query against the replica's truth. */
export interface FundingTruthQuery {
  /** `um` or `cm`. */
  marketType: MarketType;
  /** The contract. */
  symbol: string;
  /** Inclusive start of funding times. */
  start: TimeInput;
  /** Exclusive end of funding times. */
  end: TimeInput;
}

/** An archive file, by its parts. */
export interface ArchiveQuery {
  /** Market. */
  marketType: MarketType;
  /** Symbol, upper case. */
  symbol: string;
  /** Interval (`1M` is written `1mo` in the path). */
  interval: Interval;
  /** `YYYY-MM-DD` (daily) or `YYYY-MM` (monthly). */
  period: string;
}

/** A running replica. Dispose it (`await using`) to stop the server. */
export interface Replica extends AsyncDisposable {
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** Vision base: `${visionUrl}/data/spot/...` works. */
  readonly visionUrl: string;
  /** REST base: `${restUrl}/api/v3/klines`, `/fapi/v1/...`, `/dapi/v1/...`. */
  readonly restUrl: string;
  /** S3 listing endpoint: `${listingUrl}?prefix=data/spot/&delimiter=/`. */
  readonly listingUrl: string;
  /** The port. */
  readonly port: number;
  /** The WebSocket kline streams (`replica.live.url` is the spot `wsUrl`). */
  readonly live: LiveFeed;
  /** The request log (live entries; in-flight ones keep updating). */
  readonly requests: RequestLogEntry[];
  /** Requests in flight (headers pending or body still streaming). */
  openConnections(): number;
  /** Empties the request log. */
  clearLog(): void;
  /** Resolves with the first log entry (existing or future) the predicate accepts. */
  waitFor(
    predicate: (e: RequestLogEntry) => boolean,
    options?: { signal?: AbortSignal },
  ): Promise<RequestLogEntry>;
  /** Replaces the fault rules (their `times` counters restart). */
  setFaults(rules: readonly FaultRule[]): void;
  /** The active fault rules. */
  readonly faults: FaultRule[];
  /** The replica's now (ms). */
  now(): number;
  /** Changes the replica's now. */
  setNow(now: NowInput): void;
  /** The truth: closed candles with open time in `[start, end)` (times in ms). */
  klines(q: TruthQuery): KlineColumns;
  /** Funding rows with time in `[start, end)` as REST serves them (cm: markPrice NaN). */
  fundingRates(q: FundingTruthQuery): FundingTruth;
  /** Aggregate trades with time in `[start, end)` (ms), of minutes closed by now. */
  aggTrades(q: FundingTruthQuery): AggTradeColumns;
  /** CSV bytes inside an archive, or null when the archive does not exist (yet). */
  csvFor(q: ArchiveQuery): Uint8Array | null;
  /** Zip bytes of an archive (no faults), or null when it does not exist (yet). */
  archiveBytes(pathOrQuery: string | ArchiveQuery): Uint8Array | null;
  /** Serves exact bytes at an archive path (null removes them); see `rawArchives`. */
  setArchive(path: string, content: { zip?: Uint8Array; csv?: Uint8Array } | null): void;
  /** Full URL of an archive. */
  archiveUrl(q: ArchiveQuery): string;
  /** When an archive is (or will be) published; null if it never exists. */
  publishedAt(q: ArchiveQuery): number | null;
  /** REST weight used in the current window. */
  usedWeight(market: MarketType): number;
  /** Forgets used weight, 429 windows and bans. */
  resetRateLimits(): void;
  /**
   * Built-archive cache figures; `generating`: big archives being generated off the request
   * path right now.
   */
  cacheStats(): { bytes: number; hits: number; misses: number; generating: number };
  /** Same as disposing. */
  close(): Promise<void>;
  /** Whether disposal has started. */
  readonly closed: boolean;
}
