/**
 * `vision-data fetch`: klines through the DataSourceManager (cache → Vision → REST), written
 * to CSV/Arrow/Parquet or shown as a short table, with a summary on stderr.
 *
 * @module
 */
import { dirname } from "@std/path";
import { type DataSource, KLINE_COLUMNS, type Klines, SOURCE_CODES } from "../klines.ts";
import { type Interval, type MarketType, normalizeSymbol } from "../market.ts";
import { iso, type TimeRange } from "../time.ts";
// Only the light CSV number format statically: the writers (Apache Arrow, parquet-wasm) are
// loaded by `loadExport` when `--out` asks for a file, so a preview fetch starts faster.
import { formatNumber } from "../export/csv.ts";
import type { ExportFormat } from "../export/write.ts";
import type { SourceRows } from "../stream.ts";
import {
  parseCommandArgs,
  parseDateArg,
  parseIntArg,
  parseIntervalArg,
  parseMarketArg,
  parseSourceArg,
  str,
  UsageError,
} from "./_args.ts";
import { type Command, type CommandContext, describeDisposeReport, ExitCode } from "./_command.ts";
import { formatBytes, formatCount, formatMs, formatTable } from "./_io.ts";
import { Progress } from "./_progress.ts";
import { assertDataType, type DataType } from "../data_types.ts";
import { assertKlineKind, type KlineKind } from "../kline_kind.ts";
import { openManager, runAggTradesFetch, runFundingFetch } from "./_fetch_data.ts";

const USAGE = `Usage: vision-data fetch SYMBOL --start DATE [options]

Fetches klines (cache → Binance Vision archive → REST API), writes them to a file or shows
the first and last rows, and prints a summary (rows, rows per source, gaps, time, MB/s).

Options:
  --data TYPE              klines | funding (um/cm funding-rate history) | aggTrades
                           (aggregate trades, streamed; not cached)         [default: klines]
  --kind KIND              trades | mark | index | premium (um/cm price klines) [default: trades]
  --market spot|um|cm      market (spot, USDⓈ-M futures, COIN-M futures)   [default: spot]
  --interval IV            1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M  [default: 1m]
  --start DATE             first open time: YYYY-MM-DD, ISO-8601 (UTC), epoch ms, now, -7d/-12h/-30m  (required)
  --end DATE               end, exclusive                                   [default: now]
  --source SRC             auto|cache|vision|rest (auto: cache, then Vision, then REST)
  --out FILE               .csv, .arrow (Arrow IPC file) or .parquet, streamed chunk by
                           chunk (memory stays flat) and renamed into place when complete;
                           \`-\` writes CSV to stdout
  --cache-dir DIR          cache directory  [default: $VISION_DATA_CACHE_DIR or the user cache]
  --no-cache               neither read nor write the cache
  --vision-url URL         Vision archive base URL   [default: https://data.binance.vision]
  --rest-url URL           REST API base URL         [default: Binance's, per market]
  --concurrency N          parallel downloads                               [default: 8]
  --now DATE               treat DATE as the current time (for replicas with a fixed clock)
  --quiet, -q              no progress and no summary
  --help, -h               this text

Output columns: open_time,open,high,low,close,volume,close_time,quote_volume,count,
taker_buy_volume,taker_buy_quote_volume (CSV times are epoch ms; Arrow/Parquet times are
UTC millisecond timestamps, count is int64, the rest float64).

Exit codes: 0 ok, 1 error, 2 bad usage or input, 3 gaps in the result, 130 cancelled.
`;

/** The validated `fetch` arguments. */
export interface FetchArgs {
  symbol: string;
  market: MarketType;
  interval: Interval;
  start: number;
  end?: number;
  now?: number;
  source: DataSource;
  out?: string;
  format?: ExportFormat;
  cacheDir?: string;
  useCache: boolean;
  visionUrl?: string;
  restUrl?: string;
  concurrency?: number;
  quiet: boolean;
  /** What to fetch. @default {"klines"} */
  data?: DataType;
  /** Which klines. @default {"trades"} */
  kind?: KlineKind;
}

const OPTIONS = {
  data: { type: "string" },
  kind: { type: "string" },
  market: { type: "string" },
  interval: { type: "string" },
  start: { type: "string" },
  end: { type: "string" },
  now: { type: "string" },
  source: { type: "string" },
  out: { type: "string", short: "o" },
  "cache-dir": { type: "string" },
  "no-cache": { type: "boolean" },
  "vision-url": { type: "string" },
  "rest-url": { type: "string" },
  concurrency: { type: "string" },
  quiet: { type: "boolean", short: "q" },
} as const;

/** An `--*-url` option: http(s) only, trailing slashes dropped. */
export function parseUrl(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return value.replace(/\/+$/, "");
  } catch {
    // reported below
  }
  throw new UsageError(`Bad URL for --${name} ${JSON.stringify(value)}: expected http(s)://…`);
}

/** Parses and validates `fetch` arguments; `undefined` means `--help` was asked for. */
export function parseFetchArgs(args: string[]): FetchArgs | undefined {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, 1);
  if (values.help) return undefined;
  if (positionals.length === 0) throw new UsageError("Missing SYMBOL (e.g. BTCUSDT)");
  const start = str(values, "start");
  if (start === undefined) throw new UsageError("Missing --start DATE");
  const out = str(values, "out");
  // A file's format is checked by `resolveOutput` (it needs the lazily loaded writers).
  const format = out === "-" ? "csv" : undefined;
  const end = str(values, "end");
  const nowText = str(values, "now");
  const now = nowText === undefined ? undefined : parseDateArg("now", nowText);
  const concurrency = str(values, "concurrency");
  const market = parseMarketArg(str(values, "market") ?? "spot");
  return {
    data: assertDataType(market, str(values, "data") ?? "klines"),
    kind: assertKlineKind(market, str(values, "kind")),
    symbol: normalizeSymbol(positionals[0], market),
    market,
    interval: parseIntervalArg(str(values, "interval") ?? "1m"),
    start: parseDateArg("start", start, now),
    end: end === undefined ? undefined : parseDateArg("end", end, now),
    now,
    source: parseSourceArg(str(values, "source") ?? "auto"),
    out,
    format,
    cacheDir: str(values, "cache-dir"),
    useCache: values["no-cache"] !== true,
    visionUrl: parseUrl("vision-url", str(values, "vision-url")),
    restUrl: parseUrl("rest-url", str(values, "rest-url")),
    concurrency: concurrency === undefined
      ? undefined
      : parseIntArg("concurrency", concurrency, 1, 64),
    quiet: values.quiet === true,
  };
}

const HEAD_ROWS = 5;

/** The first and last rows as a small table (stdout, when there is no --out). */
function previewTable(k: Klines): string {
  // Row by row (`get`, one-row `slice`): the column getters would join every chunk (a year of
  // 1m is ~30 MB of copies) to show ten rows.
  const sourced = k.chunks.some((c) => c.sources !== undefined);
  const show = (i: number) => {
    const r = k.get(i)!;
    return [
      iso(r.openTime).replace("T", " ").replace(/\.000Z$/, "Z"),
      formatNumber(r.open),
      formatNumber(r.high),
      formatNumber(r.low),
      formatNumber(r.close),
      formatNumber(r.volume),
      formatNumber(r.trades),
      // A chunk without sources reads as code 0, as the joined `sources` column does.
      sourced ? SOURCE_CODES[k.slice(i, i + 1).sources?.[0] ?? 0] ?? "?" : "",
    ];
  };
  const rows: string[][] = [];
  const n = k.length;
  for (let i = 0; i < Math.min(n, HEAD_ROWS); i++) rows.push(show(i));
  if (n > 2 * HEAD_ROWS) rows.push(["…"]);
  for (let i = Math.max(HEAD_ROWS, n - HEAD_ROWS); i < n; i++) rows.push(show(i));
  return formatTable(
    ["open_time", "open", "high", "low", "close", "volume", "trades", "source"],
    rows,
  );
}

/** `5 gaps (3h 0m missing): a → b, …`. */
function describeGaps(gaps: readonly TimeRange[]): string {
  if (gaps.length === 0) return "none";
  const missing = gaps.reduce((s, g) => s + g.end - g.start, 0);
  const shown = gaps.slice(0, 3).map((g) => `${iso(g.start)} → ${iso(g.end)}`);
  if (gaps.length > 3) shown.push(`… ${gaps.length - 3} more`);
  return `${gaps.length} (${formatDuration(missing)} missing): ${shown.join(", ")}`;
}

function formatDuration(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `vision 1,440, rest 60`: rows per source that served any, in SOURCE_CODES order. */
function describeSources(counts: Readonly<SourceRows>): string {
  return SOURCE_CODES.map((name) => counts[name] > 0 ? `${name} ${formatCount(counts[name])}` : "")
    .filter(Boolean).join(", ");
}

/** Fails before any fetch when `--out`'s directory is missing (or not a directory). */
async function assertOutputDir(out: string): Promise<void> {
  const dir = dirname(out);
  const info = await Deno.stat(dir).catch(() => undefined);
  if (!info?.isDirectory) {
    throw new UsageError(
      `Bad --out ${JSON.stringify(out)}: the directory ${JSON.stringify(dir)} does not exist ` +
        `(create it first, or write to an existing directory or - for stdout)`,
    );
  }
}

type ExportModule = typeof import("../export/mod.ts");

/** Loads the export writers (Arrow and Parquet with them): only when `--out` is given. */
function loadExport(): Promise<ExportModule> {
  return import("../export/mod.ts");
}

/**
 * With `--out FILE`: loads the writers, checks the extension names a format and the directory
 * exists, and fills in `a.format`. Fails before any fetch.
 */
async function resolveOutput(a: FetchArgs): Promise<ExportModule | undefined> {
  if (a.out === undefined) return undefined;
  const exp = await loadExport();
  if (a.out === "-") return exp;
  const format = exp.exportFormatOf(a.out);
  if (format === undefined) {
    throw new UsageError(
      `Unknown output format for --out ${JSON.stringify(a.out)}: use a file ending in ${
        exp.EXPORT_FORMATS.map((f) => "." + f).join(", ")
      }`,
    );
  }
  a.format = format;
  await assertOutputDir(a.out);
  return exp;
}

async function run(args: string[], { io, signal }: CommandContext): Promise<number> {
  const a = parseFetchArgs(args);
  if (!a) {
    io.stdout(USAGE);
    return ExitCode.OK;
  }
  const exp = await resolveOutput(a);
  if (a.data === "funding") return await runFundingFetch(a, { io, signal });
  if (a.data === "aggTrades") return await runAggTradesFetch(a, { io, signal });
  const progress = new Progress(io, a.quiet);
  const now = a.now;
  const manager = openManager(a, signal);
  const t0 = performance.now();
  let klines: Klines | undefined;
  let fetchMs: number;
  let written: { bytes: number; ms: number } | undefined;
  let disposeMs: number;
  const stream = manager.stream({
    symbol: a.symbol,
    interval: a.interval,
    start: a.start,
    end: a.end ?? now ?? Date.now(),
    enforceSource: a.source,
    kind: a.kind,
    signal,
    onProgress: (p) => progress.update({ label: p.source, ...p }),
  });
  try {
    if (a.out === "-" && exp) {
      const decoder = new TextDecoder();
      await exp.writeChunks(stream, (bytes) => {
        io.stdout(decoder.decode(bytes));
        return Promise.resolve();
      }, { format: "csv", signal });
    } else if (a.out && exp) {
      // Written while fetched: the file grows chunk by chunk, memory holds a few chunks.
      const out = await exp.writeKlinesStream(stream, a.out, { format: a.format, signal });
      written = { bytes: out.bytes, ms: performance.now() - t0 };
    } else {
      klines = await stream.collect();
    }
    fetchMs = performance.now() - t0;
  } finally {
    progress.clear();
    const d0 = performance.now();
    // Resolves even when a close failed: the result (or the first error) is never lost.
    await manager[Symbol.asyncDispose]();
    disposeMs = performance.now() - d0;
    const problems = describeDisposeReport(manager.lastDisposeReport);
    if (problems) io.stderr(`warning: closing the data sources: ${problems}\n`);
  }

  if (klines) io.stdout(previewTable(klines));
  if (!a.quiet) {
    const sources = describeSources(stream.sourceRows);
    const columnBytes = stream.rows * KLINE_COLUMNS.length * 8;
    const rate = formatBytes(Math.round((columnBytes * 1000) / Math.max(fetchMs, 1)));
    const wrote = written ? `, wrote ${a.out} (${formatBytes(written.bytes)}) while fetching` : "";
    const stats = manager.getCacheStats();
    const errors = stats.errors ? `, ${stats.errors} errors` : "";
    io.stderr(
      [
        `${a.symbol} ${a.market} ${a.interval}: ` +
        `${formatCount(stream.rows)} rows${sources ? ` (${sources})` : ""}`,
        `gaps: ${describeGaps(stream.gaps)}`,
        `time: fetched in ${formatMs(fetchMs)} (${rate}/s of columns)${wrote}, ` +
        `closed in ${formatMs(disposeMs)}`,
        `cache: ${stats.hits} day hits, ${stats.misses} misses, ` +
        `${stats.writes} days written${errors}`,
      ].join("\n") + "\n",
    );
  }
  return stream.gaps.length > 0 ? ExitCode.PARTIAL : ExitCode.OK;
}

/** The `fetch` command. */
export const fetchCommand: Command = {
  name: "fetch",
  summary: "fetch klines to CSV/Arrow/Parquet (cache → Vision → REST)",
  usage: USAGE,
  run,
};
