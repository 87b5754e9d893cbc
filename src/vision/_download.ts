/**
 * One archive: `.CHECKSUM` and zip requested together, the zip streamed — hashed on the
 * way — into one buffer when it is small (up to {@linkcode IN_MEMORY_MAX_BYTES}) or else
 * into a temp file, verified, parsed in the pool, and any temp file removed.
 *
 * @module
 */
import { basename, dirname, join } from "@std/path";
import { getLogger } from "@logtape/logtape";
import { ArchiveError, ChecksumMismatchError, HttpStatusError } from "../errors.ts";
import { BodyTooLargeError, ContentLengthError, TempDirError } from "../limit_errors.ts";
import { LIMITS } from "../limits.ts";
import { isTransientError, retryTransient } from "../http/fetch.ts";
import type { HttpSession } from "../http/session.ts";
import type { KlineColumns } from "../klines.ts";
import { createSha256, parseChecksumFile } from "./checksum.ts";
import { checksumUrl, csvNameOf } from "./paths.ts";
import type { Semaphore } from "../_semaphore.ts";
import { writeAll } from "../_atomic_file.ts";

const logger = getLogger(["vision-data", "vision"]);

/** A `.CHECKSUM` is ~100 bytes; anything this big is not one. */
const MAX_CHECKSUM_BYTES = LIMITS.maxChecksumBytes;

/** What the download needs from its client (`T`: what a parsed archive is). */
export interface DownloadContext<T = KlineColumns> {
  /** The client's HTTP session. */
  session: HttpSession;
  /** The owner's temp dir (created lazily). */
  tempDir(): string;
  /** Parses a zip file into columns (the client's parse pool). */
  parse(path: string, file: string, signal: AbortSignal): Promise<T>;
  /** Parses zip bytes into columns, taking ownership of them (transferred to a worker). */
  parseBytes(zip: Uint8Array, file: string, signal: AbortSignal): Promise<T>;
  /**
   * Archives whose `Content-Length` is at most this many bytes are kept in memory and
   * handed to the parser directly; larger ones (or of unknown length) stream to a temp
   * file, so memory stays bounded for any archive size (see `IN_MEMORY_MAX_BYTES`).
   */
  inMemoryMaxBytes: number;
  /** Largest archive accepted (declared or read), bytes (`LIMITS.maxArchiveBytes`). */
  maxArchiveBytes?: number;
  /**
   * Bounds the archives held in memory at once, from their body read until their parse is
   * done: downloads can outrun the parse workers, and each one waiting would hold its zip.
   */
  inMemorySlots?: Semaphore;
  /** Total attempts per archive (transient failures and checksum mismatches). */
  maxAttempts: number;
  /** First retry backoff, ms. */
  retryMinTimeoutMs: number;
  /** Longest retry backoff, ms. */
  retryMaxTimeoutMs: number;
}

/** The outcome of {@linkcode downloadArchive}. */
export type ArchiveOutcome<T = KlineColumns> =
  | { readonly status: "absent"; readonly httpStatus: number }
  | { readonly status: "ok"; readonly columns: T; readonly bytes: number };

/** 404, and 403 defensively (S3 answers 403 for missing keys without list rights). */
export function isAbsent(err: unknown): err is HttpStatusError {
  return err instanceof HttpStatusError && (err.status === 404 || err.status === 403);
}

/** An unreadable `.CHECKSUM` (retried like a mismatch; still an `ArchiveError` to callers). */
class InvalidChecksumFileError extends ArchiveError {}

let tempSeq = 0;

/**
 * The default for {@linkcode DownloadContext.inMemoryMaxBytes}: 16 MiB holds every 1m
 * monthly and 1s daily archive (a few MB) — at most `concurrency` × 16 MiB in flight —
 * while 1s monthly archives (~100 MB) go through a temp file. Measured on the 2-core bench
 * machine: skipping the temp file made a cold year ~7 % faster from 12 monthly archives
 * and ~17 % faster from 366 daily ones.
 */
export const IN_MEMORY_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Downloads, verifies and parses the archive at `url` (retrying transient failures and
 * checksum mismatches up to `maxAttempts`). A missing `.CHECKSUM` or zip (404/403) is
 * `absent`, not an error.
 */
export function downloadArchive<T = KlineColumns>(
  ctx: DownloadContext<T>,
  url: string,
  fileName: string,
  signal: AbortSignal,
): Promise<ArchiveOutcome<T>> {
  let attempt = 0;
  return retryTransient(() => {
    if (++attempt > 1) logger.debug("Retrying {url} (attempt {attempt})", { url, attempt });
    return attemptArchive(ctx, url, fileName, signal);
  }, {
    signal,
    maxAttempts: ctx.maxAttempts,
    minTimeoutMs: ctx.retryMinTimeoutMs,
    maxTimeoutMs: ctx.retryMaxTimeoutMs,
    isRetriable: (err) =>
      isTransientError(err) || err instanceof ChecksumMismatchError ||
      err instanceof InvalidChecksumFileError,
  });
}

async function attemptArchive<T>(
  ctx: DownloadContext<T>,
  url: string,
  fileName: string,
  outer: AbortSignal,
): Promise<ArchiveOutcome<T>> {
  // Stops the zip request when the checksum says "absent" or anything fails.
  const local = new AbortController();
  const signal = AbortSignal.any([outer, local.signal]);
  // Both requests go out at once: one round trip per archive instead of two.
  const zipResponse = ctx.session.fetch(url, { signal });
  zipResponse.catch(() => {}); // awaited below on every path
  let path: string | undefined;
  try {
    const checksumText = await fetchChecksum(ctx, checksumUrl(url), signal);
    if (typeof checksumText === "number") return { status: "absent", httpStatus: checksumText };
    let expected: string;
    try {
      expected = parseChecksumFile(checksumText, fileName);
    } catch (err) {
      // Most likely a damaged transfer (e.g. cut short): worth fetching again.
      const message = err instanceof Error ? err.message : String(err);
      throw new InvalidChecksumFileError(message, { file: `${fileName}.CHECKSUM`, cause: err });
    }
    let res: Response;
    try {
      res = await zipResponse;
    } catch (err) {
      if (isAbsent(err)) return { status: "absent", httpStatus: err.status };
      throw err;
    }
    const declared = declaredLength(res, url, ctx.maxArchiveBytes ?? LIMITS.maxArchiveBytes);
    const length = declared.encoded || declared.bytes > ctx.inMemoryMaxBytes
      ? undefined
      : declared.bytes;
    const file = csvNameOf(fileName);
    let columns: T;
    let bytes: number;
    if (length !== undefined) {
      // Small enough to hold: no temp file write and re-read, and the worker is handed
      // the buffer itself (transferred, not copied).
      const release = await ctx.inMemorySlots?.acquire(signal);
      try {
        const zip = await readToMemory(ctx, res, length, signal);
        verify(url, expected, zip.digest);
        bytes = length;
        columns = await ctx.parseBytes(zip.bytes, file, signal);
      } finally {
        release?.();
      }
    } else {
      // Only archives too big to hold need the temp dir: created here, on first need.
      path = join(ctx.tempDir(), `${++tempSeq}-${fileName}.part`);
      const written = await readToFile(ctx, res, path, signal, declared);
      verify(url, expected, written.digest);
      bytes = written.bytes;
      columns = await ctx.parse(path, file, signal);
    }
    return { status: "ok", columns, bytes };
  } finally {
    local.abort();
    // Never leak the zip response: cancel it if nobody read it (no-op once consumed).
    await zipResponse.then((res) => ctx.session.discard(res), () => {});
    if (path !== undefined) await Deno.remove(path).catch(() => {});
  }
}

/** The `.CHECKSUM` text, or the HTTP status when it is absent. */
async function fetchChecksum<T>(
  ctx: DownloadContext<T>,
  url: string,
  signal: AbortSignal,
): Promise<string | number> {
  let res: Response;
  try {
    res = await ctx.session.fetch(url, { signal });
  } catch (err) {
    if (isAbsent(err)) return err.status;
    throw err;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  await ctx.session.readBody(res, {
    signal,
    onChunk: (chunk) => {
      size += chunk.length;
      if (size > MAX_CHECKSUM_BYTES) {
        throw new BodyTooLargeError(url, size, MAX_CHECKSUM_BYTES, "LIMITS.maxChecksumBytes");
      }
      chunks.push(chunk);
    },
  });
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

function verify(url: string, expected: string, actual: string): void {
  if (actual !== expected) throw new ChecksumMismatchError(url, expected, actual);
}

/** What an archive response declares about its size. */
interface DeclaredLength {
  /** The `Content-Length`. */
  bytes: number;
  /** Content-encoded: `bytes` is the encoded size; the decoded body is bounded by `limit`. */
  encoded: boolean;
  /** Most bytes the body may have: the declared length, or the maximum when encoded. */
  limit: number;
  /** What sets `limit`, for errors. */
  option: string;
}

/**
 * The declared size of an archive body. S3 always declares one: a body without a plain
 * `Content-Length` is refused ({@linkcode ContentLengthError}), one declared over `max` too
 * ({@linkcode BodyTooLargeError}), before a byte is stored.
 */
function declaredLength(res: Response, url: string, max: number): DeclaredLength {
  const header = res.headers.get("content-length");
  const text = header?.trim();
  if (text === undefined || !/^\d{1,16}$/.test(text)) throw new ContentLengthError(url, header);
  const bytes = Number(text);
  if (bytes > max) throw new BodyTooLargeError(url, bytes, max, "maxArchiveBytes");
  const encoding = res.headers.get("content-encoding");
  const encoded = encoding !== null && encoding.trim().toLowerCase() !== "identity";
  return encoded
    ? { bytes, encoded, limit: max, option: "maxArchiveBytes" }
    : { bytes, encoded, limit: bytes, option: "Content-Length" };
}

/**
 * Reads the body straight into one buffer of its declared length (no chunk garbage: at a
 * dozen archives in flight, chunks awaiting GC were a good part of a fetch's peak RSS),
 * hashing each part as it lands.
 */
async function readToMemory<T>(
  ctx: DownloadContext<T>,
  res: Response,
  length: number,
  signal: AbortSignal,
): Promise<{ bytes: Uint8Array; digest: string }> {
  const hash = createSha256();
  const bytes = await ctx.session.readBodyInto(res, new Uint8Array(length), {
    signal,
    onChunk: (chunk) => hash.update(chunk),
  });
  return { bytes, digest: hash.digestHex() };
}

/** Streams the body into a new file at `path`, hashing as it goes (memory stays bounded). */
async function readToFile<T>(
  ctx: DownloadContext<T>,
  res: Response,
  path: string,
  signal: AbortSignal,
  declared: DeclaredLength,
): Promise<{ bytes: number; digest: string }> {
  const hash = createSha256();
  let bytes = 0;
  using file = await Deno.open(path, { write: true, createNew: true });
  await ctx.session.readBody(res, {
    signal,
    onChunk: async (chunk) => {
      bytes += chunk.length;
      // Checked before the write: nothing past the bound reaches the disk.
      if (bytes > declared.limit) {
        throw new BodyTooLargeError(res.url || path, bytes, declared.limit, declared.option);
      }
      hash.update(chunk);
      try {
        await writeAll(file, chunk);
      } catch (err) {
        // A full or failing disk is the temp dir's problem: named, typed, and (in AUTO) a
        // reason to ask REST instead — not a raw "No space left on device".
        const why = err instanceof Error ? err.message : String(err);
        throw new TempDirError(dirname(path), `writing ${basename(path)} failed: ${why}`, {
          cause: err,
        });
      }
    },
  });
  return { bytes, digest: hash.digestHex() };
}
