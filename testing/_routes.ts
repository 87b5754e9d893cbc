/**
 * Request classification and routing: which endpoint a path is (REST, its extras, the S3
 * listing, an archive or its CHECKSUM), and the answer each gives when no fault intervenes.
 *
 * @module
 */
import { intervalMs } from "../src/market.ts";
import { etagFor, parseArchivePath, type Period } from "./_archive.ts";
import { archiveResult } from "./_archive_response.ts";
import type { ArchiveStore } from "./_archive_store.ts";
import type { AppliedFaults } from "./_faults.ts";
import { handleFundingRate } from "./_funding.ts";
import { kindOfEndpoint } from "./_kinds.ts";
import { handleAggTrades } from "./_agg_trades.ts";
import { listingXml, listObjects } from "./_listing.ts";
import { type ExtraRestEndpoint, extraRestRoute, handleExtraRest } from "./_rest_extra.ts";
import {
  handleExchangeInfo,
  handleKlines,
  type RateLimiter,
  type RestEndpoint,
  restRoute,
  restWeight,
  type RouteResult,
  weightHeaders,
} from "./_rest.ts";
import { textResult } from "./_s3_errors.ts";
import type { RequestLogEntry } from "./_types.ts";

const encoder = new TextEncoder();

/** Sets the entry's route (and market, for REST) from the path alone. */
export function classify(entry: RequestLogEntry, url: URL): void {
  const path = url.pathname;
  const rest = restRoute(path) ?? extraRestRoute(path);
  if (rest) {
    entry.route = rest.endpoint;
    entry.market = rest.market;
  } else if (path.startsWith("/data/")) {
    entry.route = path.endsWith(".CHECKSUM") ? "checksum" : "archive";
  } else if (
    path === "/" || path === "/data.binance.vision" || path === "/data.binance.vision/"
  ) {
    entry.route = "listing";
  }
}

/** What the routes read: the archives and truth, the REST weight, the clock. */
export interface RouterContext {
  store: ArchiveStore;
  limiter: RateLimiter;
  now: () => number;
  /** Build archives to list their exact size (`ReplicaOptions.exactListingSizes`). */
  exactListingSizes: boolean;
}

/** The answers of a classified request. */
export class Router {
  readonly #ctx: RouterContext;

  constructor(ctx: RouterContext) {
    this.#ctx = ctx;
  }

  route(
    req: Request,
    url: URL,
    entry: RequestLogEntry,
    applied: AppliedFaults,
  ): RouteResult | Promise<RouteResult> {
    const path = url.pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return {
        status: 405,
        headers: { allow: "GET, HEAD" },
        body: encoder.encode("Method Not Allowed"),
      };
    }
    if (entry.market !== undefined) return this.#rest(req, url, entry);
    if (entry.route === "listing") return this.#listing(url);
    if (path.startsWith("/data/")) return this.#archive(req, path.slice(1), entry, applied);
    return textResult(404, "Not Found");
  }

  #rest(req: Request, url: URL, entry: RequestLogEntry): RouteResult {
    const { limiter, store } = this.#ctx;
    const market = entry.market!;
    const endpoint = entry.route as RestEndpoint | ExtraRestEndpoint;
    const weight = restWeight(market, endpoint, url.searchParams);
    entry.weight = weight;
    const taken = limiter.take(market, weight);
    entry.usedWeight = taken.used;
    if (taken.refuse) return taken.refuse;
    const ctx = { dataset: store.dataset, now: this.#ctx.now() };
    const result = endpoint === "exchangeInfo"
      ? handleExchangeInfo(market, url.searchParams, ctx, limiter.limits[market])
      : endpoint === "fundingRate"
      ? handleFundingRate(market, url.searchParams, ctx)
      : endpoint === "aggTrades"
      ? handleAggTrades(market, url.searchParams, ctx)
      : endpoint === "ping" || endpoint === "time"
      ? handleExtraRest(endpoint, ctx)
      : handleKlines(
        market,
        url.searchParams,
        req.headers,
        ctx,
        kindOfEndpoint(endpoint === "uiKlines" ? "klines" : endpoint),
      );
    Object.assign(result.headers, weightHeaders(taken.used));
    return result;
  }

  #listing(url: URL): RouteResult {
    const { store } = this.#ctx;
    const p = url.searchParams;
    const rawMax = p.get("max-keys");
    const maxKeys = rawMax !== null && /^\d+$/.test(rawMax) ? Math.min(1000, Number(rawMax)) : 1000;
    const req = {
      prefix: p.get("prefix") ?? "",
      delimiter: p.get("delimiter") ?? "",
      marker: p.get("marker") ?? "",
      maxKeys,
    };
    const result = listObjects(req, {
      dataset: store.dataset,
      lag: store.lag,
      now: this.#ctx.now(),
      describe: (key, spec, interval, period: Period, published) => {
        const ref = parseArchivePath(key)!;
        const cached = store.peek(key);
        if (cached) return { size: cached.zip.length, etag: cached.etag };
        if (this.#ctx.exactListingSizes) {
          const built = store.build({ ref, spec, published });
          if (built) return { size: built.zip.length, etag: built.etag };
        }
        // Estimate: ~45 compressed bytes per row.
        const rows = Math.max(
          1,
          Math.round((period.end - period.start) / intervalMs(interval, period.start)),
        );
        return { size: 200 + rows * 45, etag: etagFor(key, store.dataset.seed) };
      },
      checksumEtag: (key) => etagFor(key, store.dataset.seed),
    });
    return {
      status: 200,
      headers: { "content-type": "application/xml" },
      body: encoder.encode(listingXml(req, result)),
    };
  }

  #archive(
    req: Request,
    path: string,
    entry: RequestLogEntry,
    applied: AppliedFaults,
  ): RouteResult | Promise<RouteResult> {
    const archiveReq = {
      path,
      headers: req.headers,
      id: entry.id,
      seed: this.#ctx.store.dataset.seed,
      badChecksum: applied.rule?.kind === "badChecksum",
    };
    const found = this.#ctx.store.lookup(path);
    return found instanceof Promise
      ? found.then((f) => archiveResult(archiveReq, f))
      : archiveResult(archiveReq, found);
  }
}
