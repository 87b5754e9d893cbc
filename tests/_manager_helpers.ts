/**
 * Shared setup of the manager, example and end-to-end tests: a replica with a fixed clock,
 * a temp cache dir, and row-for-row comparison against the replica's truth.
 *
 * @module
 */
import { type Klines, SOURCE_CODES } from "../src/klines.ts";
import type { Interval } from "../src/market.ts";
import { DataSourceManager, type DataSourceManagerOptions } from "../src/manager/mod.ts";
import type { TimeInput } from "../src/time.ts";
import type { Replica } from "../testing/mod.ts";
import { assertColumnsEqual } from "./_helpers.ts";

/** The clock the replica and the managers share: a Friday morning, 10:30 UTC. */
export const NOW: number = Date.parse("2026-11-27T10:30:00Z");

/** A temp dir removed (recursively) when the scope ends. */
export async function tempCacheDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "vision-data-manager-test-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }).catch(() => {}),
  };
}

/** A manager pointed at the replica and sharing its clock. */
export function managerFor(
  replica: Replica,
  cacheDir: string,
  options: Partial<DataSourceManagerOptions> = {},
): DataSourceManager {
  return new DataSourceManager({
    marketType: "spot",
    cacheDir,
    visionUrl: replica.visionUrl,
    restUrl: replica.restUrl,
    now: () => replica.now(),
    // One retry is plenty against a local server, and keeps fault tests quick.
    vision: { maxAttempts: 2, retryMinTimeoutMs: 10, retryMaxTimeoutMs: 20 },
    rest: { maxAttempts: 2, retryMinTimeoutMs: 10, retryMaxTimeoutMs: 20 },
    ...options,
  });
}

/** Asserts `k` equals the replica's truth for the query, every column, row for row. */
export function assertTruth(
  replica: Replica,
  k: Klines,
  q: { symbol?: string; interval: Interval; start: TimeInput; end: TimeInput },
): void {
  const truth = replica.klines({ marketType: k.marketType, symbol: k.symbol, ...q });
  assertColumnsEqual(k, truth);
}

/** Rows per source name. */
export function sourceCounts(k: Klines): Record<string, number> {
  const out: Record<string, number> = {};
  for (const code of k.sources ?? []) out[SOURCE_CODES[code]] = (out[SOURCE_CODES[code]] ?? 0) + 1;
  return out;
}

/** The sources of the rows opening in `[start, end)`, as a set of names. */
export function sourcesBetween(k: Klines, start: number, end: number): string[] {
  const part = k.between(start, end);
  return [...new Set([...(part.sources ?? [])].map((c) => SOURCE_CODES[c]))].sort();
}

/** Requests of a route in the replica's log (archive downloads, REST klines pages…). */
export function requestsOf(replica: Replica, route: string): number {
  return replica.requests.filter((r) => r.route === route).length;
}
