/**
 * `vision-data fetch --data funding`: funding-rate history through the manager (cache →
 * Vision monthly archives → REST), written like klines (CSV/Arrow/Parquet via `--out`) or
 * previewed, with the same summary and exit codes (3 when the result has gaps).
 *
 * @module
 */
import { SOURCE_CODES } from "../klines.ts";
import { DataSourceManager } from "../manager/mod.ts";
import type { FundingRates } from "../funding/funding_rates.ts";
import { iso } from "../time.ts";
// The writers (Arrow, Parquet) are imported only when `--out` is given: faster start-up.
import { formatNumber } from "../export/csv.ts";
import { type CommandContext, describeError, ExitCode } from "./_command.ts";
import { UsageError } from "./_args.ts";
import { RestDataClient } from "../rest/client.ts";
import { VisionDataClient } from "../vision/client.ts";
import { streamAggTradesWithFallback } from "../agg_trades/stream.ts";
import type { AggTradeColumns } from "../agg_trades/columns.ts";
import type { TimeRange } from "../time.ts";
import { formatBytes, formatCount, formatMs, formatTable } from "./_io.ts";
import type { FetchArgs } from "./fetch.ts";

const HEAD_ROWS = 5;

function preview(f: FundingRates): string {
  const show = (i: number) => [
    iso(f.fundingTime[i]).replace("T", " ").replace(/\.000Z$/, "Z"),
    formatNumber(f.fundingRate[i]),
    Number.isNaN(f.markPrice[i]) ? "" : formatNumber(f.markPrice[i]),
    Number.isNaN(f.intervalHours[i]) ? "" : String(f.intervalHours[i]),
    f.sources ? SOURCE_CODES[f.sources[i]] ?? "?" : "",
  ];
  const rows: string[][] = [];
  const n = f.length;
  for (let i = 0; i < Math.min(n, HEAD_ROWS); i++) rows.push(show(i));
  if (n > 2 * HEAD_ROWS) rows.push(["…"]);
  for (let i = Math.max(HEAD_ROWS, n - HEAD_ROWS); i < n; i++) rows.push(show(i));
  return formatTable(["funding_time", "funding_rate", "mark_price", "hours", "source"], rows);
}

/** The manager a `fetch` asks: its flags (market, cache, URLs, clock, concurrency) applied. */
export function openManager(a: FetchArgs, signal: AbortSignal): DataSourceManager {
  const now = a.now;
  return new DataSourceManager({
    marketType: a.market,
    cacheDir: a.cacheDir,
    useCache: a.useCache,
    visionUrl: a.visionUrl,
    restUrl: a.restUrl,
    signal,
    now: now === undefined ? undefined : () => now,
    concurrency: a.concurrency,
    vision: a.concurrency === undefined ? undefined : { concurrency: a.concurrency },
  });
}

/** Runs `fetch --data funding` with parsed arguments; resolves to the exit code. */
export async function runFundingFetch(
  a: FetchArgs,
  { io, signal }: CommandContext,
): Promise<number> {
  const manager = openManager(a, signal);
  const t0 = performance.now();
  let f: FundingRates;
  let wrote = "";
  try {
    f = await manager.getFundingRates({
      symbol: a.symbol,
      start: a.start,
      end: a.end ?? a.now ?? Date.now(),
      enforceSource: a.source,
      signal,
    });
    if (a.out) {
      const { writeFunding } = await import("../funding/export.ts");
      const bytes = await writeFunding(f.columns, a.out, { format: a.format, signal });
      wrote = `, wrote ${a.out} (${formatBytes(bytes)})`;
    }
  } finally {
    try {
      await manager[Symbol.asyncDispose]();
    } catch (err) {
      io.stderr(`warning: closing the data sources: ${describeError(err)}\n`);
    }
  }
  if (!a.out) io.stdout(preview(f));
  if (!a.quiet) {
    const gaps = f.gaps.map((g) => `${iso(g.start)} → ${iso(g.end)}`).join(", ") || "none";
    const stats = manager.getCacheStats();
    io.stderr(
      [
        `${f.symbol} ${f.marketType} funding: ${formatCount(f.length)} rows`,
        `gaps: ${gaps}`,
        `time: ${formatMs(performance.now() - t0)}${wrote}`,
        `cache: ${stats.hits} month hits, ${stats.misses} misses, ${stats.writes} months written`,
      ].join("\n") + "\n",
    );
  }
  return f.gaps.length > 0 ? ExitCode.PARTIAL : ExitCode.OK;
}

/**
 * Runs `fetch --data aggTrades`: streamed (archive, then REST for what it lacks) straight
 * into `--out`, or counted with the first rows shown. Not cached: `--source cache` is a
 * usage error.
 */
export async function runAggTradesFetch(
  a: FetchArgs,
  { io, signal }: CommandContext,
): Promise<number> {
  if (a.source === "cache") {
    throw new UsageError(
      'aggTrades are not cached: --source "cache" is not allowed; allowed: auto, vision, rest',
    );
  }
  const now = a.now;
  const clock = now === undefined ? undefined : () => now;
  await using vision = a.source === "rest" ? undefined : new VisionDataClient({
    marketType: a.market,
    baseUrl: a.visionUrl,
    now: clock,
    signal,
    concurrency: a.concurrency,
  });
  await using rest = a.source === "vision" ? undefined : new RestDataClient({
    marketType: a.market,
    baseUrl: a.restUrl,
    now: clock,
    signal,
  });
  const gaps: TimeRange[] = [];
  const t0 = performance.now();
  const stream = streamAggTradesWithFallback(vision, rest, {
    symbol: a.symbol,
    start: a.start,
    end: a.end ?? now ?? Date.now(),
    signal,
    onGap: (g) => gaps.push(g),
    // Each chunk is written (or counted) before the next is asked for.
    releaseChunks: true,
  });
  let rows = 0;
  let wrote = "";
  if (a.out) {
    const { writeAggTrades } = await import("../agg_trades/export.ts");
    const out = await writeAggTrades(stream, a.out, { format: a.format, signal });
    rows = out.rows;
    wrote = `, wrote ${a.out} (${formatBytes(out.bytes)})`;
  } else {
    const head: string[][] = [];
    for await (const c of stream) {
      for (let i = 0; i < c.aggTradeId.length && head.length < HEAD_ROWS; i++) head.push(row(c, i));
      rows += c.aggTradeId.length;
    }
    io.stdout(formatTable(["agg_trade_id", "price", "quantity", "time", "buyer_maker"], head));
  }
  if (!a.quiet) {
    const g = gaps.map((x) => `${iso(x.start)} → ${iso(x.end)}`).join(", ") || "none";
    io.stderr(
      `${a.symbol} ${a.market} aggTrades: ${formatCount(rows)} rows\ngaps: ${g}\n` +
        `time: ${formatMs(performance.now() - t0)}${wrote}\n`,
    );
  }
  return gaps.length > 0 ? ExitCode.PARTIAL : ExitCode.OK;
}

function row(c: AggTradeColumns, i: number): string[] {
  return [
    String(c.aggTradeId[i]),
    formatNumber(c.price[i]),
    formatNumber(c.quantity[i]),
    iso(c.transactTime[i]),
    c.isBuyerMaker[i] ? "true" : "false",
  ];
}
