/**
 * Applying the fault a request drew: a held response (latency, `stallHeaders`), an injected
 * status in the shape the real endpoint uses, and the body rewrites (`hostileRows`,
 * `truncate`, `corrupt`).
 *
 * @module
 */
import type { FaultRule } from "./_faults.ts";
import { hostileKlinesBody } from "./_hostile.ts";
import { apiError, type RouteResult, weightHeaders } from "./_rest.ts";
import { noSuchKey, s3Error, textResult } from "./_s3_errors.ts";
import type { RequestLogEntry } from "./_types.ts";

/** Waits `ms` (Infinity: forever) unless the client leaves or the replica closes. */
export function hold(
  ms: number,
  req: Request,
  dispose: AbortSignal,
): Promise<"ok" | "client" | "disposed"> {
  return new Promise((resolve) => {
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

/**
 * A `status` fault's answer, shaped like the endpoint's own errors: REST's JSON with weight
 * headers (`usedWeight`: the market's weight now), S3's XML for archives and the listing.
 */
export function statusFault(
  entry: RequestLogEntry,
  url: URL,
  rule: FaultRule,
  usedWeight: (market: NonNullable<RequestLogEntry["market"]>) => number,
): RouteResult {
  const status = rule.status ?? 503;
  const headers: Record<string, string> = {};
  if (rule.retryAfter !== undefined) headers["retry-after"] = String(rule.retryAfter);
  if (rule.body !== undefined) return textResult(status, rule.body, headers);
  if (entry.market !== undefined) {
    Object.assign(headers, weightHeaders(usedWeight(entry.market)));
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
    return s3Error(status, code, "Injected fault", headers);
  }
  return textResult(status, `HTTP ${status}`, headers);
}

/** The body after the rule's rewrite (`content-length` follows it). */
export function faultedBody(
  rule: FaultRule | undefined,
  entry: RequestLogEntry,
  result: RouteResult,
): Uint8Array {
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
  return body;
}
