/**
 * Command-line entry of the replica: serves until Ctrl-C (or SIGTERM).
 *
 * ```sh
 * deno run -A testing/serve.ts --port 8765 --now 2026-11-27T00:00:00Z --symbols BTCUSDT,ETHUSDT
 * ```
 *
 * Options: `--port N` (default 8765; 0 = any), `--hostname H`, `--now ISO|ms` (default: the
 * real clock), `--symbols A,B` (default symbols of every market that lists them; unknown names
 * are listed on spot and USDⓈ-M from 2020-01-01, `*_PERP` on COIN-M), `--seed N`,
 * `--faults JSON` (an array of fault rules), `--lag-daily-ms N`, `--lag-monthly-ms N`,
 * `--weight-limit N|spot=N,um=N,cm=N` (REST request weight per window, every market or
 * per market), `--weight-window-ms N` (the rate-limit window, default 60000), `--latency-ms N`
 * (delay before every response), `--bandwidth-mbps N` (pace of every response body).
 *
 * @module
 */
import {
  DEFAULT_SYMBOLS,
  type FaultRule,
  type MarketType,
  type ReplicaSymbol,
  startReplica,
} from "./mod.ts";
import type { ReplicaOptions } from "./_types.ts";

/** Parsed command-line options. */
export interface ServeArgs {
  /** Replica options built from the flags. */
  options: ReplicaOptions;
  /** `--help` was given. */
  help: boolean;
}

/** Usage text of the CLI. */
export const SERVE_USAGE: string =
  `Usage: serve.ts [--port 8765] [--hostname 127.0.0.1] [--now ISO|ms]
                [--symbols BTCUSDT,ETHUSDT] [--seed 1] [--faults '[{"kind":"latency","ms":50}]']
                [--lag-daily-ms 21600000] [--lag-monthly-ms 259200000]
                [--weight-limit N|spot=6000,um=2400,cm=2400] [--weight-window-ms 60000]
                [--latency-ms 0] [--bandwidth-mbps N]`;

const MARKETS: readonly MarketType[] = ["spot", "um", "cm"];

/** `N` (every market) or `spot=N,um=N,cm=N` (the markets named). */
function parseWeightLimit(text: string): Partial<Record<MarketType, number>> {
  const bad = () =>
    new TypeError(
      `--weight-limit needs a positive integer or spot=N,um=N,cm=N, got ${
        JSON.stringify(text)
      }\n${SERVE_USAGE}`,
    );
  const positive = (v: string): number => {
    if (!/^\d+$/.test(v.trim()) || Number(v) <= 0) throw bad();
    return Number(v);
  };
  if (!text.includes("=")) {
    const n = positive(text);
    return { spot: n, um: n, cm: n };
  }
  const out: Partial<Record<MarketType, number>> = {};
  for (const part of text.split(",")) {
    const [market, value] = part.split("=", 2).map((x) => x.trim());
    if (!MARKETS.includes(market as MarketType) || value === undefined) throw bad();
    out[market as MarketType] = positive(value);
  }
  return out;
}

function symbolsFor(names: string[]): ReplicaSymbol[] {
  const out: ReplicaSymbol[] = [];
  for (const raw of names) {
    const name = raw.trim().toUpperCase();
    if (!name) continue;
    const known = DEFAULT_SYMBOLS.filter((s) => s.symbol === name);
    if (known.length > 0) out.push(...known);
    else if (name.includes("_")) {
      out.push({ symbol: name, marketType: "cm", listedAt: "2020-08-10" });
    } else {
      out.push({ symbol: name, marketType: "spot", listedAt: "2020-01-01" });
      out.push({ symbol: name, marketType: "um", listedAt: "2020-01-01" });
    }
  }
  return out;
}

/**
 * Parses the CLI flags; throws a TypeError naming a bad flag.
 *
 * @example
 * ```ts ignore
 * import { parseServeArgs } from "@vision-data/client/testing/serve";
 * parseServeArgs(["--port", "0", "--now", "2024-01-01T00:00:00Z"]).options.port; // 0
 * ```
 */
export function parseServeArgs(args: readonly string[]): ServeArgs {
  const options: ReplicaOptions = { port: 8765 };
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const [name, inline] = flag.includes("=") ? flag.split(/=(.*)/s, 2) : [flag, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new TypeError(`${name} needs a value\n${SERVE_USAGE}`);
      return v;
    };
    const num = (): number => {
      const v = Number(value());
      if (!Number.isFinite(v)) throw new TypeError(`${name} needs a number\n${SERVE_USAGE}`);
      return v;
    };
    switch (name) {
      case "--help":
      case "-h":
        help = true;
        break;
      case "--port":
        options.port = num();
        break;
      case "--hostname":
        options.hostname = value();
        break;
      case "--now": {
        const v = value();
        options.now = /^\d+$/.test(v) ? Number(v) : v;
        break;
      }
      case "--symbols":
        options.symbols = symbolsFor(value().split(","));
        break;
      case "--seed":
        options.seed = num();
        break;
      case "--faults":
        options.faults = JSON.parse(value()) as FaultRule[];
        break;
      case "--lag-daily-ms":
        options.publicationLagMs = { ...options.publicationLagMs, daily: num() };
        break;
      case "--lag-monthly-ms":
        options.publicationLagMs = { ...options.publicationLagMs, monthly: num() };
        break;
      case "--weight-limit":
        options.weightLimitPerMinute = {
          ...options.weightLimitPerMinute,
          ...parseWeightLimit(value()),
        };
        break;
      case "--weight-window-ms": {
        const ms = num();
        if (ms <= 0) {
          throw new TypeError(`--weight-window-ms needs a positive number\n${SERVE_USAGE}`);
        }
        options.rateLimit = { ...options.rateLimit, windowMs: ms };
        break;
      }
      case "--latency-ms": {
        const ms = num();
        if (ms < 0) throw new TypeError(`--latency-ms needs a number ≥ 0\n${SERVE_USAGE}`);
        options.latencyMs = ms;
        break;
      }
      case "--bandwidth-mbps": {
        const mbps = num();
        if (mbps <= 0) throw new TypeError(`--bandwidth-mbps needs a number > 0\n${SERVE_USAGE}`);
        options.bandwidthMbps = mbps;
        break;
      }
      default:
        throw new TypeError(`Unknown flag ${JSON.stringify(flag)}\n${SERVE_USAGE}`);
    }
  }
  return { options, help };
}

/**
 * Runs the replica until `signal` aborts, printing its URLs with `print`.
 *
 * @example
 * ```ts ignore
 * import { serveReplica } from "@vision-data/client/testing/serve";
 * await serveReplica(["--port", "0"], { signal: AbortSignal.timeout(1000) });
 * ```
 */
export async function serveReplica(
  args: readonly string[],
  { signal, print = console.log }: { signal: AbortSignal; print?: (line: string) => void },
): Promise<void> {
  const { options, help } = parseServeArgs(args);
  if (help) {
    print(SERVE_USAGE);
    return;
  }
  await using replica = await startReplica(options);
  print(`vision-data replica (now ${new Date(replica.now()).toISOString()})`);
  print(
    `  vision:  ${replica.visionUrl}/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-YYYY-MM-DD.zip`,
  );
  print(`  rest:    ${replica.restUrl}/api/v3/klines  /fapi/v1/klines  /dapi/v1/klines`);
  print(`  listing: ${replica.listingUrl}?prefix=data/spot/daily/klines/&delimiter=/`);
  print(
    `  ws:      ${replica.live.url}/ws/btcusdt@kline_1m  (futures: ${replica.live.urlFor("um")}/…)`,
  );
  print("Press Ctrl-C to stop.");
  if (signal.aborted) return;
  await new Promise<void>((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

if (import.meta.main) {
  const ac = new AbortController();
  const stop = () => ac.abort();
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  try {
    await serveReplica(Deno.args, { signal: ac.signal });
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    Deno.exitCode = 2;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
    if (Deno.build.os !== "windows") Deno.removeSignalListener("SIGTERM", stop);
  }
}
