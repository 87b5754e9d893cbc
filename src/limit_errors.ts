/**
 * Typed errors for input that breaks a bound: bodies too large or of undeclared size,
 * corrupt rows, times outside what Binance can have, headers asking for absurd waits,
 * invalid options, an unusable temp dir. Kept beside `errors.ts` (same base classes) so
 * every bound's error lives in one place; see `limits.ts` for the bounds themselves.
 *
 * @module
 */
import { ArchiveError, InvalidRangeError, VisionDataError } from "./errors.ts";

/**
 * A value over a documented bound (see `LIMITS`). `option` names the option that raises it.
 *
 * @example
 * ```ts
 * import { LimitExceededError } from "@vision-data/client";
 * const e = new LimitExceededError("Retry-After of https://x", 9e9, 120_000, "maxRateLimitWaitMs", "ms");
 * e.message; // names the value, the limit and the option
 * ```
 */
export class LimitExceededError extends VisionDataError {
  /** What exceeded the bound. */
  readonly what: string;
  /** The value seen (or reached when the read was cut). */
  readonly value: number;
  /** The bound. */
  readonly limit: number;
  /** The option that sets the bound. */
  readonly option: string;
  /**
   * Creates a LimitExceededError.
   *
   * @param what what exceeded the bound (e.g. `"body of https://x/a.zip"`)
   * @param value the value seen
   * @param limit the bound
   * @param option the option that sets the bound
   * @param unit the unit of value and limit (e.g. `"bytes"`)
   */
  constructor(what: string, value: number, limit: number, option: string, unit = "") {
    const u = unit ? ` ${unit}` : "";
    super(`${what}: ${value}${u} exceeds the limit of ${limit}${u} (option ${option})`);
    this.what = what;
    this.value = value;
    this.limit = limit;
    this.option = option;
  }
}

/**
 * A source that took longer than `sourceTimeoutMs` in `DataSourceManager` AUTO: its span
 * goes to REST (counted in `getFailoverStats().timeout`).
 *
 * @example
 * ```ts
 * import { SourceTimeoutError } from "@vision-data/client";
 * const e = new SourceTimeoutError("Vision span", 120_000, 120_000, "sourceTimeoutMs", "ms");
 * ```
 */
export class SourceTimeoutError extends LimitExceededError {}

/**
 * A response body larger than allowed: over its declared `Content-Length`, or over the
 * configured maximum (`maxArchiveBytes`, `maxPageBytes`). The read is cut at the bound.
 *
 * @example
 * ```ts
 * import { BodyTooLargeError } from "@vision-data/client";
 * const e = new BodyTooLargeError("https://x/api/v3/klines", 8_388_609, 8_388_608, "maxPageBytes");
 * ```
 */
export class BodyTooLargeError extends LimitExceededError {
  /** The URL whose body was refused. */
  readonly url: string;
  /**
   * Creates a BodyTooLargeError.
   *
   * @param url the URL whose body was refused
   * @param bytes the size declared or read so far
   * @param limit the bound
   * @param option the option that sets it (or `"Content-Length"` for the declared size)
   */
  constructor(url: string, bytes: number, limit: number, option: string) {
    super(`body of ${url}`, bytes, limit, option, "bytes");
    this.url = url;
  }
}

/**
 * An archive response without a usable `Content-Length` (absent, not a number, or
 * content-encoded): S3 always declares one, so an undeclared body is refused before a
 * byte is stored.
 *
 * @example
 * ```ts
 * import { ContentLengthError } from "@vision-data/client";
 * const e = new ContentLengthError("https://x/a.zip", null);
 * ```
 */
export class ContentLengthError extends VisionDataError {
  /** The URL. */
  readonly url: string;
  /**
   * Creates a ContentLengthError.
   *
   * @param url the URL
   * @param header the `Content-Length` received (`null`: none)
   */
  constructor(url: string, header: string | null) {
    super(
      `${url} answered ${
        header === null ? "without a Content-Length" : `Content-Length ${JSON.stringify(header)}`
      }: an archive must declare its size as a plain byte count`,
    );
    this.url = url;
  }
}

/**
 * A row whose values cannot be a kline: non-finite number, negative price or volume,
 * `high < low`, fractional or off-grid open time. Names the file (or REST page), the row
 * and the field. Such rows are never cached or returned.
 *
 * @example
 * ```ts
 * import { CorruptRowError } from "@vision-data/client";
 * const e = new CorruptRowError("BTCUSDT-1m-2024-01-01.csv", 7, "high", "high 1 < low 2");
 * e.line; // 7
 * ```
 */
export class CorruptRowError extends ArchiveError {
  /** The field at fault. */
  readonly field: string;
  /**
   * Creates a CorruptRowError.
   *
   * @param file the file name or page URL
   * @param row the 1-based row (data rows, header excluded)
   * @param field the field at fault
   * @param reason what is wrong, naming the value
   */
  constructor(file: string, row: number, field: string, reason: string) {
    super(`${file} row ${row}: corrupt ${field}: ${reason}`, { file, line: row });
    this.field = field;
  }
}

/**
 * A time that is not one (past the JS Date range, impossible calendar date, unreadable
 * relative time) or that looks like epoch seconds where milliseconds are expected. An
 * {@linkcode InvalidRangeError}, so callers and the CLI (exit 2) treat it as bad input.
 *
 * @example
 * ```ts
 * import { InvalidTimeError } from "@vision-data/client";
 * const e = new InvalidTimeError("start", "2024-02-30", "February 2024 has 29 days");
 * ```
 */
export class InvalidTimeError extends InvalidRangeError {
  /** The rejected value, as text. */
  readonly value: string;
  /**
   * Creates an InvalidTimeError.
   *
   * @param name which bound (`start`, `end`, …)
   * @param value the rejected value
   * @param allowed why, and what is allowed
   */
  constructor(name: string, value: unknown, allowed: string) {
    const text = value instanceof Date ? String(value.getTime()) : String(value);
    super(`Invalid ${name} ${JSON.stringify(text)}: ${allowed}`);
    this.value = text;
  }
}

/**
 * The temp dir archives spill into is missing, not writable, or full.
 *
 * @example
 * ```ts
 * import { TempDirError } from "@vision-data/client";
 * const e = new TempDirError("/tmp", "read-only file system");
 * ```
 */
export class TempDirError extends VisionDataError {
  /** The directory. */
  readonly dir: string;
  /**
   * Creates a TempDirError.
   *
   * @param dir the directory
   * @param reason what failed
   * @param options standard error options (`cause`)
   */
  constructor(dir: string, reason: string, options?: ErrorOptions) {
    super(
      `Temp dir ${dir} is unusable: ${reason} (set TMPDIR to a writable directory with room)`,
      options,
    );
    this.dir = dir;
  }
}

export { InvalidOptionError } from "./option_error.ts";
