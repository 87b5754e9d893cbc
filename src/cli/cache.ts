/**
 * `vision-data cache info|verify|clear`: what is cached, integrity check, deletion.
 *
 * @module
 */
import { type CacheFilter, defaultCacheDir, KlineCache } from "../cache/mod.ts";
import { normalizeSymbol } from "../market.ts";
import { parseCommandArgs, parseIntervalArg, parseMarketArg, str, UsageError } from "./_args.ts";
import { type Command, type CommandContext, ExitCode } from "./_command.ts";
import { formatBytes, formatCount, formatTable } from "./_io.ts";

const USAGE = `Usage: vision-data cache <info|verify|clear> [options]

  info     files, rows and size per market/symbol/interval, with the days covered
  verify   reads every file and checks row counts and checksums; lists corrupt files and
           exits 1 when there are any (--remove deletes them); sweeps stale temp files
  clear    deletes cached files (all of them, or those matching the filters)

Options:
  --cache-dir DIR        cache directory  [default: $VISION_DATA_CACHE_DIR or the user cache]
  --market spot|um|cm    only this market
  --symbol SYMBOL        only this symbol
  --interval IV          only this interval
  --remove               (verify) delete corrupt files
  --help, -h             this text
`;

const OPTIONS = {
  "cache-dir": { type: "string" },
  market: { type: "string" },
  symbol: { type: "string" },
  interval: { type: "string" },
  remove: { type: "boolean" },
} as const;

const ACTIONS = ["info", "verify", "clear"] as const;

async function run(args: string[], { io, signal }: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, OPTIONS, 1);
  if (values.help) {
    io.stdout(USAGE);
    return ExitCode.OK;
  }
  const action = positionals[0];
  if (!(ACTIONS as readonly (string | undefined)[]).includes(action)) {
    throw new UsageError(
      `${action === undefined ? "Missing action" : `Unknown action ${JSON.stringify(action)}`}: ` +
        `allowed ${ACTIONS.join(", ")}`,
    );
  }
  if (values.remove && action !== "verify") throw new UsageError("--remove is for 'cache verify'");
  const filter: CacheFilter = {};
  const market = str(values, "market");
  const symbol = str(values, "symbol");
  const interval = str(values, "interval");
  if (market !== undefined) filter.marketType = parseMarketArg(market);
  if (symbol !== undefined) filter.symbol = normalizeSymbol(symbol);
  if (interval !== undefined) filter.interval = parseIntervalArg(interval);
  const cache = new KlineCache({ dir: str(values, "cache-dir") ?? defaultCacheDir() });

  if (action === "info") {
    const info = await cache.info(filter);
    io.stdout(`Cache: ${info.dir}\n`);
    if (info.files === 0) {
      io.stdout("No cached files.\n");
      return ExitCode.OK;
    }
    const rows = info.groups.map((g) => [
      g.marketType,
      g.symbol,
      g.interval,
      formatCount(g.files),
      formatCount(g.rows),
      formatBytes(g.bytes),
      `${g.firstDay} … ${g.lastDay}`,
    ]);
    rows.push([
      "total",
      "",
      "",
      formatCount(info.files),
      formatCount(info.rows),
      formatBytes(info.bytes),
      "",
    ]);
    io.stdout(formatTable(["market", "symbol", "interval", "files", "rows", "size", "days"], rows));
    return ExitCode.OK;
  }

  if (action === "verify") {
    const result = await cache.verify({ ...filter, remove: values.remove === true, signal });
    io.stdout(
      `Checked ${formatCount(result.checked)} files in ${cache.dir}: ` +
        `${formatCount(result.checked - result.corrupt.length)} ok ` +
        `(${formatCount(result.rows)} rows), ${result.corrupt.length} corrupt\n`,
    );
    for (const e of result.corrupt) io.stdout(`corrupt: ${e.path}\n  ${e.message}\n`);
    if (result.removed > 0) io.stdout(`Removed ${result.removed} corrupt files.\n`);
    if (result.sweptTemps.length > 0) {
      io.stdout(`Removed ${result.sweptTemps.length} stale temp files of interrupted writes.\n`);
    }
    return result.corrupt.length > 0 ? ExitCode.ERROR : ExitCode.OK;
  }

  const result = await cache.clear(filter);
  io.stdout(
    `Removed ${formatCount(result.files)} files (${formatBytes(result.bytes)}) from ${cache.dir}` +
      (result.sweptTemps.length > 0 ? ` and ${result.sweptTemps.length} stale temp files` : "") +
      "\n",
  );
  return ExitCode.OK;
}

/** The `cache` command. */
export const cacheCommand: Command = {
  name: "cache",
  summary: "inspect (info), check (verify) or delete (clear) the local cache",
  usage: USAGE,
  run,
};
