/**
 * `vision-data demo`: the end-to-end tour on a fresh machine with no internet. Starts the
 * in-process replica (or, with `--live`, talks to the real Binance), runs the historical and
 * recent examples through the whole stack (Vision + REST + cache), then disposes a manager
 * in the middle of a stalled download and measures how long that takes. Temp dirs are
 * removed and checked for before it exits.
 *
 * @module
 */
import { dirname, join } from "@std/path";
import { KlineCache } from "../cache/mod.ts";
import { ClientClosedError } from "../errors.ts";
import { DataSource } from "../klines.ts";
import { DataSourceManager } from "../manager/mod.ts";
import { TEMP_DIR_PREFIX } from "../resource/temp_dir.ts";
import { dayStart } from "../time.ts";
import type { Replica } from "../../testing/mod.ts";
import { parseCommandArgs, parseDateArg, str, UsageError } from "./_args.ts";
import { type Command, type CommandContext, ExitCode } from "./_command.ts";
import { formatBytes, formatCount, formatMs, formatTable } from "./_io.ts";
import { tourHistorical, tourRecent } from "./_tour.ts";

const USAGE = `Usage: vision-data demo [--live] [--verbose] [--now DATE]

Runs the README's tour, offline by default: starts the bundled Binance replica in this
process, fetches BTCUSDT through the DataSourceManager twice (one hour of 1s klines from
90 days ago via the Vision archive, fetched then served from the cache; the last 48 hours
of 1m klines in AUTO mode, Vision for published days and REST for the rest) into a
temporary cache, then disposes a manager while a download is stalled and reports how
long disposal took. Removes its temp dirs and checks none is left.

Options:
  --live       use the real data.binance.vision and api.binance.com (needs internet)
  --verbose    also print each step's detail (cache counters, first/last rows)
  --now DATE   fix the replica's clock (YYYY-MM-DD, ISO-8601 or epoch ms) [default: real time]
  --help, -h   this text
`;

const DISPOSE_BUDGET_MS = 5000;
const DAY_MS = 86_400_000;

interface Endpoints {
  visionUrl?: string;
  restUrl?: string;
  now?: () => number;
}

interface Step {
  name: string;
  rows: number;
  sources: Record<string, number>;
  gaps: number;
  ms: number;
}

async function run(args: string[], { io, signal }: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(args, {
    live: { type: "boolean" },
    verbose: { type: "boolean" },
    now: { type: "string" },
  }, 0);
  if (values.help) {
    io.stdout(USAGE);
    return ExitCode.OK;
  }
  const live = values.live === true;
  const nowArg = str(values, "now");
  if (live && nowArg !== undefined) throw new UsageError("--now is for the replica, not --live");
  const now = nowArg === undefined ? undefined : parseDateArg("now", nowArg);
  const say = (line: string) => io.stdout(line + "\n");
  const started = performance.now();
  const tmp = await Deno.makeTempDir({ prefix: "vision-data-demo-" });
  const cacheDir = join(tmp, "cache");
  try {
    const { startReplica } = await import("../../testing/mod.ts");
    await using replica = live ? undefined : await startReplica({ now });
    const endpoints: Endpoints = replica
      ? { visionUrl: replica.visionUrl, restUrl: replica.restUrl, now: () => replica.now() }
      : {};
    say(
      replica
        ? `Offline: Binance replica at ${replica.origin} (now ${
          new Date(replica.now()).toISOString()
        })`
        : "Live: data.binance.vision and api.binance.com",
    );
    say(`Cache: ${cacheDir} (temporary)\n`);

    const log = values.verbose ? (line: string) => say("  " + line) : () => {};
    const steps: Step[] = [];
    for (
      const [name, example] of [
        ["historical: 1s, 1 h, 90 days ago (VISION, 2 calls)", tourHistorical],
        ["recent: 1m, last 48 h (AUTO)", tourRecent],
      ] as const
    ) {
      // The steps take no signal: Ctrl-C lets the running one finish, then stops here.
      signal.throwIfAborted();
      const t0 = performance.now();
      const r = await example({ ...endpoints, cacheDir, log });
      steps.push({
        name,
        rows: r.klines.length,
        sources: r.sources,
        gaps: r.klines.gaps.length,
        ms: performance.now() - t0,
      });
    }
    signal.throwIfAborted();

    const dispose = await measureDisposeMidDownload({ replica, endpoints, signal });
    const info = await new KlineCache({ dir: cacheDir }).info();

    say(formatTable(
      ["step", "rows", "rows per source", "gaps", "time"],
      steps.map((s) => [
        s.name,
        formatCount(s.rows),
        Object.entries(s.sources).map(([k, n]) => `${k} ${formatCount(n)}`).join(", ") || "–",
        String(s.gaps),
        formatMs(s.ms),
      ]),
    ));
    say(
      `cache: ${info.files} day files, ${formatCount(info.rows)} rows, ${
        formatBytes(info.bytes)
      } ` +
        `(${
          info.groups.map((g) => `${g.symbol} ${g.interval} ${g.firstDay}…${g.lastDay}`).join("; ")
        })`,
    );
    say(
      `dispose while a download is ${replica ? "stalled" : "in flight"}: ${formatMs(dispose.ms)} ` +
        `(budget ${formatMs(DISPOSE_BUDGET_MS)}; the pending call got ${dispose.outcome})`,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
  const leftovers = [...Deno.readDirSync(dirname(tmp))].filter((e) =>
    e.name.startsWith(`${TEMP_DIR_PREFIX}${Deno.pid}-`) || e.name === tmp
  );
  say(
    `temp dirs left: ${leftovers.length === 0 ? "none" : leftovers.map((e) => e.name).join(", ")}` +
      ` · total ${formatMs(performance.now() - started)}`,
  );
  return leftovers.length === 0 ? ExitCode.OK : ExitCode.ERROR;
}

/**
 * Starts a Vision download (stalled by the replica, or a real one in flight), disposes the
 * manager once the request is out, and measures the dispose call.
 */
async function measureDisposeMidDownload(
  options: { replica?: Replica; endpoints: Endpoints; signal: AbortSignal },
): Promise<{ ms: number; outcome: string }> {
  const { replica, endpoints, signal } = options;
  const prefix = "/data/spot/daily/klines/ETHUSDT/";
  replica?.setFaults([{ match: prefix + "*", kind: "stallBody", afterBytes: 1024 }]);
  const manager = new DataSourceManager({
    marketType: "spot",
    useCache: false,
    disposeTimeoutMs: DISPOSE_BUDGET_MS,
    ...endpoints,
  });
  // Three whole days (daily archives only) well inside the published part of the archive.
  const start = dayStart((endpoints.now ?? Date.now)() - 12 * DAY_MS);
  const inFlight = new AbortController();
  const onAbort = () => inFlight.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const pending = manager.getData({
    symbol: "ETHUSDT",
    interval: "1m",
    start,
    end: start + 3 * DAY_MS,
    enforceSource: DataSource.VISION,
    // Live, there is no stall to wait for: the first progress report means bytes are flowing.
    onProgress: replica ? undefined : () => inFlight.abort(),
  }).then(
    () => "its data (it finished first)",
    (err) => err instanceof ClientClosedError ? "ClientClosedError" : (err as Error).name,
  );
  try {
    const arrived = replica
      ? replica.waitFor((e) => e.path.startsWith(prefix) && e.state === "stalled", {
        signal: inFlight.signal,
      })
      : new Promise<void>((resolve) => inFlight.signal.addEventListener("abort", () => resolve()));
    await Promise.race([arrived.catch(() => {}), pending]);
    const t0 = performance.now();
    await manager[Symbol.asyncDispose]();
    const ms = performance.now() - t0;
    return { ms, outcome: await pending };
  } finally {
    signal.removeEventListener("abort", onAbort);
    replica?.setFaults([]);
  }
}

/** The `demo` command. */
export const demoCommand: Command = {
  name: "demo",
  summary: "end-to-end tour against the bundled replica (or --live Binance)",
  usage: USAGE,
  run,
};
