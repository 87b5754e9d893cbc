/**
 * What every CLI command is, the exit codes they share, and how an error maps to one.
 *
 * @module
 */
import type { DisposeReport } from "../resource/dispose_error.ts";
import {
  InvalidRangeError,
  InvalidSymbolError,
  UnsupportedIntervalError,
  VisionDataError,
} from "../errors.ts";
import { UsageError } from "./_args.ts";
import { UnsupportedDataError } from "../data_errors.ts";
import type { CliIo } from "./_io.ts";
import { EXIT_INTERRUPTED, EXIT_TERMINATED } from "./_interrupt.ts";

/** The CLI's exit codes. */
export const ExitCode = {
  /** Success. */
  OK: 0,
  /** A runtime failure (network, server, disk, corrupt cache found by `cache verify`). */
  ERROR: 1,
  /** Bad input: unknown option, bad value, or a symbol/interval/range the library rejects. */
  USAGE: 2,
  /** The data came back with gaps (missing spans the sources did not have). */
  PARTIAL: 3,
  /** Cancelled by Ctrl-C. */
  INTERRUPTED: EXIT_INTERRUPTED,
  /** Stopped by SIGTERM (cleaned up like Ctrl-C). */
  TERMINATED: EXIT_TERMINATED,
} as const;

/** What a command gets to run with. */
export interface CommandContext {
  /** Output sinks. */
  io: CliIo;
  /** Aborts on Ctrl-C: stop, dispose, and let the error propagate (exit 130). */
  signal: AbortSignal;
}

/** One sub-command. */
export interface Command {
  /** The word after the program name. */
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The full `--help` text. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[], ctx: CommandContext): Promise<number>;
}

/**
 * Bad user input is exit 2 whether the CLI's own parser or the library caught it: in both
 * cases the fix is to change the command line. Everything else is a runtime error (1).
 */
export function exitCodeOf(err: unknown): number {
  if (
    err instanceof UsageError || err instanceof InvalidSymbolError ||
    err instanceof UnsupportedIntervalError || err instanceof InvalidRangeError ||
    err instanceof UnsupportedDataError
  ) return ExitCode.USAGE;
  return ExitCode.ERROR;
}

/** The message to print for an error: typed errors as is, others with their name. */
export function describeError(err: unknown): string {
  if (err instanceof VisionDataError) return err.message;
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (cause: ${err.cause.message})` : "";
    return `${err.name}: ${err.message}${cause}`;
  }
  return String(err);
}

/** The problems of a dispose, for a warning line; `""` when it was clean. */
export function describeDisposeReport(report: DisposeReport | undefined): string {
  if (!report) return "";
  const parts = report.errors.map((e, i) => `${report.failed[i] ?? "step"}: ${describeError(e)}`);
  if (report.timedOut.length > 0) parts.push(`timed out: ${report.timedOut.join(", ")}`);
  return parts.join("; ");
}
