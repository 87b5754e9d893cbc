/**
 * Typed errors. Every error names the bad value and what is allowed, so a user can fix
 * the call without reading our source.
 *
 * @module
 */

/**
 * Base class of every error this library throws on purpose.
 *
 * @example
 * ```ts
 * import { VisionDataError } from "@vision-data/client";
 * function report(e: unknown): void {
 *   if (e instanceof VisionDataError) console.error(e.name, e.message);
 * }
 * ```
 */
export class VisionDataError extends Error {
  /**
   * Creates a VisionDataError.
   *
   * @param message what went wrong, naming the bad value
   * @param options standard error options (`cause`)
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A symbol that does not match Binance's symbol rules or is not listed on the market.
 *
 * @example
 * ```ts
 * import { InvalidSymbolError } from "@vision-data/client";
 * const e = new InvalidSymbolError("btc-usdt", "must match ^[A-Z0-9]{1,30}(_[A-Z0-9]+)?$");
 * ```
 */
export class InvalidSymbolError extends VisionDataError {
  /** The rejected symbol. */
  readonly symbol: string;
  /**
   * Creates a InvalidSymbolError.
   *
   * @param symbol the rejected symbol
   * @param allowed what a valid symbol looks like
   * @param options standard error options
   */
  constructor(symbol: string, allowed: string, options?: ErrorOptions) {
    super(`Invalid symbol ${JSON.stringify(symbol)}: ${allowed}`, options);
    this.symbol = symbol;
  }
}

/**
 * An interval the market or source does not offer (e.g. `1s` on futures, `3d` daily).
 *
 * @example
 * ```ts
 * import { UnsupportedIntervalError } from "@vision-data/client";
 * const e = new UnsupportedIntervalError("1s", "um", ["1m", "3m"]);
 * ```
 */
export class UnsupportedIntervalError extends VisionDataError {
  /** The rejected interval. */
  readonly interval: string;
  /** The intervals that would have been accepted. */
  readonly allowed: readonly string[];
  /**
   * Creates a UnsupportedIntervalError.
   *
   * @param interval the rejected interval
   * @param where the market/source it was asked of (e.g. `"um vision daily"`)
   * @param allowed the intervals offered there
   * @param options standard error options
   */
  constructor(interval: string, where: string, allowed: readonly string[], options?: ErrorOptions) {
    super(
      `Interval ${JSON.stringify(interval)} is not offered for ${where}; allowed: ${
        allowed.join(", ")
      }`,
      options,
    );
    this.interval = interval;
    this.allowed = allowed;
  }
}

/**
 * A bad time range: unparseable bound, start not before end, or a range in the future.
 *
 * @example
 * ```ts
 * import { InvalidRangeError } from "@vision-data/client";
 * const e = new InvalidRangeError("start 2024-02-01 is not before end 2024-01-01");
 * ```
 */
export class InvalidRangeError extends VisionDataError {}

/**
 * A downloaded archive whose SHA-256 differs from its `.CHECKSUM`, after retries.
 *
 * @example
 * ```ts
 * import { ChecksumMismatchError } from "@vision-data/client";
 * const e = new ChecksumMismatchError("https://x/a.zip", "aa", "bb");
 * ```
 */
export class ChecksumMismatchError extends VisionDataError {
  /** The archive URL. */
  readonly url: string;
  /** The hash from the `.CHECKSUM` file. */
  readonly expected: string;
  /** The hash of the bytes received. */
  readonly actual: string;
  /**
   * Creates a ChecksumMismatchError.
   *
   * @param url the archive URL
   * @param expected the published SHA-256
   * @param actual the SHA-256 of what arrived
   */
  constructor(url: string, expected: string, actual: string) {
    super(`Checksum mismatch for ${url}: expected sha256 ${expected}, got ${actual}`);
    this.url = url;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A corrupt or unreadable archive (bad zip, unexpected entry, malformed CSV row).
 *
 * @example
 * ```ts
 * import { ArchiveError } from "@vision-data/client";
 * const e = new ArchiveError("BTCUSDT-1m-2024-01-01.csv line 7: expected 12 fields, got 3");
 * ```
 */
export class ArchiveError extends VisionDataError {
  /** The file the problem is in, when known. */
  readonly file?: string;
  /** The 1-based line, when the problem is a CSV row. */
  readonly line?: number;
  /**
   * Creates a ArchiveError.
   *
   * @param message what is wrong
   * @param details file and line, plus standard error options
   */
  constructor(message: string, details: ErrorOptions & { file?: string; line?: number } = {}) {
    super(message, details);
    this.file = details.file;
    this.line = details.line;
  }
}

/**
 * Work asked of a client that is closing or closed.
 *
 * @example
 * ```ts
 * import { ClientClosedError } from "@vision-data/client";
 * const e = new ClientClosedError("VisionDataClient");
 * ```
 */
export class ClientClosedError extends VisionDataError {
  /**
   * Creates a ClientClosedError.
   *
   * @param what the closed object's name
   */
  constructor(what: string) {
    super(`${what} is closed (or closing): no new work is accepted`);
  }
}

/**
 * An HTTP answer that is neither success nor a known Binance error.
 *
 * @example
 * ```ts
 * import { HttpStatusError } from "@vision-data/client";
 * const e = new HttpStatusError("https://x", 503, "Service Unavailable");
 * ```
 */
export class HttpStatusError extends VisionDataError {
  /** The URL requested. */
  readonly url: string;
  /** The HTTP status. */
  readonly status: number;
  /**
   * Creates a HttpStatusError.
   *
   * @param url the URL requested
   * @param status the HTTP status
   * @param detail the start of the body, when useful
   */
  constructor(url: string, status: number, detail = "") {
    super(`HTTP ${status} from ${url}${detail ? `: ${detail}` : ""}`);
    this.url = url;
    this.status = status;
  }
}

/**
 * A Binance REST error body `{code, msg}` that is not mapped to a more specific error.
 *
 * @example
 * ```ts
 * import { BinanceApiError } from "@vision-data/client";
 * const e = new BinanceApiError(-1130, "Invalid data sent for a parameter.", 400);
 * ```
 */
export class BinanceApiError extends VisionDataError {
  /** Binance's error code (negative). */
  readonly code: number;
  /** HTTP status. */
  readonly status: number;
  /**
   * Creates a BinanceApiError.
   *
   * @param code Binance's error code
   * @param msg Binance's message
   * @param status HTTP status
   */
  constructor(code: number, msg: string, status: number) {
    super(`Binance API error ${code} (HTTP ${status}): ${msg}`);
    this.code = code;
    this.status = status;
  }
}

/**
 * HTTP 429: over the request-weight budget; `retryAfterMs` says how long to wait.
 *
 * @example
 * ```ts
 * import { RateLimitError } from "@vision-data/client";
 * const e = new RateLimitError(2000);
 * ```
 */
export class RateLimitError extends VisionDataError {
  /** How long the server asked us to wait. */
  readonly retryAfterMs: number;
  /**
   * Creates a RateLimitError.
   *
   * @param retryAfterMs the server's `Retry-After`, in ms
   */
  constructor(retryAfterMs: number) {
    super(`Rate limited (HTTP 429): retry after ${retryAfterMs} ms`);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * HTTP 418: the IP is banned until `until`. The client stops sending requests.
 *
 * @example
 * ```ts
 * import { IpBannedError } from "@vision-data/client";
 * const e = new IpBannedError(new Date(Date.now() + 120_000));
 * ```
 */
export class IpBannedError extends VisionDataError {
  /** When the ban ends. */
  readonly until: Date;
  /**
   * Creates a IpBannedError.
   *
   * @param until when the ban ends
   */
  constructor(until: Date) {
    super(`IP banned by Binance (HTTP 418) until ${until.toISOString()}; no requests are sent`);
    this.until = until;
  }
}

/**
 * A cache file that failed its integrity check (row count or checksum).
 *
 * @example
 * ```ts
 * import { CacheCorruptError } from "@vision-data/client";
 * const e = new CacheCorruptError("/cache/x.arrow", "checksum differs");
 * ```
 */
export class CacheCorruptError extends VisionDataError {
  /** The corrupt file. */
  readonly path: string;
  /**
   * Creates a CacheCorruptError.
   *
   * @param path the corrupt file
   * @param reason what check failed
   * @param options standard error options
   */
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super(`Corrupt cache file ${path}: ${reason}`, options);
    this.path = path;
  }
}

/**
 * A request that stalled: no response headers (`phase: "headers"`) or no body bytes
 * (`phase: "body"`) within the timeout. Retriable.
 *
 * @example
 * ```ts
 * import { RequestTimeoutError } from "@vision-data/client";
 * const e = new RequestTimeoutError("https://x/a.zip", "headers", 10_000);
 * ```
 */
export class RequestTimeoutError extends VisionDataError {
  /** The URL requested. */
  readonly url: string;
  /** Whether the response headers or the next body chunk did not arrive in time. */
  readonly phase: "headers" | "body";
  /** The timeout that expired, in ms. */
  readonly timeoutMs: number;
  /**
   * Creates a RequestTimeoutError.
   *
   * @param url the URL requested
   * @param phase what did not arrive in time
   * @param timeoutMs the timeout that expired
   */
  constructor(url: string, phase: "headers" | "body", timeoutMs: number) {
    super(
      phase === "headers"
        ? `No response headers from ${url} within ${timeoutMs} ms`
        : `Response body from ${url} stalled: no data for ${timeoutMs} ms`,
    );
    this.url = url;
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A transport failure (connection refused or reset, truncated body). Retriable; the
 * platform's error is the `cause`.
 *
 * @example
 * ```ts
 * import { NetworkError } from "@vision-data/client";
 * const e = new NetworkError("https://x/a.zip", "body", { cause: new Error("reset") });
 * ```
 */
export class NetworkError extends VisionDataError {
  /** The URL requested. */
  readonly url: string;
  /** Whether sending the request (`"headers"`) or reading the body failed. */
  readonly phase: "headers" | "body";
  /**
   * Creates a NetworkError.
   *
   * @param url the URL requested
   * @param phase where it failed
   * @param options standard error options (`cause`: the platform error)
   */
  constructor(url: string, phase: "headers" | "body", options?: ErrorOptions) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(
      `Network error ${phase === "headers" ? "requesting" : "reading the body of"} ${url}${why}`,
      options,
    );
    this.url = url;
    this.phase = phase;
  }
}

/**
 * A successful HTTP answer whose body is not what the endpoint documents (not JSON, wrong
 * shape, a non-numeric field). Not retriable: the server said this on purpose.
 *
 * @example
 * ```ts
 * import { MalformedResponseError } from "@vision-data/client";
 * const e = new MalformedResponseError("https://x/api/v3/klines", "row 3: expected an array");
 * ```
 */
export class MalformedResponseError extends VisionDataError {
  /** The URL requested. */
  readonly url: string;
  /**
   * Creates a MalformedResponseError.
   *
   * @param url the URL requested
   * @param detail what is wrong with the body
   * @param options standard error options
   */
  constructor(url: string, detail: string, options?: ErrorOptions) {
    super(`Malformed response from ${url}: ${detail}`, options);
    this.url = url;
  }
}

/**
 * Columns the cache refuses to store for a key: a row outside that UTC day, open times not
 * strictly increasing, a non-integer time or trade count, or columns of unequal length.
 *
 * @example
 * ```ts
 * import { CacheDataError } from "@vision-data/client";
 * const e = new CacheDataError("2024-01-01", 3, "open time 2024-01-02T00:00:00.000Z is outside the day");
 * ```
 */
export class CacheDataError extends VisionDataError {
  /** The day (`YYYY-MM-DD`) the columns were written for. */
  readonly day: string;
  /** The 0-based offending row, when one row is to blame. */
  readonly row?: number;
  /**
   * Creates a CacheDataError.
   *
   * @param day the day the columns were written for
   * @param row the offending row, or `undefined`
   * @param reason what is wrong
   */
  constructor(day: string, row: number | undefined, reason: string) {
    super(`Cannot cache ${day}${row === undefined ? "" : ` row ${row}`}: ${reason}`);
    this.day = day;
    this.row = row;
  }
}
