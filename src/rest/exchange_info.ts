/**
 * Typed `exchangeInfo` answers and symbol suggestions.
 *
 * @module
 */
import { MalformedResponseError } from "../errors.ts";

/**
 * One listed symbol. Spot reports `status`; USDⓈ-M `status`, `contractType`,
 * `onboardDate`; COIN-M `contractStatus`, `contractType`, `onboardDate`.
 */
export interface ExchangeSymbol {
  /** The symbol, e.g. `BTCUSDT` or `BTCUSD_PERP`. */
  symbol: string;
  /** Trading status (spot, USDⓈ-M), e.g. `TRADING`, `BREAK`. */
  status?: string;
  /** Contract status (COIN-M), e.g. `TRADING`. */
  contractStatus?: string;
  /** Contract type (futures), e.g. `PERPETUAL`, `CURRENT_QUARTER`. */
  contractType?: string;
  /** Listing time, epoch ms (futures). */
  onboardDate?: number;
  /** Base asset. */
  baseAsset?: string;
  /** Quote asset. */
  quoteAsset?: string;
  /** Underlying pair (futures), e.g. `BTCUSD`. */
  pair?: string;
}

/** A market's `exchangeInfo`, reduced to what this library uses. */
export interface ExchangeInfo {
  /** Server timezone, usually `UTC`. */
  timezone?: string;
  /** Server time, epoch ms. */
  serverTime?: number;
  /** Every listed symbol. */
  symbols: ExchangeSymbol[];
}

const STRING_FIELDS = [
  "status",
  "contractStatus",
  "contractType",
  "baseAsset",
  "quoteAsset",
  "pair",
] as const;

/**
 * Validates and narrows a parsed `exchangeInfo` body.
 *
 * @example
 * ```ts
 * import { parseExchangeInfo } from "@vision-data/client/rest";
 * parseExchangeInfo({ symbols: [{ symbol: "BTCUSDT", status: "TRADING" }] }, "x").symbols.length; // 1
 * ```
 */
export function parseExchangeInfo(body: unknown, url: string): ExchangeInfo {
  const b = body as { timezone?: unknown; serverTime?: unknown; symbols?: unknown } | null;
  if (!b || typeof b !== "object" || !Array.isArray(b.symbols)) {
    throw new MalformedResponseError(url, "exchangeInfo: expected an object with a symbols array");
  }
  const symbols: ExchangeSymbol[] = [];
  b.symbols.forEach((raw: unknown, i: number) => {
    const r = raw as Record<string, unknown> | null;
    if (!r || typeof r !== "object" || typeof r.symbol !== "string") {
      throw new MalformedResponseError(url, `exchangeInfo: symbols[${i}] has no symbol string`);
    }
    const s: ExchangeSymbol = { symbol: r.symbol };
    for (const f of STRING_FIELDS) if (typeof r[f] === "string") s[f] = r[f] as string;
    if (typeof r.onboardDate === "number") s.onboardDate = r.onboardDate;
    symbols.push(s);
  });
  const info: ExchangeInfo = { symbols };
  if (typeof b.timezone === "string") info.timezone = b.timezone;
  if (typeof b.serverTime === "number") info.serverTime = b.serverTime;
  return info;
}

/**
 * Up to `max` listed symbols closest to `symbol` (edit distance, then shared prefix), for
 * "did you mean" messages.
 *
 * @example
 * ```ts
 * import { closeSymbolMatches } from "@vision-data/client/rest";
 * closeSymbolMatches("BTCUSD", ["BTCUSDT", "ETHUSDT", "BTCBUSD"]); // ["BTCUSDT", "BTCBUSD", …]
 * ```
 */
export function closeSymbolMatches(
  symbol: string,
  candidates: readonly string[],
  max = 3,
): string[] {
  const limit = Math.max(2, Math.ceil(symbol.length / 3));
  return candidates
    .map((c) => ({ c, d: editDistance(symbol, c), p: sharedPrefix(symbol, c) }))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d || b.p - a.p || (a.c < b.c ? -1 : 1))
    .slice(0, max)
    .map((x) => x.c);
}

function sharedPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Optimal-string-alignment distance: a swap of two neighbours (a common typo) costs 1. */
function editDistance(a: string, b: string): number {
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        cur[j] = Math.min(cur[j], prev2[j - 2] + 1);
      }
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length];
}
