/**
 * `vision-data watch`: live closed candles of one or more symbols, printed as they close (CSV
 * or JSON lines) until Ctrl-C — with the KlineStream's reconnects and REST repairs, so the
 * printed sequence of each symbol has no holes and no duplicates.
 *
 * @module
 */
import { EXPORT_COLUMNS } from "../columns.ts";
import { CSV_HEADER, formatNumber } from "../export/csv.ts";
import { KlineStream, type KlineUpdate } from "../live/mod.ts";
import { InvalidOptionError } from "../limit_errors.ts";
import type { Interval, MarketType } from "../market.ts";
import { parseCommandArgs, parseIntervalArg, parseMarketArg, str, UsageError } from "./_args.ts";
import { type Command, type CommandContext, ExitCode } from "./_command.ts";

const USAGE = `Usage: vision-data watch SYMBOL[,SYMBOL…] [options]

Prints each closed candle as it closes, until Ctrl-C (exit 130). After a disconnect the
stream reconnects and fetches the candles it missed from REST first, so each symbol's
sequence has no holes and no duplicates.

Options:
  --market spot|um|cm      market (spot, USDⓈ-M futures, COIN-M futures)   [default: spot]
  --interval IV            1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w  [default: 1m]
  --format csv|jsonl       CSV with a header, or one JSON object per line   [default: csv]
  --ws-url URL             WebSocket base URL  [default: Binance's, per market]
  --rest-url URL           REST API base URL for repairs  [default: Binance's, per market]
  --quiet, -q              no connection messages on stderr
  --help, -h               this text

CSV columns: symbol,open_time,open,high,low,close,volume,close_time,quote_volume,count,
taker_buy_volume,taker_buy_quote_volume,source (times are epoch ms; source: socket or rest).
`;

/** The validated `watch` arguments. */
export interface WatchArgs {
  symbols: string[];
  market: MarketType;
  interval: Interval;
  format: "csv" | "jsonl";
  wsUrl?: string;
  restUrl?: string;
  quiet: boolean;
}

const OPTIONS = {
  market: { type: "string" },
  interval: { type: "string" },
  format: { type: "string" },
  "ws-url": { type: "string" },
  "rest-url": { type: "string" },
  quiet: { type: "boolean", short: "q" },
} as const;

/** Parses and validates `watch` arguments; `undefined` means `--help` was asked for. */
export function parseWatchArgs(args: string[]): WatchArgs | undefined {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, 1);
  if (values.help) return undefined;
  if (positionals.length === 0) throw new UsageError("Missing SYMBOL (e.g. BTCUSDT,ETHUSDT)");
  const symbols = positionals[0].split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (symbols.length === 0) {
    throw new UsageError(`No symbol in ${JSON.stringify(positionals[0])}: e.g. BTCUSDT,ETHUSDT`);
  }
  const format = str(values, "format") ?? "csv";
  if (format !== "csv" && format !== "jsonl") {
    throw new UsageError(`Unknown --format ${JSON.stringify(format)}: allowed csv, jsonl`);
  }
  return {
    symbols,
    market: parseMarketArg(str(values, "market") ?? "spot"),
    interval: parseIntervalArg(str(values, "interval") ?? "1m"),
    format,
    wsUrl: str(values, "ws-url"),
    restUrl: str(values, "rest-url"),
    quiet: values.quiet === true,
  };
}

/** One CSV line of a closed candle. */
function csvLine(u: KlineUpdate): string {
  return `${u.symbol},${
    EXPORT_COLUMNS.map((c) => formatNumber(u[c.field])).join(",")
  },${u.source}\n`;
}

/** One JSON line of a closed candle. */
function jsonLine(u: KlineUpdate): string {
  const { eventTime: _e, closed: _c, ...rest } = u;
  return JSON.stringify(rest) + "\n";
}

async function runWatch(args: string[], ctx: CommandContext): Promise<number> {
  const a = parseWatchArgs(args);
  if (!a) {
    ctx.io.stdout(USAGE);
    return ExitCode.OK;
  }
  const { io, signal } = ctx;
  // Library validation errors (bad symbol, interval, URL) surface here, before connecting.
  await using stream = openStream(a, ctx);
  if (a.format === "csv") io.stdout(`symbol,${CSV_HEADER},source\n`);
  const line = a.format === "csv" ? csvLine : jsonLine;
  for await (const u of stream) io.stdout(line(u));
  // The stream ends only when the signal aborted (Ctrl-C) or on a fatal error (thrown above).
  if (signal.aborted) throw signal.reason;
  return ExitCode.OK;
}

/** The stream; a bad option (e.g. a malformed URL) is bad usage (exit 2). */
function openStream(a: WatchArgs, { io, signal }: CommandContext): KlineStream {
  try {
    return new KlineStream({
      marketType: a.market,
      symbols: a.symbols,
      interval: a.interval,
      wsUrl: a.wsUrl,
      restUrl: a.restUrl,
      signal,
      onStatus: a.quiet ? undefined : (s) => {
        if (s.state === "open") io.stderr(`connected: ${a.symbols.join(",")} ${a.interval}\n`);
        else if (s.state === "backoff") {
          io.stderr(`disconnected (${s.reason}); reconnecting in ${s.delayMs} ms\n`);
        }
      },
    });
  } catch (err) {
    if (err instanceof InvalidOptionError) throw new UsageError(err.message);
    throw err;
  }
}

/** The `watch` command. */
export const watchCommand: Command = {
  name: "watch",
  summary: "print live closed candles (WebSocket, gaps repaired from REST) until Ctrl-C",
  usage: USAGE,
  run: runWatch,
};
