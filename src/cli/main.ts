/**
 * The `vision-data` command line: fetch klines to CSV/Arrow/Parquet, inspect and verify
 * the cache, run the bundled offline Binance replica, and run the end-to-end demo.
 *
 * ```sh
 * deno run -A jsr:@vision-data/client/cli fetch BTCUSDT --market um --interval 1h \
 *   --start 2024-01-01 --end 2024-02-01 --out btc.parquet
 * ```
 *
 * @module
 */
import { UsageError } from "./_args.ts";
import { type Command, describeError, ExitCode, exitCodeOf } from "./_command.ts";
import { InterruptedError, withInterrupt } from "./_interrupt.ts";
import { VERSION } from "./_version.ts";
import { type CliIo, processIo } from "./_io.ts";

export { ExitCode } from "./_command.ts";
export type { CliIo } from "./_io.ts";

/** A command as listed before its module is loaded. */
interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

// Each command's module (and with it Arrow, Parquet, the live/dataset clients…) is loaded only
// when that command runs: start-up of `fetch` or `--version` does not pay for the others.
// The summaries equal each command's own `summary` (tests/cli_startup_test.ts checks).
const COMMANDS: readonly CommandEntry[] = [
  {
    name: "fetch",
    summary: "fetch klines to CSV/Arrow/Parquet (cache → Vision → REST)",
    load: async () => (await import("./fetch.ts")).fetchCommand,
  },
  {
    name: "cache",
    summary: "inspect (info), check (verify) or delete (clear) the local cache",
    load: async () => (await import("./cache.ts")).cacheCommand,
  },
  {
    name: "replica",
    summary: "run the bundled offline Binance replica (Vision + REST) until Ctrl-C",
    load: async () => (await import("./replica.ts")).replicaCommand,
  },
  {
    name: "demo",
    summary: "end-to-end tour against the bundled replica (or --live Binance)",
    load: async () => (await import("./demo.ts")).demoCommand,
  },
  {
    name: "watch",
    summary: "print live closed candles (WebSocket, gaps repaired from REST) until Ctrl-C",
    load: async () => (await import("./watch.ts")).watchCommand,
  },
  {
    name: "sync",
    summary: "sync many symbols into a partitioned Parquet dataset (--shard K/N, --verify)",
    load: async () => (await import("./sync.ts")).syncCommand,
  },
];

const USAGE =
  `vision-data — Binance klines from the Vision archive and the REST API, cached locally.

Usage: vision-data <command> [options]     (deno task cli <command> …  in a clone;
                                             deno run -A jsr:@vision-data/client/cli <command> …)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(9)}${c.summary}`).join("\n")}

Run 'vision-data <command> --help' for a command's options.

Options: --help, -h  this text · --version  print the version

Exit codes: 0 ok, 1 error, 2 bad usage or input, 3 partial result (gaps), 130 cancelled (Ctrl-C),
143 stopped by SIGTERM.
`;

/** Options for {@linkcode main} (tests capture output and cancel through these). */
export interface MainOptions {
  /** Output sinks; by default the process's stdout/stderr. */
  io?: Partial<CliIo>;
  /** Aborting it cancels the command as Ctrl-C would. */
  signal?: AbortSignal;
}

/**
 * Runs the CLI with `args` (without the program name) and resolves to the exit code:
 * 0 ok, 1 error, 2 usage, 3 partial (gaps), 130 cancelled. Never calls `Deno.exit`.
 *
 * @example
 * ```ts ignore
 * import { main } from "@vision-data/client/cli";
 * const code = await main(["cache", "info"]);
 * ```
 */
export async function main(args: string[], options: MainOptions = {}): Promise<number> {
  const io: CliIo = { ...processIo(), ...options.io };
  const [name, ...rest] = args;
  if (name === "--help" || name === "-h" || name === "help") {
    io.stdout(USAGE);
    return ExitCode.OK;
  }
  if (name === "--version" || name === "-V") {
    io.stdout(`vision-data ${VERSION}\n`);
    return ExitCode.OK;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    const what = name === undefined ? "Missing command" : `Unknown command ${JSON.stringify(name)}`;
    io.stderr(`error: ${what}: allowed ${COMMANDS.map((c) => c.name).join(", ")}\n`);
    io.stderr("see 'vision-data --help'\n");
    return ExitCode.USAGE;
  }
  const command = await entry.load();
  return await withInterrupt(async (signal) => {
    try {
      return await command.run(rest, { io, signal });
    } catch (err) {
      if (signal.aborted) {
        io.stderr("Cancelled.\n");
        const reason = signal.reason;
        return reason instanceof InterruptedError ? reason.exitCode : ExitCode.INTERRUPTED;
      }
      const code = exitCodeOf(err);
      // One line, then where the options are: the whole usage would bury the message.
      io.stderr(`error: ${describeError(err)}\n`);
      if (err instanceof UsageError || code === ExitCode.USAGE) {
        io.stderr(`see 'vision-data ${command.name} --help'\n`);
      }
      return code;
    }
  }, {
    parent: options.signal,
    onFirst: (sig) =>
      io.stderr(
        sig === "SIGINT"
          ? "\nInterrupted: stopping… (press Ctrl-C again to quit at once)\n"
          : `\n${sig}: stopping… (send it again to quit at once)\n`,
      ),
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
