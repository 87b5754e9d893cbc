/**
 * RestDataClient bench: 30 days of 1m klines (43,200 rows → 44 spot pages of 1000, 29 USDⓈ-M
 * pages of 1500) from a replica running in a separate process (`testing/serve.ts`), so the
 * replica does not take the client's CPU.
 *
 * - the client (fresh per rep: new HTTP client and connections), default concurrency 4 and
 *   pacing on at Binance's real budgets — pages/s and the share of wall time the weight
 *   budget held requests back;
 * - baselines measured in the same run: the same number of raw sequential fetches of one
 *   page (fetch + read, no client), and the same raw fetches 4 at a time (the ceiling of
 *   concurrency 4) → ratios. Each measurement gets a fresh replica process, since the raw
 *   fetches do not pace and all runs together would pass USDⓈ-M's real 2400 weight a
 *   minute (so `reps` ≤ 6 keeps every raw run under it);
 * - the budget binding: a replica whose limit is 60 weight per 1 s window (started by this
 *   script in a second process, since `serve.ts` has no rate-limit flags), the client paced
 *   under the same budget — wall time against the least time the budget allows, its wait
 *   share, and the 429s it drew (must be 0).
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/rest_bench.ts`
 *
 * @module
 */
import { fromFileUrl } from "@std/path";
import { type ReplicaProcess, startReplicaProcess } from "./_replica_process.ts";
import { RestDataClient } from "../src/rest/client.ts";
import { planPages } from "../src/rest/_pagination.ts";
import { marketCapabilities, type MarketType } from "../src/market.ts";

/** Options for {@linkcode runRestBench}. */
export interface RestBenchOptions {
  /** Timed repetitions of each measurement (the median is reported; ≤ 6). @default {5} */
  reps?: number;
  /** Client concurrency. @default {4} */
  concurrency?: number;
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** Figures of one market's 30-day fetch (times are medians, ms). */
export interface RestMarketFigures {
  /** The market. */
  market: MarketType;
  /** Pages (requests) of the fetch. */
  pages: number;
  /** Rows returned. */
  rows: number;
  /** Client wall time. */
  ms: number;
  /** Client pages per second. */
  pagesPerSec: number;
  /** `pages` raw sequential fetches of one page (fetch + read). */
  rawSequentialMs: number;
  /** The same fetches, `concurrency` at a time. */
  rawParallelMs: number;
  /** `rawSequentialMs / ms`: the client's speed-up over one raw request at a time. */
  speedupVsRawSequential: number;
  /** `ms / rawParallelMs`: the client's cost over bare parallel fetches (decode, merge, pacing). */
  costVsRawParallel: number;
  /** Wall-clock ms the weight budget held requests back. */
  budgetWaitMs: number;
  /** `budgetWaitMs / ms`. */
  budgetWaitShare: number;
}

/** Figures of the budget-bound run. */
export interface RestPacedFigures {
  /** The server's (and client's) budget: weight per window. */
  limit: number;
  /** The window, ms. */
  windowMs: number;
  /** Pages fetched (spot, weight 2 each). */
  pages: number;
  /** Client wall time. */
  ms: number;
  /** The least time the budget allows: whole windows needed beyond the first at 90 %. */
  budgetMinMs: number;
  /** `ms / budgetMinMs` (1 = paced exactly as tight as the safety margin allows). */
  vsBudgetMin: number;
  /** Wall-clock ms the budget held requests back. */
  budgetWaitMs: number;
  /** `budgetWaitMs / ms`. */
  budgetWaitShare: number;
  /** 429 answers drawn (pacing works when this is 0). */
  rateLimited: number;
}

/** The figures of one run. */
export interface RestBenchResult {
  /** Spot: 44 pages. */
  spot: RestMarketFigures;
  /** USDⓈ-M: 29 pages. */
  um: RestMarketFigures;
  /** The budget binding (60 weight per second). */
  paced: RestPacedFigures;
  /** 1-minute load average when the run started. */
  loadAverage: number;
}

const NOW = "2024-03-01T00:00:00Z";
const START = Date.UTC(2024, 0, 1);
const END = START + 30 * 86_400_000;
const PACED = { limit: 60, windowMs: 1000 };

/** The replica CLI (`testing/serve.ts`) at Binance's real budgets. */
function spawnServe(): Promise<ReplicaProcess> {
  return startReplicaProcess({ now: NOW, symbols: ["BTCUSDT"] });
}

/** This script in replica mode, with a tight budget (serve.ts has no rate-limit flags). */
function spawnTightReplica(): Promise<ReplicaProcess> {
  return startReplicaProcess({
    now: NOW,
    script: fromFileUrl(import.meta.url),
    args: ["--tight-replica"],
  });
}

async function median(reps: number, fn: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await fn());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function pageUrl(base: string, market: MarketType): string {
  const caps = marketCapabilities(market);
  const page = planPages({ start: START, end: END }, { market, interval: "1m" })[0];
  const q = new URLSearchParams({
    symbol: "BTCUSDT",
    interval: "1m",
    startTime: String(page.start),
    endTime: String(page.end - 1),
    limit: String(page.limit),
  });
  return `${base}${caps.restKlinesPath}?${q}`;
}

async function rawFetch(url: string): Promise<void> {
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${url}`);
}

async function rawParallel(url: string, n: number, concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < n) await rawFetch(url);
  }));
}

async function clientRun(
  base: string,
  market: MarketType,
  concurrency: number,
  extra: { weightBudgetPerMinute?: number; weightWindowMs?: number } = {},
): Promise<{ ms: number; rows: number; waitMs: number; rateLimited: number }> {
  const t0 = performance.now();
  await using rest = new RestDataClient({
    marketType: market,
    baseUrl: base,
    concurrency,
    now: () => Date.parse(NOW),
    ...extra,
  });
  const k = await rest.fetchKlines({ symbol: "BTCUSDT", interval: "1m", start: START, end: END });
  const ms = performance.now() - t0;
  if (k.length !== 43_200 || k.gaps.length > 0) {
    throw new Error(`${market}: ${k.length} rows, gaps ${JSON.stringify(k.gaps)}`);
  }
  return {
    ms,
    rows: k.length,
    waitMs: rest.stats.weightWaitMs,
    rateLimited: rest.stats.rateLimited,
  };
}

async function marketFigures(
  market: MarketType,
  reps: number,
  concurrency: number,
): Promise<RestMarketFigures> {
  const pages = planPages({ start: START, end: END }, { market, interval: "1m" }).length;
  // A fresh replica process per measurement: the raw baselines do not pace, and all runs
  // together would pass USDⓈ-M's real 2400 weight a minute (29 pages weigh 290).
  let waitMs = 0;
  let rows = 0;
  const clientReplica = await spawnServe();
  let ms: number;
  try {
    await clientRun(clientReplica.restUrl, market, concurrency); // warm replica and JIT, untimed
    ms = await median(reps, async () => {
      const r = await clientRun(clientReplica.restUrl, market, concurrency);
      waitMs = r.waitMs;
      rows = r.rows;
      return r.ms;
    });
  } finally {
    await clientReplica.stop();
  }
  const rawTime = async (run: (url: string) => Promise<void>): Promise<number> => {
    const raw = await spawnServe();
    try {
      const url = pageUrl(raw.restUrl, market);
      await rawFetch(url); // warm, untimed
      return await median(reps, async () => {
        const t0 = performance.now();
        await run(url);
        return performance.now() - t0;
      });
    } finally {
      await raw.stop();
    }
  };
  const rawSequentialMs = await rawTime(async (url) => {
    for (let i = 0; i < pages; i++) await rawFetch(url);
  });
  const rawParallelMs = await rawTime((url) => rawParallel(url, pages, concurrency));
  return {
    market,
    pages,
    rows,
    ms: round(ms),
    pagesPerSec: round(pages / (ms / 1000)),
    rawSequentialMs: round(rawSequentialMs),
    rawParallelMs: round(rawParallelMs),
    speedupVsRawSequential: round(rawSequentialMs / ms, 2),
    costVsRawParallel: round(ms / rawParallelMs, 2),
    budgetWaitMs: round(waitMs),
    budgetWaitShare: round(waitMs / ms, 3),
  };
}

async function pacedFigures(concurrency: number): Promise<RestPacedFigures> {
  const tight = await spawnTightReplica();
  try {
    const pages = planPages({ start: START, end: END }, { market: "spot", interval: "1m" }).length;
    const weight = pages * marketCapabilities("spot").restWeight(1000);
    const cap = Math.floor(PACED.limit * 0.9);
    const budgetMinMs = Math.ceil(weight / cap - 1) * PACED.windowMs;
    const r = await clientRun(tight.restUrl, "spot", concurrency, {
      weightBudgetPerMinute: PACED.limit,
      weightWindowMs: PACED.windowMs,
    });
    return {
      ...PACED,
      pages,
      ms: round(r.ms),
      budgetMinMs,
      vsBudgetMin: round(r.ms / budgetMinMs, 2),
      budgetWaitMs: round(r.waitMs),
      budgetWaitShare: round(r.waitMs / r.ms, 3),
      rateLimited: r.rateLimited,
    };
  } finally {
    await tight.stop();
  }
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Runs the bench and returns (and by default prints) the figures.
 *
 * @example
 * ```ts ignore
 * import { runRestBench } from "./rest_bench.ts";
 * const r = await runRestBench({ reps: 3 });
 * r.spot.pagesPerSec; // e.g. 250
 * ```
 */
export async function runRestBench(options: RestBenchOptions = {}): Promise<RestBenchResult> {
  const loadAverage = Deno.loadavg()[0];
  const reps = Math.min(6, Math.max(1, options.reps ?? 5));
  const concurrency = options.concurrency ?? 4;
  const spot = await marketFigures("spot", reps, concurrency);
  const um = await marketFigures("um", reps, concurrency);
  const paced = await pacedFigures(concurrency);
  const result = { spot, um, paced, loadAverage: round(loadAverage, 2) };
  if (options.print ?? true) {
    console.log(
      `RestDataClient, 30 days of 1m (43,200 rows), concurrency ${concurrency}, ` +
        `median of ${reps} (load ${result.loadAverage})`,
    );
    for (const f of [spot, um]) {
      console.log(
        `  ${f.market.padEnd(4)} ${f.pages} pages: ${f.ms} ms = ${f.pagesPerSec} pages/s; ` +
          `raw sequential ${f.rawSequentialMs} ms (client ×${f.speedupVsRawSequential} faster), ` +
          `raw ×${concurrency} ${f.rawParallelMs} ms (client ×${f.costVsRawParallel}); ` +
          `budget wait ${f.budgetWaitMs} ms (${(f.budgetWaitShare * 100).toFixed(1)} %)`,
      );
    }
    console.log(
      `  paced (${paced.limit} weight / ${paced.windowMs} ms, ${paced.pages} pages): ` +
        `${paced.ms} ms vs budget minimum ${paced.budgetMinMs} ms (×${paced.vsBudgetMin}); ` +
        `budget wait ${paced.budgetWaitMs} ms (${(paced.budgetWaitShare * 100).toFixed(1)} %); ` +
        `429s: ${paced.rateLimited}`,
    );
  }
  return result;
}

/** Replica mode for the budget-bound run: serves until SIGTERM. */
async function serveTightReplica(): Promise<void> {
  const { startReplica } = await import("../testing/mod.ts");
  await using replica = await startReplica({
    now: NOW,
    weightLimitPerMinute: { spot: PACED.limit },
    rateLimit: { windowMs: PACED.windowMs },
  });
  console.log(`rest:    ${replica.restUrl}`);
  const { promise, resolve } = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGTERM", resolve);
  await promise;
  Deno.removeSignalListener("SIGTERM", resolve);
}

if (import.meta.main) {
  if (Deno.args[0] === "--tight-replica") await serveTightReplica();
  else await runRestBench();
}
