/**
 * Argument parsing for the CLI: `node:util` `parseArgs` in strict mode, plus validators
 * that turn a bad value into a {@linkcode UsageError} naming the value and what is allowed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { VisionDataError } from "../errors.ts";
import { DataSource } from "../klines.ts";
import { ALL_INTERVALS, type Interval, MarketType, parseInterval } from "../market.ts";
import { toEpochMs } from "../time.ts";

/** Bad command-line input: the CLI prints the message and the usage text, and exits 2. */
export class UsageError extends VisionDataError {}

/** The option shapes `parseArgs` accepts, as used by the commands. */
export type OptionSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: string | boolean }
>;

/** Parsed options (`string | boolean | undefined`) and positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Strict `parseArgs` with `--help`/`-h` always allowed; parse failures become
 * {@linkcode UsageError}s.
 */
export function parseCommandArgs(
  args: string[],
  options: OptionSpec,
  maxPositionals: number,
): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args, options),
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (!values.help && parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals.slice(maxPositionals).map((p) => JSON.stringify(p));
    throw new UsageError(`Unexpected argument ${extra.join(", ")}`);
  }
  return { values, positionals: parsed.positionals };
}

/**
 * `--start -7d` → `--start=-7d`: `parseArgs` reads a value starting with `-` as an option
 * and refuses it; a string option followed by `-<digit>…` takes it as its value.
 */
function joinNegativeValues(args: string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.startsWith("--") ? a.slice(2) : undefined;
    if (
      name !== undefined && options[name]?.type === "string" && i + 1 < args.length &&
      /^-\d/.test(args[i + 1])
    ) {
      out.push(`${a}=${args[++i]}`);
    } else out.push(a);
  }
  return out;
}

const MARKETS: readonly string[] = Object.values(MarketType);

/** `--market`: spot, um or cm. */
export function parseMarketArg(value: string): MarketType {
  if (!MARKETS.includes(value)) {
    throw new UsageError(
      `Unknown market ${JSON.stringify(value)}: allowed ${MARKETS.join(", ")}`,
    );
  }
  return value as MarketType;
}

/** `--interval`: any kline interval (`1mo` accepted for `1M`). */
export function parseIntervalArg(value: string): Interval {
  try {
    return parseInterval(value);
  } catch {
    throw new UsageError(
      `Bad interval ${JSON.stringify(value)}: allowed ${ALL_INTERVALS.join(", ")}`,
    );
  }
}

const SOURCES: readonly string[] = Object.values(DataSource);

/** `--source`: auto, cache, vision or rest. */
export function parseSourceArg(value: string): DataSource {
  if (!SOURCES.includes(value)) {
    throw new UsageError(
      `Unknown source ${JSON.stringify(value)}: allowed ${SOURCES.join(", ")}`,
    );
  }
  return value as DataSource;
}

/**
 * A date option: `YYYY-MM-DD`, ISO-8601 date-time (UTC unless a zone is given), epoch ms,
 * `now`, or relative to now (`-7d`, `now-12h`, `-30m`). Calendar-impossible dates
 * (`2024-02-30`), values past the JS Date range and epoch seconds are rejected (see
 * `toEpochMs`), as a {@linkcode UsageError} naming the value.
 */
export function parseDateArg(name: string, value: string, now?: number): number {
  try {
    return toEpochMs(value, `--${name}`, { now });
  } catch (err) {
    if (!(err instanceof VisionDataError)) throw err;
    throw new UsageError(
      `${err.message} (expected YYYY-MM-DD, an ISO-8601 date-time, epoch milliseconds, now, or -7d/-12h/-30m)`,
    );
  }
}

/** A positive integer option (`--concurrency`, `--port` allows 0). */
export function parseIntArg(name: string, value: string, min = 1, max = 65_535): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(
      `Bad value for --${name} ${JSON.stringify(value)}: expected an integer from ${min} to ${max}`,
    );
  }
  return n;
}

/** A string option's value, or `undefined`. */
export function str(values: ParsedArgs["values"], name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}
