/**
 * The replica's one dataset: deterministic synthetic klines (a seeded price path keyed by
 * market + symbol, candles hashed from their open time, so any range is generated on its own
 * and always agrees with any other range), with real CSV days mounted on top.
 *
 * @module
 */
import { type Interval, intervalMs, marketCapabilities, type MarketType } from "../src/market.ts";
import { DAY_MS, monthStart, toEpochMs } from "../src/time.ts";
import { allocateColumns, type KlineColumns } from "../src/columns.ts";
import { type AsciiWriter, POW10 } from "./_ascii.ts";
import { concatColumns, lowerBound, sliceColumns } from "./_columns.ts";
import {
  type CsvDecimals,
  formatKlineCsv,
  KLINE_CSV_HEADER,
  resolveDecimals,
  writeKlineCsv,
} from "./_csv_format.ts";
import { readKlineCsv } from "./_csv_read.ts";
import type { KlineKind } from "../src/kline_kind.ts";
import { kindColumns, kindDecimals } from "./_kinds.ts";

/** A symbol the replica lists. */
export interface ReplicaSymbol {
  /** Symbol, upper case (`BTCUSDT`, `BTCUSD_PERP`). */
  symbol: string;
  /** Market it trades on. */
  marketType: MarketType;
  /** First trading moment (epoch ms or ISO-8601); no candle closes at or before it. */
  listedAt: number | string;
  /** Trading stops here (exclusive); no candle opens at or after it. */
  delistedAt?: number | string;
  /** Base asset; derived from the symbol by default. */
  baseAsset?: string;
  /** Quote asset; derived from the symbol by default. */
  quoteAsset?: string;
  /** Reference price the synthetic path wanders around (±~40 %). */
  price?: number;
  /** CSV/REST decimals; the market's defaults otherwise. */
  decimals?: Partial<CsvDecimals>;
  /** Typical quote-asset turnover per minute (COIN-M: USD). */
  quotePerMinute?: number;
  /** Futures contract type. @default {"PERPETUAL"} */
  contractType?: string;
}

/** A real CSV day served byte-for-byte in place of synthetic data. */
export interface MountedFixture {
  /** Market. */
  marketType: MarketType;
  /** Symbol, upper case. */
  symbol: string;
  /** Interval of the rows. */
  interval: Interval;
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  /** The exact CSV bytes of the daily archive's entry. */
  csv: Uint8Array;
}

/** Which archives carry a header / µs times. */
export interface CsvRules {
  /** Futures files of periods starting on or after this carry the header. @default {"2022-01-01"} */
  futuresHeaderFrom?: number | string;
  /** Spot files of periods starting on or after this use µs. @default {"2025-01-01"} */
  spotMicrosFrom?: number | string;
}

/**
 * The default symbols: spot BTCUSDT (listed 2017-08-17T04:00Z), ETHUSDT, ADABTC; USDⓈ-M
 * BTCUSDT (2019-09-08), ETHUSDT; COIN-M BTCUSD_PERP (2020-08-10), ETHUSD_PERP.
 *
 * @example
 * ```ts
 * import { DEFAULT_SYMBOLS } from "@vision-data/client/testing";
 * DEFAULT_SYMBOLS.filter((s) => s.marketType === "spot").length; // 3
 * ```
 */
export const DEFAULT_SYMBOLS: readonly ReplicaSymbol[] = [
  { symbol: "BTCUSDT", marketType: "spot", listedAt: "2017-08-17T04:00:00Z", price: 30000 },
  { symbol: "ETHUSDT", marketType: "spot", listedAt: "2017-08-17T04:00:00Z", price: 2000 },
  { symbol: "ADABTC", marketType: "spot", listedAt: "2017-10-01T00:00:00Z", price: 0.00002 },
  { symbol: "BTCUSDT", marketType: "um", listedAt: "2019-09-08T00:00:00Z", price: 30000 },
  { symbol: "ETHUSDT", marketType: "um", listedAt: "2019-11-27T00:00:00Z", price: 2000 },
  { symbol: "BTCUSD_PERP", marketType: "cm", listedAt: "2020-08-10T00:00:00Z", price: 30000 },
  {
    symbol: "ETHUSD_PERP",
    marketType: "cm",
    listedAt: "2020-08-14T00:00:00Z",
    price: 2000,
    decimals: { price: 2 },
  },
];

const QUOTES = ["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "USD"];
const KNOWN_PRICES: Record<string, number> = {
  BTC: 30000,
  ETH: 2000,
  BNB: 300,
  SOL: 100,
  ADA: 0.4,
  XRP: 0.5,
  DOGE: 0.1,
  EUR: 1.1,
  TRY: 0.05,
};
const STABLE = new Set(["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USD"]);

/** A symbol with everything the generator needs precomputed. */
export interface SymbolSpec {
  symbol: string;
  marketType: MarketType;
  listedAt: number;
  delistedAt: number;
  baseAsset: string;
  quoteAsset: string;
  contractType: string;
  price: number;
  decimals: CsvDecimals;
  /** Price tick in units of 10^-decimals.price. */
  tickUnits: number;
  /** Lot step in units of 10^-decimals.volume. */
  lotUnits: number;
  quotePerMinute: number;
  contractSize: number;
  key: number;
}

// ---- hashing: small integer mixers, fast and good enough for a synthetic market ----
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}
/** FNV-1a of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
function timeHash(key: number, t: number): number {
  const lo = t >>> 0;
  const hi = Math.floor(t / 4294967296);
  return mix(mix(key ^ lo) ^ Math.imul(hi + 0x632be5ab, 0x85ebca6b));
}
const U = 1 / 4294967296;

// Value-noise octaves of the log price: [knot spacing ms, amplitude].
const OCTAVES: readonly [number, number][] = [
  [180_000, 0.0012],
  [37 * 60_000, 0.003],
  [7 * 3_600_000, 0.01],
  [5 * DAY_MS, 0.04],
  [61 * DAY_MS, 0.12],
  [397 * DAY_MS, 0.3],
];
const OCTAVE_SALT = OCTAVES.map((_, j) => mix(0x51ed270b + j * 0x2545f491));

/**
 * The mid price path of one symbol, evaluated along a series of candles: the value noise
 * knots of each octave are kept while `t` stays between them (a 1s series crosses the finest
 * knot every 180 candles), and the last value is kept because a candle's close time is the
 * next one's open. The arithmetic does not depend on what is kept, so any range
 * gives the same values.
 */
class MidPath {
  readonly #key: number;
  readonly #price: number;
  readonly #k = new Float64Array(OCTAVES.length).fill(NaN);
  readonly #v0 = new Float64Array(OCTAVES.length);
  readonly #v1 = new Float64Array(OCTAVES.length);
  #lastT = NaN;
  #last = 0;

  constructor(key: number, price: number) {
    this.#key = key;
    this.#price = price;
  }

  logMid(t: number): number {
    let s = 0;
    for (let j = 0; j < OCTAVES.length; j++) {
      const [spacing, amp] = OCTAVES[j];
      const x = t / spacing;
      const k = Math.floor(x);
      let f = x - k;
      f = f * f * (3 - 2 * f);
      if (this.#k[j] !== k) {
        const salt = this.#key ^ OCTAVE_SALT[j];
        this.#k[j] = k;
        this.#v0[j] = mix(salt ^ Math.imul(k, 0x27d4eb2d)) * U;
        this.#v1[j] = mix(salt ^ Math.imul(k + 1, 0x27d4eb2d)) * U;
      }
      const v0 = this.#v0[j];
      s += amp * ((v0 + (this.#v1[j] - v0) * f) * 2 - 1);
    }
    return s;
  }

  /** `price · e^logMid(t)`. */
  mid(t: number): number {
    if (t !== this.#lastT) {
      this.#lastT = t;
      this.#last = this.#price * Math.exp(this.logMid(t));
    }
    return this.#last;
  }
}

/** Open time of the candle containing `t`. */
export function floorOpen(interval: Interval, t: number): number {
  if (interval === "1M") return monthStart(t);
  const len = intervalMs(interval);
  // Weekly candles open on Mondays (1970-01-05 was one); others align to the epoch.
  const off = interval === "1w" ? 4 * DAY_MS : 0;
  return off + Math.floor((t - off) / len) * len;
}

/** Open time of the first candle opening at or after `t`. */
export function ceilOpen(interval: Interval, t: number): number {
  const f = floorOpen(interval, t);
  return f === t ? t : f + intervalMs(interval, f);
}

function splitSymbol(symbol: string, market: MarketType): [string, string] {
  const pair = symbol.split("_")[0];
  if (market === "cm" && pair.endsWith("USD")) return [pair.slice(0, -3), "USD"];
  for (const q of QUOTES) {
    if (pair.length > q.length && pair.endsWith(q)) return [pair.slice(0, -q.length), q];
  }
  return [pair.slice(0, Math.ceil(pair.length / 2)), pair.slice(Math.ceil(pair.length / 2))];
}

function usdPrice(asset: string, key: number): number {
  if (STABLE.has(asset)) return 1;
  return KNOWN_PRICES[asset] ?? 10 ** (1 + (key % 3));
}

/** Builds a {@linkcode SymbolSpec}. */
export function symbolSpec(s: ReplicaSymbol, seed: number): SymbolSpec {
  const symbol = s.symbol.toUpperCase();
  marketCapabilities(s.marketType);
  const key = mix(hashString(`${seed}|${s.marketType}|${symbol}`));
  const [base, quote] = splitSymbol(symbol, s.marketType);
  const baseAsset = s.baseAsset ?? base;
  const quoteAsset = s.quoteAsset ?? quote;
  const price = s.price ?? usdPrice(baseAsset, key) / usdPrice(quoteAsset, key >>> 3);
  const decimals = resolveDecimals(s.marketType, s.decimals);
  const mag = Math.floor(Math.log10(price));
  const minTick = 10 ** -decimals.price;
  const tick = s.marketType === "cm"
    ? minTick
    : Math.max(minTick, 10 ** (mag - (s.marketType === "spot" ? 6 : 5)));
  const lot = s.marketType === "cm"
    ? 1
    : s.marketType === "um"
    ? Math.max(10 ** -decimals.volume, 10 ** Math.min(0, -mag))
    : 10 ** -Math.min(8, Math.max(0, mag + 1));
  const quotePerMinute = s.quotePerMinute ??
    (STABLE.has(quoteAsset) ? 4e5 : 4e5 / usdPrice(quoteAsset, key));
  return {
    symbol,
    marketType: s.marketType,
    listedAt: toEpochMs(s.listedAt, "listedAt"),
    delistedAt: s.delistedAt === undefined ? Infinity : toEpochMs(s.delistedAt, "delistedAt"),
    baseAsset,
    quoteAsset,
    contractType: s.contractType ?? "PERPETUAL",
    price,
    decimals,
    tickUnits: Math.max(1, Math.round(tick * POW10[decimals.price])),
    lotUnits: Math.max(1, Math.round(lot * POW10[decimals.volume])),
    quotePerMinute,
    contractSize: baseAsset === "BTC" ? 100 : 10,
    key,
  };
}

interface Fixture {
  bytes: Uint8Array;
  columns: KlineColumns;
  header: boolean;
  dataOffset: number;
  dayStart: number;
}

/** Rows of a range, and where they came from. */
export interface RowsQuery {
  spec: SymbolSpec;
  interval: Interval;
  /** Inclusive open-time bound. */
  start: number;
  /** Exclusive open-time bound. */
  end: number;
  /** Replica now: candles opening after it never exist; the candle containing it is live. */
  now: number;
  /** Include the live candle containing `now` (REST) — otherwise only closed candles. */
  includeLive?: boolean;
  /** Mark/index/premium klines, derived from the trade candles. @default {"trades"} */
  kind?: KlineKind;
}

/** The dataset behind both the archive and the REST API. */
export class Dataset {
  readonly seed: number;
  readonly specs: Map<string, SymbolSpec> = new Map();
  readonly #fixtures = new Map<string, Fixture>();
  readonly #fixtureIntervals = new Set<string>();
  readonly futuresHeaderFrom: number;
  readonly spotMicrosFrom: number;

  constructor(
    symbols: readonly ReplicaSymbol[],
    seed: number,
    fixtures: readonly MountedFixture[] = [],
    rules: CsvRules = {},
  ) {
    this.seed = seed;
    this.futuresHeaderFrom = toEpochMs(rules.futuresHeaderFrom ?? "2022-01-01T00:00:00Z");
    this.spotMicrosFrom = toEpochMs(rules.spotMicrosFrom ?? "2025-01-01T00:00:00Z");
    for (const s of symbols) {
      const spec = symbolSpec(s, seed);
      this.specs.set(`${spec.marketType}|${spec.symbol}`, spec);
    }
    for (const f of fixtures) this.#mount(f);
  }

  #mount(f: MountedFixture): void {
    const symbol = f.symbol.toUpperCase();
    const dayStart = toEpochMs(f.day + "T00:00:00Z", "fixture day");
    const file = `${symbol}-${f.interval}-${f.day}.csv`;
    const read = readKlineCsv(f.csv, file);
    const c = read.columns;
    for (let i = 0; i < c.openTime.length; i++) {
      if (c.openTime[i] < dayStart || c.openTime[i] >= dayStart + DAY_MS) {
        throw new RangeError(`${file}: row ${i + 1} opens outside ${f.day}`);
      }
    }
    if (intervalMs(f.interval) > DAY_MS) {
      throw new RangeError(`Fixtures are days; interval ${f.interval} has no daily archives`);
    }
    const specKey = `${f.marketType}|${symbol}`;
    if (!this.specs.has(specKey)) {
      const first = c.openTime.length > 0 ? c.openTime[0] : dayStart;
      this.specs.set(
        specKey,
        symbolSpec({ symbol, marketType: f.marketType, listedAt: first }, this.seed),
      );
    }
    this.#fixtures.set(`${specKey}|${f.interval}|${dayStart}`, {
      bytes: f.csv,
      columns: c,
      header: read.header,
      dataOffset: read.dataOffset,
      dayStart,
    });
    this.#fixtureIntervals.add(`${specKey}|${f.interval}`);
  }

  /** The symbol's spec, or undefined when the market does not list it. */
  spec(market: MarketType, symbol: string): SymbolSpec | undefined {
    return this.specs.get(`${market}|${symbol}`);
  }

  /** Specs of one market, sorted by symbol. */
  marketSpecs(market: MarketType): SymbolSpec[] {
    return [...this.specs.values()].filter((s) => s.marketType === market)
      .sort((a, b) => a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);
  }

  /** The mounted fixture for a day, if any. */
  fixture(spec: SymbolSpec, interval: Interval, dayStart: number): Fixture | undefined {
    if (!this.#fixtureIntervals.has(`${spec.marketType}|${spec.symbol}|${interval}`)) return;
    return this.#fixtures.get(`${spec.marketType}|${spec.symbol}|${interval}|${dayStart}`);
  }

  /** Rows whose open time lies in `[start, end)`, sorted, fixture days substituted. */
  rows(q: RowsQuery): KlineColumns {
    if (q.kind && q.kind !== "trades") {
      return kindColumns(this.rows({ ...q, kind: undefined }), q.kind, q.spec);
    }
    const { spec, interval } = q;
    const hasFixtures = this.#fixtureIntervals.has(`${spec.marketType}|${spec.symbol}|${interval}`);
    if (!hasFixtures) return this.#synthetic(q);
    const parts: KlineColumns[] = [];
    let t = q.start;
    while (t < q.end) {
      const day = Math.floor(t / DAY_MS) * DAY_MS;
      const segEnd = Math.min(q.end, day + DAY_MS);
      const fx = this.fixture(spec, interval, day);
      if (fx) {
        const c = fx.columns;
        let a = lowerBound(c.openTime, t);
        let b = lowerBound(c.openTime, segEnd);
        // Real rows are closed candles; none opens after now.
        while (b > a && c.openTime[b - 1] + intervalMs(interval, c.openTime[b - 1]) > q.now) b--;
        a = Math.min(a, b);
        if (b > a) parts.push(sliceColumns(c, a, b));
      } else {
        parts.push(this.#synthetic({ ...q, start: t, end: segEnd }));
      }
      t = segEnd;
    }
    return parts.length === 0 ? allocateColumns(0) : concatColumns(parts);
  }

  #synthetic(q: RowsQuery): KlineColumns {
    const { spec, interval, now } = q;
    const first = Math.max(ceilOpen(interval, q.start), floorOpen(interval, spec.listedAt));
    const endOpen = Math.min(q.end, spec.delistedAt);
    // Count first so the columns are allocated once.
    let n = 0;
    const fixed = interval !== "1M";
    const len = fixed ? intervalMs(interval) : 0;
    const opensBefore = (t: number): boolean => {
      if (t >= endOpen) return false;
      const l = fixed ? len : intervalMs(interval, t);
      return q.includeLive ? t <= now : t + l <= now;
    };
    if (fixed) {
      let last = endOpen - 1;
      last = Math.min(last, q.includeLive ? now : now - len);
      if (last >= first) n = Math.floor((last - first) / len) + 1;
    } else {
      for (let t = first; opensBefore(t); t = monthStart(t, 1)) n++;
    }
    const out = allocateColumns(n);
    const salt = mix(spec.key ^ hashString(interval));
    const path = new MidPath(spec.key, spec.price);
    let t = first;
    for (let i = 0; i < n; i++) {
      const l = fixed ? len : intervalMs(interval, t);
      generateCandle(spec, path, salt, t, l, t + l > now ? now : undefined, out, i);
      t += l;
    }
    return out;
  }

  /** Whether real days are mounted for this symbol and interval. */
  hasFixtures(spec: SymbolSpec, interval: Interval): boolean {
    return this.#fixtureIntervals.has(`${spec.marketType}|${spec.symbol}|${interval}`);
  }

  /** The CSV rules of a period starting at `start`: header or not, ms or µs, decimals. */
  #csvRules(spec: SymbolSpec, start: number, kind: KlineKind) {
    return {
      marketType: spec.marketType,
      decimals: kindDecimals(spec, kind),
      timeUnit: spec.marketType === "spot" && start >= this.spotMicrosFrom ? "us" : "ms",
      header: spec.marketType !== "spot" && start >= this.futuresHeaderFrom,
    } as const;
  }

  /**
   * One piece of a period's CSV without mounted days: the rows opening in `[from, to)`, with
   * the period's rules (those of `start`), the header (if the period has one) only when `first`.
   * The pieces of a period in order, concatenated, are {@linkcode Dataset.periodCsv}'s bytes
   * (when it has rows). `out` is appended to, so one buffer serves many pieces.
   */
  writePeriodCsvPiece(
    out: AsciiWriter,
    q: { spec: SymbolSpec; interval: Interval; start: number; now: number; kind: KlineKind },
    from: number,
    to: number,
    first: boolean,
  ): number {
    const { header, ...fmt } = this.#csvRules(q.spec, q.start, q.kind);
    const columns = this.rows({ ...q, start: from, end: to });
    writeKlineCsv(out, columns, { ...fmt, header: header && first });
    return columns.openTime.length;
  }

  /** The CSV bytes of one archive period (null when it holds no rows). */
  periodCsv(
    spec: SymbolSpec,
    interval: Interval,
    start: number,
    end: number,
    now: number,
    kind: KlineKind = "trades",
  ): Uint8Array | null {
    const daily = end - start === DAY_MS;
    if (daily && kind === "trades") {
      const fx = this.fixture(spec, interval, start);
      if (fx) return fx.bytes;
    }
    const { header, ...fmt } = this.#csvRules(spec, start, kind);
    const columns = this.rows({ spec, interval, start, end, now, kind });
    if (columns.openTime.length === 0) return null;
    const hasFixtures = kind === "trades" && this.hasFixtures(spec, interval);
    if (!hasFixtures || daily) return formatKlineCsv(columns, { ...fmt, header });
    // A month holding mounted days: splice those days' exact bytes between formatted rows.
    const chunks: Uint8Array[] = header ? [new TextEncoder().encode(KLINE_CSV_HEADER + "\n")] : [];
    for (let day = start; day < end; day += DAY_MS) {
      const fx = this.fixture(spec, interval, day);
      if (fx) {
        let body = fx.bytes.subarray(fx.dataOffset);
        if (body.length > 0 && body[body.length - 1] !== 0x0a) {
          body = Uint8Array.from([...body, 0x0a]);
        }
        chunks.push(body);
        continue;
      }
      const a = lowerBound(columns.openTime, day);
      const b = lowerBound(columns.openTime, day + DAY_MS);
      if (b > a) chunks.push(formatKlineCsv(columns, { ...fmt, from: a, to: b }));
    }
    const total = chunks.reduce((s, c) => s + c.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

const scratch = new Float64Array(8);

/**
 * Generates one candle into row `i` of `out`. `liveNow` set → the candle is still open at
 * that instant: close is the path's price then, volumes scale with the elapsed fraction.
 */
function generateCandle(
  spec: SymbolSpec,
  path: MidPath,
  salt: number,
  open: number,
  len: number,
  liveNow: number | undefined,
  out: KlineColumns,
  i: number,
): void {
  const d = spec.decimals;
  const pp = POW10[d.price], pv = POW10[d.volume], pq = POW10[d.quoteVolume];
  const pqt = POW10[d.takerBuyQuoteVolume], pvt = POW10[d.takerBuyBaseVolume];
  const tick = spec.tickUnits;
  const frac = liveNow === undefined ? 1 : Math.max(0, Math.min(1, (liveNow - open) / len));
  const closeAt = liveNow === undefined ? open + len : liveNow;
  const midO = path.mid(open);
  const midC = path.mid(closeAt);
  let h = timeHash(salt, open);
  for (let k = 0; k < scratch.length; k++) {
    h = mix(h + 0x9e3779b9);
    scratch[k] = h * U;
  }
  const o = Math.max(1, Math.round(midO * pp / tick)) * tick;
  let c = Math.max(1, Math.round(midC * pp / tick)) * tick;
  const minutes = len / 60_000;
  const quiet = liveNow === undefined && minutes <= 1 && scratch[0] < 0.002;
  let hi: number,
    lo: number,
    volUnits: number,
    quoteUnits: number,
    takerUnits: number,
    takerQuoteUnits: number,
    trades: number;
  if (quiet || frac === 0) {
    // A minute without trades: Binance repeats the previous price with zero volume.
    c = o;
    hi = o;
    lo = o;
    volUnits =
      quoteUnits =
      takerUnits =
      takerQuoteUnits =
      trades =
        0;
  } else {
    const sigma = Math.min(0.05, 0.00035 * Math.sqrt(minutes)) * Math.sqrt(frac);
    const up = Math.round(midO * sigma * -Math.log(1 - scratch[1] * 0.999) * 0.6 * pp / tick);
    const dn = Math.round(midO * sigma * -Math.log(1 - scratch[2] * 0.999) * 0.6 * pp / tick);
    hi = Math.max(o, c) + up * tick;
    lo = Math.max(tick, Math.min(o, c) - dn * tick);
    const qCap = 0.9 * 2 ** 53 / Math.max(pq, pqt);
    const notional = Math.min(
      qCap,
      spec.quotePerMinute * minutes ** 0.45 * (0.3 + scratch[3]) * frac,
    );
    const vwap = (lo + (hi - lo) * (0.1 + 0.8 * scratch[4])) / pp;
    const vwap2 = (lo + (hi - lo) * (0.1 + 0.8 * scratch[5])) / pp;
    const share = 0.3 + 0.4 * scratch[6];
    if (spec.marketType === "cm") {
      const contracts = Math.round(notional / spec.contractSize);
      volUnits = contracts * pv;
      quoteUnits = Math.round(contracts * spec.contractSize / vwap * pq);
      const takerContracts = Math.round(contracts * share);
      takerUnits = takerContracts * pvt;
      takerQuoteUnits = Math.min(
        quoteUnits,
        Math.round(takerContracts * spec.contractSize / vwap2 * pqt),
      );
    } else {
      const lots = Math.round(notional / vwap / (spec.lotUnits / pv));
      volUnits = lots * spec.lotUnits;
      quoteUnits = Math.round(volUnits / pv * vwap * pq);
      takerUnits = Math.round(lots * share) * spec.lotUnits * (pvt / pv);
      takerQuoteUnits = Math.min(quoteUnits, Math.round(takerUnits / pvt * vwap2 * pqt));
    }
    trades = volUnits === 0
      ? 0
      : Math.max(1, Math.round(900 * (notional / spec.quotePerMinute) * (0.6 + 0.8 * scratch[7])));
    if (volUnits === 0) quoteUnits = takerUnits = takerQuoteUnits = 0;
  }
  out.openTime[i] = open;
  out.open[i] = o / pp;
  out.high[i] = hi / pp;
  out.low[i] = lo / pp;
  out.close[i] = c / pp;
  out.volume[i] = volUnits / pv;
  out.closeTime[i] = open + len - 1;
  out.quoteVolume[i] = quoteUnits / pq;
  out.trades[i] = trades;
  out.takerBuyBaseVolume[i] = takerUnits / pvt;
  out.takerBuyQuoteVolume[i] = takerQuoteUnits / pqt;
}
