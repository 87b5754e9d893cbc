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
import { iso, toEpochMs } from "../time.ts";

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
      args,
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

const DATE_ONLY = /^(\d{4}-\d\d-\d\d)(T|$)/;

/**
 * A date option: `YYYY-MM-DD`, ISO-8601 date-time (UTC unless a zone is given) or epoch
 * ms. Calendar-impossible dates (`2024-02-30`) are rejected instead of rolling over.
 */
export function parseDateArg(name: string, value: string): number {
  const bad = () =>
    new UsageError(
      `Bad date for --${name} ${
        JSON.stringify(value)
      }: expected YYYY-MM-DD, an ISO-8601 date-time, or epoch milliseconds`,
    );
  let ms: number;
  try {
    ms = /^\d+$/.test(value) ? Number(value) : toEpochMs(value, name);
  } catch {
    throw bad();
  }
  const day = DATE_ONLY.exec(value)?.[1];
  if (
    !Number.isSafeInteger(ms) || (day && !iso(ms).startsWith(day) && !/[+-]\d\d:?\d\d$/.test(value))
  ) {
    throw bad();
  }
  return ms;
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
