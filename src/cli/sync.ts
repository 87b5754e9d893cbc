/**
 * `vision-data sync`: a market's klines into a Hive-partitioned Parquet dataset (see
 * `syncDataset`), or `--verify` of an existing one against its manifests.
 *
 * @module
 */
import type { MarketType } from "../market.ts";
import { InvalidShardError, SymbolSelectionError, UnknownMarketError } from "../dataset/errors.ts";
import { DatasetDirError } from "../dataset/errors.ts";
import {
  type DatasetData,
  SHARD_COUNT_ENV,
  syncDataset,
  type SyncReport,
  verifyDataset,
} from "../dataset/sync.ts";
import {
  parseCommandArgs,
  parseDateArg,
  parseIntArg,
  parseIntervalArg,
  str,
  UsageError,
} from "./_args.ts";
import { type Command, type CommandContext, describeError, ExitCode } from "./_command.ts";
import { parseUrl } from "./fetch.ts";
import { formatBytes, formatCount, formatMs, formatTable } from "./_io.ts";
import { Progress } from "./_progress.ts";

const USAGE = `Usage: vision-data sync --out DIR --start DATE [options]
       vision-data sync --out DIR --verify

Syncs klines of many symbols from the Binance Vision archive into a Hive-partitioned
Parquet dataset: DIR/market=M/symbol=S/interval=I/year=YYYY/month=MM/S-I-YYYY-MM.parquet,
with a _manifest.json per partition (rows, first/last open time, archive SHA-256s, gaps).
Re-running downloads nothing; a later --end downloads only the new days; a killed run is
completed by the next one. Several processes with --shard K/N fill one DIR together.
--data aggTrades syncs aggregate trades instead, one partition per symbol and UTC day:
DIR/market=M/data=aggTrades/symbol=S/year=YYYY/month=MM/day=DD/S-aggTrades-YYYY-MM-DD.parquet.

Options:
  --out DIR                dataset root (created; refused when it holds other files)  (required)
  --market spot|um|cm      market                                          [default: spot]
  --symbols A,B|GLOB|all   explicit symbols, a glob (*USDT) or all the archive lists  [default: all]
  --quote Q1,Q2            keep symbols quoted in these assets (asks exchangeInfo)
  --status S1,S2           keep symbols with these exchangeInfo statuses (e.g. TRADING)
  --data klines|aggTrades  what to sync                                    [default: klines]
  --interval IV1,IV2       one or more intervals (klines)                     [default: 1m]
  --start DATE             first open time: YYYY-MM-DD, ISO-8601 (UTC) or epoch ms  (required)
  --end DATE               end, exclusive        [default and cap: today 00:00 UTC, the last complete day]
  --shard K/N              this process's share of the work (1-based)
                           [default: JOB_COMPLETION_INDEX+1 / $${SHARD_COUNT_ENV}, else 1/1]
  --verify                 check DIR against its manifests (no download); exit 1 on problems
  --vision-url URL         Vision archive base URL   [default: https://data.binance.vision]
  --listing-url URL        S3 listing endpoint [default: Binance's bucket; URL/data.binance.vision
                           when --vision-url is given]
  --rest-url URL           REST API base URL (exchangeInfo)   [default: Binance's, per market]
  --concurrency N          partitions in parallel                              [default: 4]
  --now DATE               treat DATE as the current time (for replicas with a fixed clock)
  --quiet, -q              no progress and no summary
  --help, -h               this text

Exit codes: 0 ok, 1 error (or --verify found problems), 2 bad usage or input, 130 cancelled.
`;

const OPTIONS = {
  out: { type: "string", short: "o" },
  market: { type: "string" },
  symbols: { type: "string" },
  quote: { type: "string" },
  status: { type: "string" },
  interval: { type: "string" },
  data: { type: "string" },
  start: { type: "string" },
  end: { type: "string" },
  shard: { type: "string" },
  verify: { type: "boolean" },
  "vision-url": { type: "string" },
  "listing-url": { type: "string" },
  "rest-url": { type: "string" },
  concurrency: { type: "string" },
  now: { type: "string" },
  quiet: { type: "boolean", short: "q" },
} as const;

function optDate(name: string, v: string | undefined): number | undefined {
  return v === undefined ? undefined : parseDateArg(name, v);
}

function summaryTable(r: SyncReport): string {
  const rows = r.perSymbol.map((s) => [
    s.symbol,
    s.units,
    s.written,
    s.unchanged,
    s.pending,
    formatCount(s.rows),
    formatCount(s.newRows),
    s.archives,
    s.gaps,
  ]);
  return formatTable(
    ["symbol", "units", "written", "unchanged", "pending", "rows", "new rows", "archives", "gaps"],
    rows,
  );
}

async function run(args: string[], { io, signal }: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(args, OPTIONS, 0);
  if (values.help) {
    io.stdout(USAGE);
    return ExitCode.OK;
  }
  const out = str(values, "out");
  if (out === undefined) throw new UsageError("Missing --out DIR");
  const quiet = values.quiet === true;
  try {
    if (values.verify) {
      const v = await verifyDataset({ out });
      for (const p of v.problems) io.stdout(`${p.path}: ${p.problem}\n`);
      if (!quiet) {
        io.stderr(
          `${v.partitions} partitions, ${v.files} files, ${formatCount(v.rows)} rows checked: ` +
            `${v.problems.length === 0 ? "ok" : `${v.problems.length} problems`}\n`,
        );
      }
      return v.problems.length === 0 ? ExitCode.OK : ExitCode.ERROR;
    }
    const start = str(values, "start");
    if (start === undefined) throw new UsageError("Missing --start DATE");
    const intervals = (str(values, "interval") ?? "1m").split(",").map((iv) =>
      parseIntervalArg(iv)
    );
    const now = optDate("now", str(values, "now"));
    const concurrency = str(values, "concurrency");
    const progress = new Progress(io, quiet);
    let report: SyncReport;
    try {
      report = await syncDataset({
        out,
        marketType: (str(values, "market") ?? "spot") as MarketType,
        symbols: str(values, "symbols") ?? "all",
        quoteAsset: str(values, "quote"),
        status: str(values, "status"),
        data: (str(values, "data") ?? "klines") as DatasetData,
        intervals,
        start: parseDateArg("start", start),
        end: optDate("end", str(values, "end")),
        shard: str(values, "shard"),
        visionUrl: parseUrl("vision-url", str(values, "vision-url")),
        listingUrl: parseUrl("listing-url", str(values, "listing-url")),
        restUrl: parseUrl("rest-url", str(values, "rest-url")),
        now: now === undefined ? undefined : () => now,
        concurrency: concurrency === undefined
          ? undefined
          : parseIntArg("concurrency", concurrency, 1, 64),
        signal,
        onProgress: (p) => {
          const rate = p.rows / Math.max(p.elapsedMs / 1000, 1e-3);
          const eta = p.done > 0 ? ((p.total - p.done) * p.elapsedMs) / p.done : 0;
          progress.update({
            label: "sync",
            done: p.done,
            total: p.total,
            bytes: p.bytes,
            detail: `${formatCount(Math.round(rate))} rows/s, ETA ${formatMs(eta)}`,
          });
        },
      });
    } finally {
      progress.clear();
    }
    if (!quiet) {
      const t = report.totals;
      io.stderr(summaryTable(report));
      io.stderr(
        `shard ${report.shard.index}/${report.shard.count}: ${t.units} of ${report.unitsAll} units ` +
          `(${t.written} written, ${t.unchanged} unchanged, ${t.pending} pending), ` +
          `${formatCount(t.newRows)} new rows, ${t.archives} archives (${
            formatBytes(report.bytes)
          }) ` +
          `in ${formatMs(report.elapsedMs)} → ${out}\n`,
      );
    }
    return ExitCode.OK;
  } catch (err) {
    // Input the user must change: named, without the whole usage text.
    if (
      err instanceof UnknownMarketError || err instanceof SymbolSelectionError ||
      err instanceof InvalidShardError || err instanceof DatasetDirError
    ) {
      io.stderr(`error: ${describeError(err)}\n`);
      return ExitCode.USAGE;
    }
    throw err;
  }
}

/** The `sync` command. */
export const syncCommand: Command = {
  name: "sync",
  summary: "sync many symbols into a partitioned Parquet dataset (--shard K/N, --verify)",
  usage: USAGE,
  run,
};
