/**
 * The sync loop behind {@linkcode syncDataset}, with its writer injectable (tests simulate
 * a full disk through it).
 *
 * @module
 */
import {
  assertIntervalSupported,
  type Interval,
  type MarketType,
  normalizeSymbol,
  parseInterval,
} from "../market.ts";
import {
  DAY_MS,
  dayStart,
  iso,
  monthStart,
  type TimeInput,
  toEpochMs,
  utcDay,
  utcMonth,
} from "../time.ts";
import { InvalidRangeError } from "../errors.ts";
import { UnsupportedDataError } from "../data_errors.ts";
import { runWorkerLoop } from "../_worker_loop.ts";
import { VisionDataClient } from "../vision/client.ts";
import { DEFAULT_VISION_BASE_URL, klineArchiveDir } from "../vision/paths.ts";
import { ensureDatasetRoot, type Unit, unitKey } from "./_layout.ts";
import { ownsUnit, parseShard, type Shard, shardFromEnv } from "./_shard.ts";
import { syncUnit, type UnitOutcome, type WriteData, writePartitionParquet } from "./_unit.ts";
import { listSymbols } from "./symbols.ts";
import { type AggTradesUnit, aggTradesUnitKey, syncAggTradesUnit } from "./_agg_unit.ts";
import { assertMarket, listingUrlOf, listLevel } from "./_s3_listing.ts";

/** Options for {@linkcode syncDataset}. */
export interface SyncDatasetOptions {
  /** Dataset root directory (created when missing; refused when it holds other files). */
  out: string;
  /** Market: `spot`, `um` or `cm`. */
  marketType: MarketType;
  /** `"all"` (default), a glob (`*USDT`), or explicit symbols. */
  symbols?: string | readonly string[];
  /** Keep only symbols with these quote assets (asks `exchangeInfo`). */
  quoteAsset?: string | readonly string[];
  /** Keep only symbols with these `exchangeInfo` statuses, e.g. `TRADING`. */
  status?: string | readonly string[];
  /**
   * What to sync: `klines` (monthly partitions per interval) or `aggTrades` (daily
   * partitions of whole UTC days; `intervals` is ignored). @default {"klines"}
   */
  data?: DatasetData;
  /** One or more intervals. @default {"1m"} */
  intervals?: Interval | string | readonly (Interval | string)[];
  /** First open time (inclusive). */
  start: TimeInput;
  /** End (exclusive). @default {the start of the current UTC day: the last complete day} */
  end?: TimeInput;
  /**
   * This process's share: `"K/N"` or `{ index, count }` (1-based). @default {from
   * `JOB_COMPLETION_INDEX` (0-based) and `VISION_DATA_SHARD_COUNT`, else 1/1}
   */
  shard?: string | Shard;
  /** Vision archive base URL. @default {"https://data.binance.vision"} */
  visionUrl?: string;
  /** REST base URL (for `exchangeInfo`). */
  restUrl?: string;
  /** S3 listing endpoint (see {@linkcode ListSymbolsOptions.listingUrl}). */
  listingUrl?: string;
  /** The clock. @default {Date.now} */
  now?: () => number;
  /** Partitions worked on in parallel (and archive downloads). @default {4} */
  concurrency?: number;
  /** Aborts the sync; finished partitions stay, the current ones are not written. */
  signal?: AbortSignal;
  /** Called after every unit. */
  onProgress?: (progress: SyncProgress) => void;
}

/**
 * The data types a dataset can hold (`SyncDatasetOptions.data`).
 *
 * @example
 * ```ts
 * import { DATASET_DATA } from "@vision-data/client/dataset";
 * DATASET_DATA.includes("aggTrades"); // true
 * ```
 */
export const DATASET_DATA = ["klines", "aggTrades"] as const;
/** A data type a dataset can hold. */
export type DatasetData = typeof DATASET_DATA[number];

/** Progress of a sync. */
export interface SyncProgress {
  /** Units (partitions) finished, skipped ones included. */
  done: number;
  /** Units this shard owns. */
  total: number;
  /** Zip bytes downloaded. */
  bytes: number;
  /** Rows added. */
  rows: number;
  /** Since the start. */
  elapsedMs: number;
  /** The unit just finished. */
  last?: UnitOutcome;
}

/** Per-symbol figures of a sync. */
export interface SymbolSummary {
  /** Symbol. */
  symbol: string;
  /** Units of this shard. */
  units: number;
  /** Units (re)written. */
  written: number;
  /** Units already up to date. */
  unchanged: number;
  /** Units with nothing published yet. */
  pending: number;
  /** Rows the symbol's partitions hold. */
  rows: number;
  /** Rows added by this run. */
  newRows: number;
  /** Archives downloaded. */
  archives: number;
  /** Gaps recorded in the manifests. */
  gaps: number;
}

/** What {@linkcode syncDataset} did. */
export interface SyncReport {
  /** Dataset root. */
  out: string;
  /** The shard that ran. */
  shard: Shard;
  /** Symbols selected. */
  symbols: string[];
  /** The data type synced. */
  data: DatasetData;
  /** Intervals synced (none for aggTrades). */
  intervals: Interval[];
  /** `[start, end)` synced, ISO. */
  range: { start: string; end: string };
  /** Units of every shard. */
  unitsAll: number;
  /** Per-symbol figures, by symbol. */
  perSymbol: SymbolSummary[];
  /** Totals over this shard's units. */
  totals: Omit<SymbolSummary, "symbol">;
  /** Zip bytes downloaded. */
  bytes: number;
  /** Wall time. */
  elapsedMs: number;
}

/** Internal seams for tests. */
export interface SyncDeps {
  /** The Parquet writer. */
  writeData: WriteData;
}

function resolveShard(shard: SyncDatasetOptions["shard"]): Shard {
  if (typeof shard === "string") return parseShard(shard);
  if (shard) return parseShard(`${shard.index}/${shard.count}`);
  let env: Shard | undefined;
  try {
    env = shardFromEnv((name) => Deno.env.get(name));
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      return { index: 1, count: 1 };
    }
    throw err;
  }
  return env ?? { index: 1, count: 1 };
}

/** The months of `[start, end)` as units of one symbol and interval. */
function unitsOf(
  market: MarketType,
  symbol: string,
  interval: Interval,
  start: number,
  end: number,
) {
  const out: Unit[] = [];
  for (let m = monthStart(start); m < end; m = monthStart(m, 1)) {
    out.push({
      market,
      symbol,
      interval,
      month: utcMonth(m),
      start: Math.max(m, start),
      end: Math.min(monthStart(m, 1), end),
    });
  }
  return out;
}

/** The UTC days `[start, end)` touches, as aggTrades units of one symbol. */
function aggTradesUnitsOf(market: MarketType, symbol: string, start: number, end: number) {
  const out: AggTradesUnit[] = [];
  for (let d = dayStart(start); d < end; d += DAY_MS) {
    out.push({ data: "aggTrades", market, symbol, day: utcDay(d), start: d, end: d + DAY_MS });
  }
  return out;
}

/** Runs a sync with explicit dependencies (see {@linkcode syncDataset}). */
export async function runSync(options: SyncDatasetOptions, deps: SyncDeps): Promise<SyncReport> {
  const t0 = performance.now();
  const market: string = options.marketType;
  assertMarket(market);
  const data: string = options.data ?? "klines";
  if (!(DATASET_DATA as readonly string[]).includes(data)) {
    throw new UnsupportedDataError("data type", data, "a dataset", DATASET_DATA);
  }
  const rawIntervals = options.intervals ?? "1m";
  const intervals = [
    ...new Set(
      (typeof rawIntervals === "string" ? rawIntervals.split(",") : rawIntervals)
        .map((iv) => parseInterval(iv.trim())),
    ),
  ];
  for (const iv of intervals) assertIntervalSupported(market, iv, "vision");
  const nowFn = options.now ?? Date.now;
  const now = nowFn();
  const start = toEpochMs(options.start, "start");
  const lastDay = dayStart(now);
  const end = Math.min(
    options.end === undefined ? lastDay : toEpochMs(options.end, "end"),
    lastDay,
  );
  if (!(start < end)) {
    throw new InvalidRangeError(
      `start ${iso(start)} is not before end ${iso(end)} (end defaults to, and is capped at, ` +
        `the start of the current UTC day: only complete days are archived)`,
    );
  }
  const shard = resolveShard(options.shard);
  const signal = options.signal ?? new AbortController().signal;
  const visionUrl = (options.visionUrl ?? DEFAULT_VISION_BASE_URL).replace(/\/+$/, "");
  const selection = typeof options.symbols === "string" || options.symbols === undefined
    ? options.symbols
    : options.symbols.map((s) => normalizeSymbol(s, market));
  const infos = await listSymbols({
    marketType: market,
    symbols: selection,
    quoteAsset: options.quoteAsset,
    status: options.status,
    exchangeInfo: options.quoteAsset !== undefined || options.status !== undefined,
    listingUrl: options.listingUrl,
    visionUrl: options.visionUrl,
    restUrl: options.restUrl,
    signal,
  });
  const symbols = infos.map((i) => i.symbol);
  const all: (Unit | AggTradesUnit)[] = data === "aggTrades"
    ? symbols.flatMap((s) => aggTradesUnitsOf(market, s, start, end))
    : symbols.flatMap((s) => intervals.flatMap((iv) => unitsOf(market, s, iv, start, end)));
  const keyOf = (u: Unit | AggTradesUnit) => "data" in u ? aggTradesUnitKey(u) : unitKey(u);
  const mine = all.filter((u) => ownsUnit(shard, keyOf(u)));
  // The marker before any partition: a concurrent shard then sees a dataset, not foreign files.
  await ensureDatasetRoot(options.out);

  const concurrency = options.concurrency ?? 4;
  const listingUrl = listingUrlOf(options);
  const firstMonths = new Map<string, Promise<number | undefined>>();
  // One listing request per symbol and interval, and only when one of its units has no
  // manifest yet: the first monthly archive bounds where requests can find anything.
  const archiveStart = (u: Unit): Promise<number | undefined> => {
    const key = `${u.symbol}/${u.interval}`;
    let p = firstMonths.get(key);
    if (!p) {
      const prefix = klineArchiveDir(market, u.symbol, u.interval, "monthly");
      p = listLevel(listingUrl, prefix, { signal }).then((level) => {
        const first = level.keys.filter((k) => k.endsWith(".zip")).sort()[0];
        const label = first && /(\d{4}-\d\d)\.zip$/.exec(first)?.[1];
        return label ? Date.parse(`${label}-01T00:00:00Z`) : undefined;
      }, () => undefined);
      firstMonths.set(key, p);
    }
    return p;
  };
  const perSymbol = new Map<string, SymbolSummary>(symbols.map((s) => [s, emptySummary(s)]));
  const progress: SyncProgress = { done: 0, total: mine.length, bytes: 0, rows: 0, elapsedMs: 0 };
  {
    await using vision = new VisionDataClient({
      marketType: market,
      baseUrl: visionUrl,
      concurrency: Math.max(concurrency, 2),
      now: nowFn,
      signal,
    });
    await runWorkerLoop(mine, {
      concurrency,
      signal,
      handle: async (u, sig) => {
        const ctx = {
          root: options.out,
          vision,
          visionUrl,
          now,
          signal: sig,
          writeData: deps.writeData,
          onBytes: (n: number) => progress.bytes += n,
          archiveStart,
        };
        const outcome = "data" in u ? await syncAggTradesUnit(u, ctx) : await syncUnit(u, ctx);
        const s = perSymbol.get(u.symbol)!;
        s.units++;
        s[outcome.status === "written" ? "written" : outcome.status]++;
        s.rows += outcome.rows;
        s.newRows += outcome.newRows;
        s.archives += outcome.archives;
        s.gaps += outcome.gaps;
        progress.done++;
        progress.rows += outcome.newRows;
        progress.elapsedMs = performance.now() - t0;
        options.onProgress?.({ ...progress, last: outcome });
      },
    });
  }
  const list = [...perSymbol.values()].filter((s) => s.units > 0);
  const totals = emptySummary("");
  for (const s of list) {
    for (
      const k of [
        "units",
        "written",
        "unchanged",
        "pending",
        "rows",
        "newRows",
        "archives",
        "gaps",
      ] as const
    ) {
      totals[k] += s[k];
    }
  }
  const { symbol: _, ...rest } = totals;
  return {
    out: options.out,
    shard,
    symbols,
    data: data as DatasetData,
    intervals: data === "aggTrades" ? [] : intervals,
    range: { start: iso(start), end: iso(end) },
    unitsAll: all.length,
    perSymbol: list,
    totals: rest,
    bytes: progress.bytes,
    elapsedMs: performance.now() - t0,
  };
}

function emptySummary(symbol: string): SymbolSummary {
  return {
    symbol,
    units: 0,
    written: 0,
    unchanged: 0,
    pending: 0,
    rows: 0,
    newRows: 0,
    archives: 0,
    gaps: 0,
  };
}

/** The writer {@linkcode syncDataset} uses. */
export const DEFAULT_SYNC_DEPS: SyncDeps = { writeData: writePartitionParquet };
