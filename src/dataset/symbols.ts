/**
 * Symbol discovery: which symbols the Vision archive holds for a market (its S3 listing),
 * enriched with trading status and quote asset from REST `exchangeInfo`, filtered by an
 * explicit list, a glob, quote assets and statuses.
 *
 * @module
 */
import {
  type Interval,
  marketCapabilities,
  type MarketType,
  visionIntervalName,
} from "../market.ts";
import { runLimited } from "../_worker_loop.ts";
import { RestDataClient } from "../rest/client.ts";
import { closeSymbolMatches } from "../rest/exchange_info.ts";
import { globMatcher, isGlob } from "./_glob.ts";
import { assertMarket, listingUrlOf, listLevel } from "./_s3_listing.ts";
import { SymbolSelectionError } from "./errors.ts";

/** A symbol the archive holds. */
export interface SymbolInfo {
  /** The symbol, e.g. `BTCUSDT`. */
  symbol: string;
  /** Trading status from `exchangeInfo` (`TRADING`, `BREAK`, …); absent when not listed there. */
  status?: string;
  /** Base asset (from `exchangeInfo`). */
  baseAsset?: string;
  /** Quote asset: from `exchangeInfo`, else inferred from a known suffix (`USDT`, `BTC`, …). */
  quoteAsset?: string;
}

/** Options for {@linkcode listSymbols}. */
export interface ListSymbolsOptions {
  /** Market: `spot`, `um` or `cm`. */
  marketType: MarketType;
  /** Keep only symbols with archives of this interval (one listing request per symbol). */
  interval?: Interval;
  /** `"all"` (default), a glob (`*USDT`, `BTC?USDT`), or explicit symbols (each must exist). */
  symbols?: string | readonly string[];
  /** Keep only these quote assets (e.g. `USDT`). */
  quoteAsset?: string | readonly string[];
  /** Keep only these `exchangeInfo` statuses (e.g. `TRADING`). */
  status?: string | readonly string[];
  /** Ask `exchangeInfo` for status and quote asset. @default {true} */
  exchangeInfo?: boolean;
  /**
   * The S3 listing endpoint. @default {Binance's S3 bucket; `${visionUrl}/data.binance.vision`
   * when `visionUrl` is given (the replica's layout)}
   */
  listingUrl?: string;
  /** The Vision archive base URL (only used to derive `listingUrl`). */
  visionUrl?: string;
  /** REST base URL for `exchangeInfo`. @default {the market's} */
  restUrl?: string;
  /** Entries per listing page to ask for. @default {1000} */
  maxKeys?: number;
  /** Aborts the discovery. */
  signal?: AbortSignal;
}

const QUOTES = ["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USD", "BTC", "ETH", "BNB", "EUR", "TRY"];

function quoteBySuffix(symbol: string): string | undefined {
  const base = symbol.split("_")[0];
  return QUOTES.find((q) => base.endsWith(q) && base.length > q.length);
}

const asList = (v: string | readonly string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : (typeof v === "string" ? v.split(",") : [...v])
    .map((s) => s.trim().toUpperCase()).filter(Boolean);

/**
 * The symbols the Vision archive holds for a market (daily and monthly kline folders, every
 * listing page), filtered and sorted by name.
 *
 * Throws {@linkcode UnknownMarketError} for a bad market and {@linkcode SymbolSelectionError}
 * when a glob matches nothing or an explicit symbol is not in the archive (listing what
 * exists).
 *
 * @example
 * ```ts ignore
 * import { listSymbols } from "@vision-data/client/dataset";
 * const usdt = await listSymbols({ marketType: "spot", symbols: "*USDT", status: "TRADING" });
 * console.log(usdt.map((s) => s.symbol));
 * ```
 */
export async function listSymbols(options: ListSymbolsOptions): Promise<SymbolInfo[]> {
  const market: string = options.marketType;
  assertMarket(market);
  const signal = options.signal ?? new AbortController().signal;
  const listingUrl = listingUrlOf(options);
  const root = `data/${marketCapabilities(market).visionPrefix}`;
  const levels = await Promise.all(
    ["daily", "monthly"].map((kind) =>
      listLevel(listingUrl, `${root}/${kind}/klines/`, { signal, maxKeys: options.maxKeys })
    ),
  );
  const names = new Set<string>();
  for (const level of levels) {
    for (const p of level.prefixes) names.add(p.slice(0, -1).split("/").at(-1)!);
  }
  const archived = [...names].sort();
  let selected = selectNames(archived, options.symbols, market);

  const infos = new Map<string, SymbolInfo>(
    selected.map((s) => [s, { symbol: s, quoteAsset: quoteBySuffix(s) }]),
  );
  if (options.exchangeInfo !== false && selected.length > 0) {
    await using rest = new RestDataClient({ marketType: market, baseUrl: options.restUrl });
    const info = await rest.exchangeInfo({ signal });
    for (const s of info.symbols) {
      const known = infos.get(s.symbol);
      if (!known) continue;
      const status = s.status ?? s.contractStatus;
      if (status) known.status = status;
      if (s.baseAsset) known.baseAsset = s.baseAsset;
      if (s.quoteAsset) known.quoteAsset = s.quoteAsset;
    }
  }
  const quotes = asList(options.quoteAsset);
  const statuses = asList(options.status);
  selected = selected.filter((s) => {
    const i = infos.get(s)!;
    return (!quotes || quotes.includes(i.quoteAsset ?? "")) &&
      (!statuses || statuses.includes(i.status ?? ""));
  });
  if (options.interval) {
    const iv = visionIntervalName(options.interval);
    const has = await runLimited(
      selected.map((s) => async (sig: AbortSignal) => {
        for (const kind of ["monthly", "daily"]) {
          const level = await listLevel(listingUrl, `${root}/${kind}/klines/${s}/`, {
            signal: sig,
            maxKeys: options.maxKeys,
          });
          if (level.prefixes.some((p) => p.endsWith(`/${iv}/`))) return true;
        }
        return false;
      }),
      8,
      signal,
    );
    selected = selected.filter((_, i) => has[i]);
  }
  return selected.map((s) => infos.get(s)!);
}

/** Applies the name selection: all, a glob (must match), or explicit names (must exist). */
function selectNames(
  archived: string[],
  selection: string | readonly string[] | undefined,
  market: string,
): string[] {
  const list = asList(selection);
  if (!list || (list.length === 1 && list[0] === "ALL")) return archived;
  const out = new Set<string>();
  for (const item of list) {
    if (isGlob(item)) {
      const match = globMatcher(item);
      const hits = archived.filter(match);
      if (hits.length === 0) throw new SymbolSelectionError(item, market, archived);
      hits.forEach((h) => out.add(h));
    } else if (archived.includes(item)) {
      out.add(item);
    } else {
      const close = closeSymbolMatches(item, archived);
      const hint = close.length ? ` (did you mean ${close.join(", ")}?)` : "";
      throw new SymbolSelectionError(item, market, archived, hint);
    }
  }
  return [...out].sort();
}
