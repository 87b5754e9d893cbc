/**
 * One archive: `.CHECKSUM` and zip requested together, the zip streamed to a temp file
 * while hashed, verified, parsed in the pool, and the temp file removed.
 *
 * @module
 */
import { join } from "@std/path";
import { getLogger } from "@logtape/logtape";
import { ArchiveError, ChecksumMismatchError, HttpStatusError } from "../errors.ts";
import { isTransientError, retryTransient } from "../http/fetch.ts";
import type { HttpSession } from "../http/session.ts";
import type { KlineColumns } from "../klines.ts";
import { createSha256, parseChecksumFile } from "./checksum.ts";
import { checksumUrl, csvNameOf } from "./paths.ts";

const logger = getLogger(["vision-data", "vision"]);

/** A `.CHECKSUM` is ~100 bytes; anything this big is not one. */
const MAX_CHECKSUM_BYTES = 64 * 1024;

/** What the download needs from its client. */
export interface DownloadContext {
  /** The client's HTTP session. */
  session: HttpSession;
  /** The owner's temp dir (created lazily). */
  tempDir(): string;
  /** Parses a zip file into columns (the client's parse pool). */
  parse(path: string, file: string, signal: AbortSignal): Promise<KlineColumns>;
  /** Total attempts per archive (transient failures and checksum mismatches). */
  maxAttempts: number;
  /** First retry backoff, ms. */
  retryMinTimeoutMs: number;
  /** Longest retry backoff, ms. */
  retryMaxTimeoutMs: number;
}

/** The outcome of {@linkcode downloadArchive}. */
export type ArchiveOutcome =
  | { readonly status: "absent"; readonly httpStatus: number }
  | { readonly status: "ok"; readonly columns: KlineColumns; readonly bytes: number };

/** 404, and 403 defensively (S3 answers 403 for missing keys without list rights). */
export function isAbsent(err: unknown): err is HttpStatusError {
  return err instanceof HttpStatusError && (err.status === 404 || err.status === 403);
}

/** An unreadable `.CHECKSUM` (retried like a mismatch; still an `ArchiveError` to callers). */
class InvalidChecksumFileError extends ArchiveError {}

let tempSeq = 0;

/**
 * Downloads, verifies and parses the archive at `url` (retrying transient failures and
 * checksum mismatches up to `maxAttempts`). A missing `.CHECKSUM` or zip (404/403) is
 * `absent`, not an error.
 */
export function downloadArchive(
  ctx: DownloadContext,
  url: string,
  fileName: string,
  signal: AbortSignal,
): Promise<ArchiveOutcome> {
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

async function attemptArchive(
  ctx: DownloadContext,
  url: string,
  fileName: string,
  outer: AbortSignal,
): Promise<ArchiveOutcome> {
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
    path = join(ctx.tempDir(), `${++tempSeq}-${fileName}.part`);
    const hash = createSha256();
    let bytes = 0;
    {
      using file = await Deno.open(path, { write: true, createNew: true });
      await ctx.session.readBody(res, {
        signal,
        onChunk: async (chunk) => {
          hash.update(chunk);
          bytes += chunk.length;
          await writeAll(file, chunk);
        },
      });
    }
    const actual = hash.digestHex();
    if (actual !== expected) throw new ChecksumMismatchError(url, expected, actual);
    const columns = await ctx.parse(path, csvNameOf(fileName), signal);
    return { status: "ok", columns, bytes };
  } finally {
    local.abort();
    // Never leak the zip response: cancel it if nobody read it (no-op once consumed).
    await zipResponse.then((res) => ctx.session.discard(res), () => {});
    if (path !== undefined) await Deno.remove(path).catch(() => {});
  }
}

/** The `.CHECKSUM` text, or the HTTP status when it is absent. */
async function fetchChecksum(
  ctx: DownloadContext,
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
        throw new ArchiveError(`${url}: over ${MAX_CHECKSUM_BYTES} bytes, not a CHECKSUM file`, {
          file: url,
        });
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

async function writeAll(file: Deno.FsFile, chunk: Uint8Array): Promise<void> {
  let at = 0;
  while (at < chunk.length) at += await file.write(chunk.subarray(at));
}
