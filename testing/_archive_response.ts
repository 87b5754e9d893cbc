/**
 * Serving an archive as S3 does: the zip (whole, or the `Range` asked for), its CHECKSUM file,
 * or S3's NoSuchKey.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { etagFor } from "./_archive.ts";
import type { Found } from "./_archive_store.ts";
import type { RouteResult } from "./_rest.ts";
import { noSuchKey, s3Error } from "./_s3_errors.ts";

const encoder = new TextEncoder();

/** How one archive request is answered. */
export interface ArchiveRequest {
  /** The key, `data/...` (a zip or a `.CHECKSUM`). */
  path: string;
  /** The request's headers (`Range`). */
  headers: Headers;
  /** The log entry's id (NoSuchKey's request id). */
  id: number;
  /** The dataset's seed (the CHECKSUM file's etag). */
  seed: number;
  /** A `badChecksum` fault: the CHECKSUM names a wrong hash. */
  badChecksum: boolean;
}

/** The answer for an archive found (or not) at `req.path`. */
export function archiveResult(req: ArchiveRequest, found: Found | null): RouteResult {
  const { path } = req;
  if (!found) return noSuchKey(path, req.id);
  const { built, zipName, checksum } = found;
  const common = {
    "last-modified": new Date(built.lastModified).toUTCString(),
    "accept-ranges": "bytes",
  };
  if (checksum) {
    let hash = built.sha256;
    if (req.badChecksum) {
      hash = createHash("sha256").update(built.zip).update("bad").digest("hex");
    }
    const body = encoder.encode(`${hash}  ${zipName}\n`);
    return {
      status: 200,
      headers: {
        ...common,
        "content-type": "application/octet-stream",
        "etag": etagFor(path, req.seed),
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
      return s3Error(416, "InvalidRange", "The requested range is not satisfiable", {
        "content-range": `bytes */${size}`,
      });
    }
    b = Math.max(a, b);
    body = body.subarray(a, b + 1);
    status = 206;
    headers["content-range"] = `bytes ${a}-${b}/${size}`;
  }
  headers["content-length"] = String(body.length);
  return { status, headers, body };
}
