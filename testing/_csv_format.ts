/**
 * The replica's kline CSV writer. It reproduces Binance Vision's bytes: fixed decimals per
 * column and market, `\n` line ends, an optional header, and ms or µs timestamps.
 *
 * @module
 */
import type { KlineColumns } from "../src/columns.ts";
import type { MarketType } from "../src/market.ts";
import { AsciiWriter, putDecimal, putUint } from "./_ascii.ts";

const decoder = new TextDecoder();

/** Decimal places of each decimal CSV column. */
export interface CsvDecimals {
  /** open, high, low, close. */
  price: number;
  /** volume (COIN-M: contracts). */
  volume: number;
  /** quote_volume (COIN-M: base asset volume). */
  quoteVolume: number;
  /** taker_buy_volume. */
  takerBuyBaseVolume: number;
  /** taker_buy_quote_volume. */
  takerBuyQuoteVolume: number;
}

/**
 * Default decimals per market, as seen in real archives: spot prints every decimal with 8
 * places; USDⓈ-M BTCUSDT uses 2 (prices), 3 (volumes), 5 (quote volumes); COIN-M
 * BTCUSD_PERP uses 1 (prices), 0 (contracts), 8 (base-asset volumes).
 *
 * @example
 * ```ts
 * import { MARKET_DECIMALS } from "@vision-data/client/testing";
 * MARKET_DECIMALS.um.quoteVolume; // 5
 * ```
 */
export const MARKET_DECIMALS: Readonly<Record<MarketType, Readonly<CsvDecimals>>> = {
  spot: { price: 8, volume: 8, quoteVolume: 8, takerBuyBaseVolume: 8, takerBuyQuoteVolume: 8 },
  um: { price: 2, volume: 3, quoteVolume: 5, takerBuyBaseVolume: 3, takerBuyQuoteVolume: 5 },
  cm: { price: 1, volume: 0, quoteVolume: 8, takerBuyBaseVolume: 0, takerBuyQuoteVolume: 8 },
};

/**
 * The header line futures archives carry from 2022 on (without the trailing newline).
 *
 * @example
 * ```ts
 * import { KLINE_CSV_HEADER } from "@vision-data/client/testing";
 * KLINE_CSV_HEADER.startsWith("open_time,"); // true
 * ```
 */
export const KLINE_CSV_HEADER =
  "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore";

/**
 * Formats `x` with exactly `dp` decimals. For a double parsed from a `dp`-decimal string this
 * returns that string again (the round trip the archive fidelity tests rely on).
 *
 * @example
 * ```ts
 * import { formatDecimal } from "@vision-data/client/testing";
 * formatDecimal(12256155.25625, 5); // "12256155.25625"
 * ```
 */
export function formatDecimal(x: number, dp: number): string {
  const w = new AsciiWriter(32);
  w.decimal(x, dp);
  return decoder.decode(w.bytes());
}

/** Options for {@linkcode formatKlineCsv}. */
export interface FormatCsvOptions {
  /** Market whose default decimals apply. @default {"spot"} */
  marketType?: MarketType;
  /** Per-column decimals; overrides the market's defaults. */
  decimals?: Partial<CsvDecimals>;
  /** Unit written for open/close times (columns are always ms). @default {"ms"} */
  timeUnit?: "ms" | "us";
  /** Write {@linkcode KLINE_CSV_HEADER} first. @default {false} */
  header?: boolean;
  /** Rows `[from, to)` of the columns to write. @default {all rows} */
  from?: number;
  /** End row (exclusive). */
  to?: number;
}

/**
 * Resolves a market's decimals with overrides.
 *
 * @example
 * ```ts
 * import { resolveDecimals } from "@vision-data/client/testing";
 * resolveDecimals("cm", { price: 2 }).price; // 2
 * ```
 */
export function resolveDecimals(
  marketType: MarketType = "spot",
  overrides: Partial<CsvDecimals> = {},
): CsvDecimals {
  return { ...MARKET_DECIMALS[marketType], ...overrides };
}

/** µs value of a ms time; a fractional ms (a parser that divided µs by 1000) is kept. */
function toMicros(ms: number, isClose: boolean): number {
  if (Number.isInteger(ms)) return ms * 1000 + (isClose ? 999 : 0);
  return Math.round(ms * 1000);
}

/**
 * Formats kline columns as Binance Vision CSV bytes, row by row (rows may mix intervals: the
 * close time is written from its column, never recomputed).
 *
 * @example
 * ```ts
 * import { formatKlineCsv } from "@vision-data/client/testing";
 * const one = (v: number) => new Float64Array([v]);
 * const csv = formatKlineCsv({
 *   openTime: one(0), open: one(1), high: one(1), low: one(1), close: one(1), volume: one(0),
 *   closeTime: one(59999), quoteVolume: one(0), trades: one(0), takerBuyBaseVolume: one(0),
 *   takerBuyQuoteVolume: one(0),
 * }, { marketType: "um" });
 * new TextDecoder().decode(csv); // "0,1.00,1.00,1.00,1.00,0.000,59999,0.00000,0,0.000,0.00000,0\n"
 * ```
 */
export function formatKlineCsv(columns: KlineColumns, options: FormatCsvOptions = {}): Uint8Array {
  const from = options.from ?? 0;
  const to = options.to ?? columns.openTime.length;
  const out = new AsciiWriter((to - from) * ROW_BOUND + 128);
  writeKlineCsv(out, columns, options);
  return out.bytes();
}

// Room one row needs on the fast path (12 fields of at most 17 digits, a point, a comma);
// a field that takes the exact slow path makes room for itself.
const ROW_BOUND = 256;

/**
 * Appends kline rows as Binance Vision CSV to `w` (the loop behind {@linkcode formatKlineCsv},
 * for callers that reuse one buffer across many pieces). Digits go straight into the buffer.
 */
export function writeKlineCsv(
  w: AsciiWriter,
  columns: KlineColumns,
  options: FormatCsvOptions = {},
): void {
  const d = resolveDecimals(options.marketType, options.decimals);
  const us = options.timeUnit === "us";
  const from = options.from ?? 0;
  const to = options.to ?? columns.openTime.length;
  const c = columns;
  if (options.header) w.text(KLINE_CSV_HEADER + "\n");
  w.ensure((to - from) * ROW_BOUND);
  const dp = d.price, dv = d.volume, dq = d.quoteVolume;
  const dtv = d.takerBuyBaseVolume, dtq = d.takerBuyQuoteVolume;
  for (let i = from; i < to; i++) {
    w.ensure(ROW_BOUND);
    let b = w.buf;
    let p = w.pos;
    const open = us ? toMicros(c.openTime[i], false) : c.openTime[i];
    const close = us ? toMicros(c.closeTime[i], true) : c.closeTime[i];
    const trades = c.trades[i];
    if (
      !(Number.isSafeInteger(open) && open >= 0 && Number.isSafeInteger(close) && close >= 0 &&
        Number.isSafeInteger(trades) && trades >= 0)
    ) {
      slowRow(w, c, i, d, us);
      continue;
    }
    p = putUint(b, p, open);
    b[p++] = 44;
    p = field(w, b, p, c.open[i], dp);
    b = w.buf;
    p = field(w, b, p, c.high[i], dp);
    b = w.buf;
    p = field(w, b, p, c.low[i], dp);
    b = w.buf;
    p = field(w, b, p, c.close[i], dp);
    b = w.buf;
    p = field(w, b, p, c.volume[i], dv);
    b = w.buf;
    p = putUint(b, p, close);
    b[p++] = 44;
    p = field(w, b, p, c.quoteVolume[i], dq);
    b = w.buf;
    p = putUint(b, p, trades);
    b[p++] = 44;
    p = field(w, b, p, c.takerBuyBaseVolume[i], dtv);
    b = w.buf;
    p = field(w, b, p, c.takerBuyQuoteVolume[i], dtq);
    b = w.buf;
    b[p++] = 48; // the "ignore" column
    b[p++] = 10;
    w.pos = p;
  }
}

/** One decimal field and its comma at `p`; the exact slow path through `w` when needed. */
function field(w: AsciiWriter, b: Uint8Array, p: number, x: number, dp: number): number {
  const end = putDecimal(b, p, x, dp);
  if (end >= 0) {
    b[end] = 44;
    return end + 1;
  }
  w.pos = p;
  w.text(x.toFixed(dp) + ",");
  w.ensure(ROW_BOUND);
  return w.pos;
}

/** A row with a negative or unsafe integer field, written field by field. */
function slowRow(w: AsciiWriter, c: KlineColumns, i: number, d: CsvDecimals, us: boolean): void {
  w.integer(us ? toMicros(c.openTime[i], false) : c.openTime[i]);
  w.byte(44);
  w.decimal(c.open[i], d.price);
  w.byte(44);
  w.decimal(c.high[i], d.price);
  w.byte(44);
  w.decimal(c.low[i], d.price);
  w.byte(44);
  w.decimal(c.close[i], d.price);
  w.byte(44);
  w.decimal(c.volume[i], d.volume);
  w.byte(44);
  w.integer(us ? toMicros(c.closeTime[i], true) : c.closeTime[i]);
  w.byte(44);
  w.decimal(c.quoteVolume[i], d.quoteVolume);
  w.byte(44);
  w.integer(c.trades[i]);
  w.byte(44);
  w.decimal(c.takerBuyBaseVolume[i], d.takerBuyBaseVolume);
  w.byte(44);
  w.decimal(c.takerBuyQuoteVolume[i], d.takerBuyQuoteVolume);
  w.text(",0\n");
}

/**
 * Formats kline columns as Binance Vision CSV text (see {@linkcode formatKlineCsv}).
 *
 * @example
 * ```ts
 * import { formatKlineCsvText } from "@vision-data/client/testing";
 * const one = (v: number) => new Float64Array([v]);
 * formatKlineCsvText({
 *   openTime: one(0), open: one(1), high: one(1), low: one(1), close: one(1), volume: one(0),
 *   closeTime: one(59999), quoteVolume: one(0), trades: one(0), takerBuyBaseVolume: one(0),
 *   takerBuyQuoteVolume: one(0),
 * }, { marketType: "um" });
 * // "0,1.00,1.00,1.00,1.00,0.000,59999,0.00000,0,0.000,0.00000,0\n"
 * ```
 */
export function formatKlineCsvText(columns: KlineColumns, options: FormatCsvOptions = {}): string {
  return decoder.decode(formatKlineCsv(columns, options));
}
