/**
 * S3 ListObjects (v1) over the replica's archive tree, generated lazily.
 *
 * @module
 */
import type { Interval, MarketType } from "../src/market.ts";
import { DAY_MS, monthStart, utcDay, utcMonth } from "../src/time.ts";
import { ALL_INTERVALS, visionIntervalName } from "../src/market.ts";
import {
  intervalPublished,
  type Period,
  periodDataEnd,
  type PublicationLag,
  publishedAt,
} from "./_archive.ts";
import { type Dataset, floorOpen, type SymbolSpec } from "./_dataset.ts";
import { klineKindSymbol } from "../src/kline_kind.ts";
import { fundingMonthHasRows } from "./_funding.ts";
import { kindOfDir, kindSpec } from "./_kinds.ts";

/** One object the listing reports. */
export interface ListedObject {
  key: string;
  lastModified: number;
  etag: string;
  size: number;
}

/** What the listing needs from the replica. */
export interface ListingContext {
  dataset: Dataset;
  lag: PublicationLag;
  now: number;
  /** Size and ETag of an archive key (zip). */
  describe(key: string, spec: SymbolSpec, interval: Interval, period: Period, published: number): {
    size: number;
    etag: string;
  };
  checksumEtag(key: string): string;
}

/** A listing request. */
export interface ListRequest {
  prefix: string;
  delimiter: string;
  marker: string;
  maxKeys: number;
}

const MARKETS: Record<string, MarketType> = {
  "data/spot/": "spot",
  "data/futures/um/": "um",
  "data/futures/cm/": "cm",
};

type Child = { name: string; dir: boolean };

function periodsOf(
  spec: SymbolSpec,
  interval: Interval,
  kind: "daily" | "monthly",
  ctx: ListingContext,
): Period[] {
  const out: Period[] = [];
  const lag = kind === "daily" ? ctx.lag.daily : ctx.lag.monthly;
  const first = floorOpen(interval, spec.listedAt);
  let t = kind === "daily" ? Math.floor(first / DAY_MS) * DAY_MS : monthStart(first);
  for (;;) {
    const end = kind === "daily" ? t + DAY_MS : monthStart(t, 1);
    const period: Period = {
      kind,
      label: kind === "daily" ? utcDay(t) : utcMonth(t),
      start: t,
      end,
    };
    if (periodDataEnd(interval, period) + lag > ctx.now || t >= spec.delistedAt) break;
    out.push(period);
    t = end;
  }
  return out;
}

/** Whether at least one period is published (the first one, the listing's). */
function hasPeriods(
  spec: SymbolSpec,
  interval: Interval,
  kind: "daily" | "monthly",
  ctx: ListingContext,
): boolean {
  const first = floorOpen(interval, spec.listedAt);
  const start = kind === "daily" ? Math.floor(first / DAY_MS) * DAY_MS : monthStart(first);
  const end = kind === "daily" ? start + DAY_MS : monthStart(start, 1);
  const lag = kind === "daily" ? ctx.lag.daily : ctx.lag.monthly;
  const dataEnd = periodDataEnd(interval, { kind, label: "", start, end });
  return dataEnd + lag <= ctx.now && start < spec.delistedAt;
}

/**
 * The data-type folders the replica serves under `data/{market}/{daily|monthly}/` — the
 * subset of Binance Vision's it implements (binance-public-data README, "Data types"):
 * `aggTrades` and `klines` everywhere, the mark/index/premium-index klines on futures, and
 * `fundingRate` only monthly on futures (Binance publishes no daily funding files).
 */
export function listedDataTypes(market: MarketType, kind: "daily" | "monthly"): string[] {
  if (market === "spot") return ["aggTrades", "klines"];
  const types = [
    "aggTrades",
    "indexPriceKlines",
    "klines",
    "markPriceKlines",
    "premiumIndexKlines",
  ];
  return kind === "monthly" ? [...types, "fundingRate"].sort() : types;
}

/**
 * The published periods of a symbol's aggTrades: those of its 1m klines (a trade every
 * minute of the replica's data, published `lag` after the period ends, as `_agg_trades.ts`).
 */
function aggTradesPeriods(spec: SymbolSpec, kind: "daily" | "monthly", ctx: ListingContext) {
  return periodsOf(spec, "1m", kind, ctx);
}

/**
 * The published funding months of a contract (as `_funding.ts` serves them: a month is
 * published `lag.monthly` after it ends, and has no file without an event — which only an
 * edge month can lack).
 */
function fundingPeriods(spec: SymbolSpec, ctx: ListingContext): Period[] {
  const months = monthlyPeriods(spec, ctx);
  const has = (p: Period) => fundingMonthHasRows(spec, p.start, ctx.now);
  while (months.length > 0 && !has(months[0])) months.shift();
  while (months.length > 0 && !has(months[months.length - 1])) months.pop();
  return months;
}

/** Calendar months from the listing's, each published `lag.monthly` after its end. */
function monthlyPeriods(spec: SymbolSpec, ctx: ListingContext): Period[] {
  const out: Period[] = [];
  for (let t = monthStart(spec.listedAt); t < spec.delistedAt; t = monthStart(t, 1)) {
    const end = monthStart(t, 1);
    if (end + ctx.lag.monthly > ctx.now) break;
    out.push({ kind: "monthly", label: utcMonth(t), start: t, end });
  }
  return out;
}

/** Children of a directory path (ending in "/"), sorted; null when it does not exist. */
function children(dir: string, ctx: ListingContext): Child[] | null {
  const dirs = (names: string[]): Child[] => names.sort().map((name) => ({ name, dir: true }));
  if (dir === "") return dirs(["data"]);
  if (dir === "data/") return dirs(["futures", "spot"]);
  if (dir === "data/futures/") return dirs(["cm", "um"]);
  const parts = dir.split("/").slice(0, -1);
  const marketPrefix = parts[1] === "spot" ? "data/spot/" : `data/${parts[1]}/${parts[2]}/`;
  const market = MARKETS[marketPrefix];
  if (!market || !dir.startsWith(marketPrefix)) return null;
  const rest = dir.slice(marketPrefix.length).split("/").slice(0, -1);
  if (rest.length === 0) return dirs(["daily", "monthly"]);
  const kind = rest[0];
  if (kind !== "daily" && kind !== "monthly") return null;
  if (rest.length === 1) return dirs(listedDataTypes(market, kind));
  const type = rest[1];
  if (!listedDataTypes(market, kind).includes(type)) return null;
  if (type === "aggTrades" || type === "fundingRate") {
    // {type}/{SYMBOL}/{SYMBOL}-{type}-{period}.zip (no interval level).
    const periods = (spec: SymbolSpec) =>
      type === "aggTrades" ? aggTradesPeriods(spec, kind, ctx) : fundingPeriods(spec, ctx);
    if (rest.length === 2) {
      const listed = (s: SymbolSpec) =>
        type === "aggTrades" ? hasPeriods(s, "1m", kind, ctx) : periods(s).length > 0;
      return dirs(ctx.dataset.marketSpecs(market).filter(listed).map((s) => s.symbol));
    }
    const spec = ctx.dataset.spec(market, rest[2]);
    if (!spec || rest.length !== 3) return null;
    return files(periods(spec).map((p) => `${spec.symbol}-${type}-${p.label}.zip`));
  }
  const klineKind = kindOfDir(type)!;
  const intervalsOf = (spec: SymbolSpec): Interval[] =>
    ALL_INTERVALS.filter((iv) =>
      intervalPublished(market, iv, kind) && hasPeriods(spec, iv, kind, ctx)
    );
  if (rest.length === 2) {
    // Index price klines are per pair (BTCUSD_PERP and BTCUSD_250926 share BTCUSD).
    const names = ctx.dataset.marketSpecs(market).filter((s) => intervalsOf(s).length > 0)
      .map((s) => klineKindSymbol(klineKind, s.symbol));
    return dirs([...new Set(names)]);
  }
  const spec = kindSpec(ctx.dataset, market, klineKind, rest[2]);
  if (!spec) return null;
  if (rest.length === 3) return dirs(intervalsOf(spec).map(visionIntervalName));
  if (rest.length !== 4) return null;
  const interval = intervalsOf(spec).find((iv) => visionIntervalName(iv) === rest[3]);
  if (!interval) return null;
  return files(
    periodsOf(spec, interval, kind, ctx).map((p) => `${rest[2]}-${rest[3]}-${p.label}.zip`),
  );
}

/** Each zip with its CHECKSUM file after it (the keys' order). */
function files(zips: string[]): Child[] {
  return zips.flatMap((name) => [
    { name, dir: false },
    { name: name + ".CHECKSUM", dir: false },
  ]);
}

function describe(key: string, ctx: ListingContext): ListedObject {
  const ck = key.endsWith(".CHECKSUM");
  const zipKey = ck ? key.slice(0, -".CHECKSUM".length) : key;
  const parts = zipKey.split("/");
  const market: MarketType = parts[1] === "spot" ? "spot" : parts[2] as MarketType;
  const off = market === "spot" ? 0 : 1;
  const kind = parts[2 + off] as "daily" | "monthly";
  const type = parts[3 + off];
  const flat = type === "aggTrades" || type === "fundingRate";
  const file = parts[parts.length - 1];
  const label = file.slice(file.length - (kind === "daily" ? 14 : 11), -4);
  const start = Date.parse(kind === "daily" ? `${label}T00:00:00Z` : `${label}-01T00:00:00Z`);
  const period: Period = {
    kind,
    label,
    start,
    end: kind === "daily" ? start + DAY_MS : monthStart(start, 1),
  };
  const interval = flat
    ? "1m"
    : ALL_INTERVALS.find((iv) => visionIntervalName(iv) === parts[5 + off])!;
  const spec = flat
    ? ctx.dataset.spec(market, parts[4 + off])!
    : kindSpec(ctx.dataset, market, kindOfDir(type)!, parts[4 + off])!;
  // aggTrades and funding files are published `lag` after their period ends (as served).
  const published = flat
    ? period.end + (kind === "daily" ? ctx.lag.daily : ctx.lag.monthly)
    : publishedAt(spec, interval, period, ctx.lag) ?? period.end;
  if (ck) {
    return {
      key,
      lastModified: published,
      etag: ctx.checksumEtag(key),
      size: 64 + 2 + file.length + 1,
    };
  }
  if (flat) {
    // The served archive's ETag (the same function of key and seed); the size is an
    // estimate, as for klines not yet built: building a busy aggTrades day to list it
    // would take seconds.
    const rowsPerPeriod = type === "fundingRate" ? 93 : (period.end - period.start) / 60_000;
    return {
      key,
      lastModified: published,
      etag: ctx.checksumEtag(zipKey),
      size: 200 + rowsPerPeriod * 45,
    };
  }
  const d = ctx.describe(key, spec, interval, period, published);
  return { key, lastModified: published, etag: d.etag, size: d.size };
}

/** Runs a listing request. */
export function listObjects(req: ListRequest, ctx: ListingContext): {
  contents: ListedObject[];
  prefixes: string[];
  truncated: boolean;
  nextMarker?: string;
} {
  const slash = req.prefix.lastIndexOf("/");
  const dir = req.prefix.slice(0, slash + 1);
  const partial = req.prefix.slice(slash + 1);
  const rolled = req.delimiter === "/";
  const contents: ListedObject[] = [];
  const prefixes: string[] = [];
  let count = 0;
  let truncated = false;
  let last: string | undefined;
  const marker = req.marker;
  const emit = (entry: string, isPrefix: boolean): boolean => {
    if (entry <= marker) return true;
    if (count >= req.maxKeys) {
      truncated = true;
      return false;
    }
    count++;
    last = entry;
    if (isPrefix) prefixes.push(entry);
    else contents.push(describe(entry, ctx));
    return true;
  };
  // Depth-first in name order; names of directories carry their "/", which makes this order
  // the keys' lexicographic order.
  const walk = (path: string, filter: string): boolean => {
    const kids = children(path, ctx);
    if (!kids) return true;
    for (const k of kids) {
      const name = k.dir ? k.name + "/" : k.name;
      if (!name.startsWith(filter)) continue;
      const full = path + name;
      if (!k.dir) {
        if (!emit(full, false)) return false;
        continue;
      }
      if (rolled) {
        if (!emit(full, true)) return false;
        continue;
      }
      if (full < marker && !marker.startsWith(full)) continue;
      if (!walk(full, "")) return false;
    }
    return true;
  };
  if (req.maxKeys > 0) walk(dir, partial);
  return {
    contents,
    prefixes,
    truncated,
    nextMarker: rolled && truncated ? last : undefined,
  };
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Renders the ListBucketResult XML. */
export function listingXml(req: ListRequest, result: ReturnType<typeof listObjects>): string {
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?>\n`,
    `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
    `<Name>data.binance.vision</Name><Prefix>${esc(req.prefix)}</Prefix>`,
    `<Marker>${esc(req.marker)}</Marker>`,
  ];
  parts.push(`<MaxKeys>${req.maxKeys}</MaxKeys>`);
  if (req.delimiter) parts.push(`<Delimiter>${esc(req.delimiter)}</Delimiter>`);
  parts.push(`<IsTruncated>${result.truncated}</IsTruncated>`);
  // Element order as in binance_protocol.md §A3.
  if (result.nextMarker !== undefined) {
    parts.push(`<NextMarker>${esc(result.nextMarker)}</NextMarker>`);
  }
  for (const c of result.contents) {
    parts.push(
      `<Contents><Key>${esc(c.key)}</Key><LastModified>${
        new Date(c.lastModified).toISOString()
      }</LastModified><ETag>${esc(c.etag)}</ETag><Size>${c.size}</Size>` +
        `<StorageClass>STANDARD</StorageClass></Contents>`,
    );
  }
  for (const p of result.prefixes) {
    parts.push(`<CommonPrefixes><Prefix>${esc(p)}</Prefix></CommonPrefixes>`);
  }
  parts.push(`</ListBucketResult>`);
  return parts.join("");
}
