/**
 * `vision-data replica`: the bundled Binance-compatible server (Vision archive, S3 listing,
 * REST klines/exchangeInfo) on 127.0.0.1, for offline work; runs until Ctrl-C.
 *
 * @module
 */
import { normalizeSymbol } from "../market.ts";
import { parseCommandArgs, parseDateArg, parseIntArg, str, UsageError } from "./_args.ts";
import { type Command, type CommandContext, ExitCode } from "./_command.ts";
import { formatMs } from "./_io.ts";

const USAGE = `Usage: vision-data replica [--port N] [--now DATE] [--symbols A,B]

Serves a deterministic, Binance-compatible replica on 127.0.0.1: the Vision archive
(zips + .CHECKSUM, daily and monthly, with publication lag), its S3 listing, and the REST
klines/exchangeInfo endpoints of spot, USDⓈ-M and COIN-M. Point the CLI at it with
--vision-url/--rest-url. Runs until Ctrl-C, then closes every connection and exits 0.

Options:
  --port N            port to listen on (0: any free port)                 [default: 8765]
  --now DATE          the replica's clock, fixed (YYYY-MM-DD, ISO-8601 or epoch ms)
                                                                    [default: the real clock]
  --symbols A,B       listed symbols (known ones keep their markets and listing dates;
                      others are listed on spot and um from 2020-01-01, *_PERP on cm)
                                  [default: BTCUSDT, ETHUSDT, ADABTC, BTCUSD_PERP, ETHUSD_PERP]
  --weight-limit L    REST request weight per window: N for every market, or
                      spot=N,um=N,cm=N                  [default: spot=6000,um=2400,cm=2400]
  --weight-window-ms N  length of the sliding rate-limit window         [default: 60000]
  --lag-daily-ms N    publication lag of daily files after the day ends [default: 21600000]
  --lag-monthly-ms N  publication lag of monthly files                  [default: 259200000]
  --latency-ms N      delay before every response, in ms (a wide-area round trip)
                                                                          [default: 0]
  --bandwidth-mbps N  pace of every response body, in megabits/s (per connection)
                                                                    [default: no limit]
  --help, -h          this text
`;

const OPTIONS = {
  port: { type: "string" },
  now: { type: "string" },
  symbols: { type: "string" },
  "weight-limit": { type: "string" },
  "weight-window-ms": { type: "string" },
  "lag-daily-ms": { type: "string" },
  "lag-monthly-ms": { type: "string" },
  "latency-ms": { type: "string" },
  "bandwidth-mbps": { type: "string" },
} as const;

/** A positive decimal number option (`--bandwidth-mbps 0.5`). */
function parsePositiveNumber(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(
      `Bad value for --${name} ${JSON.stringify(value)}: expected a number > 0 (e.g. 50 or 0.5)`,
    );
  }
  return n;
}

async function run(args: string[], { io, signal }: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(args, OPTIONS, 0);
  if (values.help) {
    io.stdout(USAGE);
    return ExitCode.OK;
  }
  const port = parseIntArg("port", str(values, "port") ?? "8765", 0, 65_535);
  const now = str(values, "now");
  const symbols = str(values, "symbols")?.split(",").filter((s) => s.trim()).map((s) =>
    normalizeSymbol(s)
  );
  const forward = ["--port", String(port)];
  if (now !== undefined) forward.push("--now", String(parseDateArg("now", now)));
  if (symbols?.length) forward.push("--symbols", symbols.join(","));
  for (const name of ["weight-window-ms", "lag-daily-ms", "lag-monthly-ms"] as const) {
    const v = str(values, name);
    if (v !== undefined) forward.push(`--${name}`, String(parseIntArg(name, v, 0, 2 ** 31)));
  }
  const latency = str(values, "latency-ms");
  if (latency !== undefined) {
    forward.push("--latency-ms", String(parseIntArg("latency-ms", latency, 0, 3_600_000)));
  }
  const bandwidth = str(values, "bandwidth-mbps");
  if (bandwidth !== undefined) {
    forward.push("--bandwidth-mbps", String(parsePositiveNumber("bandwidth-mbps", bandwidth)));
  }
  const weightLimit = str(values, "weight-limit");
  if (weightLimit !== undefined) forward.push("--weight-limit", weightLimit);
  // The replica's own entry point prints the URLs and disposes on abort; we only validate.
  const { parseServeArgs, serveReplica } = await import("../../testing/serve.ts");
  try {
    parseServeArgs(forward);
  } catch (err) {
    // The replica's parser names the bad value; a bad flag is a usage error (exit 2).
    throw new UsageError(err instanceof Error ? err.message.split("\n")[0] : String(err));
  }
  let stoppedAt = 0;
  signal.addEventListener("abort", () => stoppedAt = performance.now(), { once: true });
  await serveReplica(forward, { signal, print: (line) => io.stdout(line + "\n") });
  io.stdout(`Replica stopped; closed in ${formatMs(performance.now() - stoppedAt)}.\n`);
  return ExitCode.OK;
}

/** The `replica` command. */
export const replicaCommand: Command = {
  name: "replica",
  summary: "run the bundled offline Binance replica (Vision + REST) until Ctrl-C",
  usage: USAGE,
  run,
};
