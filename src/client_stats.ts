/**
 * The shapes the clients and the manager share: one progress event and one stats record, so
 * code written against one of them works against the others.
 *
 * @module
 */

/**
 * One progress report of `fetchKlines` (either client) or `DataSourceManager.getData`.
 *
 * @example
 * ```ts
 * import type { ProgressEvent } from "@vision-data/client";
 * const onProgress = (p: ProgressEvent) => console.log(p.source, p.done, "/", p.total, p.bytes);
 * ```
 */
export interface ProgressEvent {
  /** The source reporting: cache days, Vision archives or REST pages. */
  source: "cache" | "vision" | "rest";
  /** Units done for that source in this call: cache days, archive files or REST pages. */
  done: number;
  /** Units planned so far for that source (Vision: grows when a month falls back to days). */
  total: number;
  /** Response body bytes that source downloaded in this call so far (0 for the cache). */
  bytes: number;
}

/**
 * Cache statistics, counted per UTC day file: every closed day a call looks up counts once
 * as a hit, a miss or an error.
 *
 * @example
 * ```ts
 * import type { CacheStats } from "@vision-data/client";
 * const hitRate = (s: CacheStats) => s.hits / Math.max(1, s.hits + s.misses + s.errors);
 * ```
 */
export interface CacheStats {
  /** Days served from the cache. */
  hits: number;
  /** Closed days looked up and absent. */
  misses: number;
  /** Corrupt files found (deleted by the cache and fetched again) and failed writes. */
  errors: number;
  /** Complete days written. */
  writes: number;
}

/**
 * Counters of a client or a manager since it was created (a manager sums its clients').
 * Counters a component does not have stay 0.
 *
 * @example
 * ```ts
 * import type { ClientStats } from "@vision-data/client";
 * const describe = (s: ClientStats) => `${s.requests} requests, ${s.bytes} bytes, ${s.cache.hits} cache hits`;
 * ```
 */
export interface ClientStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Response body bytes of archives and pages downloaded. */
  bytes: number;
  /** Vision archives finished (downloaded, or found absent). */
  archives: number;
  /** REST klines pages completed. */
  pages: number;
  /** 429 answers received. */
  rateLimited: number;
  /** Wall-clock ms spent waiting out `Retry-After` of 429s. */
  rateLimitWaitMs: number;
  /** Wall-clock ms requests were held back by the REST weight budget. */
  weightWaitMs: number;
  /** Times the REST weight budget made the next request wait. */
  weightWaits: number;
  /** The last `X-MBX-USED-WEIGHT-1M` seen (0 before any REST answer). */
  lastUsedWeight: number;
  /** The manager's cache lookups and writes (all 0 for a client, which has no cache). */
  cache: CacheStats;
}

/** A zeroed {@linkcode ClientStats}. */
export function emptyStats(): ClientStats {
  return {
    requests: 0,
    bytes: 0,
    archives: 0,
    pages: 0,
    rateLimited: 0,
    rateLimitWaitMs: 0,
    weightWaitMs: 0,
    weightWaits: 0,
    lastUsedWeight: 0,
    cache: { hits: 0, misses: 0, errors: 0, writes: 0 },
  };
}

/** The sum of several stats records (`lastUsedWeight`: the highest). */
export function sumStats(...all: ClientStats[]): ClientStats {
  const out = emptyStats();
  for (const s of all) {
    out.requests += s.requests;
    out.bytes += s.bytes;
    out.archives += s.archives;
    out.pages += s.pages;
    out.rateLimited += s.rateLimited;
    out.rateLimitWaitMs += s.rateLimitWaitMs;
    out.weightWaitMs += s.weightWaitMs;
    out.weightWaits += s.weightWaits;
    out.lastUsedWeight = Math.max(out.lastUsedWeight, s.lastUsedWeight);
    for (const k of ["hits", "misses", "errors", "writes"] as const) out.cache[k] += s.cache[k];
  }
  return out;
}
