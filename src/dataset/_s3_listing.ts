/**
 * The Vision archive's S3 listing (ListObjects v1): one "directory" level under a prefix,
 * page by page (≤ 1000 entries a page), following `IsTruncated` / `NextMarker`.
 *
 * @module
 */
import { getText } from "./_http_text.ts";
import { MalformedResponseError } from "../errors.ts";
import { type MarketType, MarketType as Markets } from "../market.ts";
import { DEFAULT_VISION_BASE_URL } from "../vision/paths.ts";
import { UnknownMarketError } from "./errors.ts";

/** Where Binance serves the listing of `data.binance.vision`. */
export const DEFAULT_LISTING_URL = "https://s3-ap-northeast-1.amazonaws.com/data.binance.vision";

/** One listed level: sub-"directories" (common prefixes) and objects. */
export interface ListingLevel {
  /** Common prefixes, e.g. `data/spot/monthly/klines/BTCUSDT/`. */
  prefixes: string[];
  /** Object keys. */
  keys: string[];
  /** Pages fetched. */
  pages: number;
}

/** Options for {@linkcode listLevel}. */
export interface ListLevelOptions {
  /** Aborts the listing. */
  signal: AbortSignal;
  /** Entries per page to ask for (S3 caps it at 1000). @default {1000} */
  maxKeys?: number;
  /** No answer headers within this many ms → `RequestTimeoutError`. @default {30000} */
  timeoutMs?: number;
}

/** A listing page above this size is not S3's (1000 entries are ~250 kB). */
const MAX_PAGE_BYTES = 8 << 20;
/** More pages than this is a server that never stops saying "truncated". */
const MAX_PAGES = 10_000;

const decodeXml = (s: string): string =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");

function all(xml: string, re: RegExp): string[] {
  return [...xml.matchAll(re)].map((m) => decodeXml(m[1]));
}

/**
 * Lists the level under `prefix` (ending in `/`) with `delimiter=/`, following the
 * pagination markers until `IsTruncated` is false.
 */
export async function listLevel(
  listingUrl: string,
  prefix: string,
  options: ListLevelOptions,
): Promise<ListingLevel> {
  const { signal, maxKeys = 1000, timeoutMs = 30_000 } = options;
  const out: ListingLevel = { prefixes: [], keys: [], pages: 0 };
  let marker = "";
  for (;;) {
    if (out.pages >= MAX_PAGES) {
      throw new MalformedResponseError(
        listingUrl,
        `listing of ${prefix} exceeds ${MAX_PAGES} pages`,
      );
    }
    const q = new URLSearchParams({ prefix, delimiter: "/" });
    if (marker) q.set("marker", marker);
    if (maxKeys !== 1000) q.set("max-keys", String(maxKeys));
    const url = `${listingUrl}?${q}`;
    const xml = await getText(url, { signal, maxBytes: MAX_PAGE_BYTES, timeoutMs });
    if (!xml.includes("<ListBucketResult")) {
      throw new MalformedResponseError(url, "expected an S3 ListBucketResult");
    }
    out.pages++;
    const keys = all(xml, /<Contents>\s*<Key>([^<]*)<\/Key>/g);
    const prefixes = all(xml, /<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>/g);
    out.keys.push(...keys);
    out.prefixes.push(...prefixes);
    if (!/<IsTruncated>\s*true\s*<\/IsTruncated>/.test(xml)) return out;
    // NextMarker comes with a delimiter; without one S3 means "the last key".
    const next = /<NextMarker>([^<]*)<\/NextMarker>/.exec(xml)?.[1];
    const last = [...keys, ...prefixes].sort().at(-1);
    const nextMarker = next !== undefined ? decodeXml(next) : last;
    if (!nextMarker || nextMarker <= marker) {
      throw new MalformedResponseError(url, "truncated listing without a usable NextMarker");
    }
    marker = nextMarker;
  }
}

/** The listing endpoint for the given options. */
export function listingUrlOf(options: { listingUrl?: string; visionUrl?: string }): string {
  if (options.listingUrl) return options.listingUrl.replace(/\/+$/, "");
  const vision = options.visionUrl?.replace(/\/+$/, "");
  return !vision || vision === DEFAULT_VISION_BASE_URL
    ? DEFAULT_LISTING_URL
    : `${vision}/data.binance.vision`;
}

/** Throws {@linkcode UnknownMarketError} unless `market` is one of spot, um, cm. */
export function assertMarket(market: string): asserts market is MarketType {
  if (!(Object.values(Markets) as string[]).includes(market)) throw new UnknownMarketError(market);
}
