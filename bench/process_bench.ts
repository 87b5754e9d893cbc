/**
 * Whole-process bench: a cold year of BTCUSDT 1m through the CLI exactly as users run it
 * (`deno run … src/cli/main.ts fetch … --vision-url … --rest-url … --now …`, a fresh cache
 * directory each run), measured as whole processes (wall time from spawn to exit, peak RSS from
 * `/usr/bin/time -v` when present). Baselines measured in the same run, against the same
 * replica (a child process, so serving does not take the client's CPU):
 *
 * - the same fetch with `--no-cache` (target: cache on ≤ 1.3× of it);
 * - `bench/sequential_baseline.ts`: what Binance's official downloader does — every daily zip
 *   one after another, then unzip + parse on one thread (target: the CLI ≥ 5× faster).
 *
 * Every scenario runs on a replica without and with 50 ms latency per request (wide-area
 * behaviour). A warm-up run of each variant comes first (not measured): it fills the
 * replica's archive cache, so every measured run sees the same, already generated archives.
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/process_bench.ts [--quick]`.
 *
 * @module
 */
import { fromFileUrl } from "@std/path";
import { denoRunArgs, startReplicaProcess } from "./_replica_process.ts";

const ROOT = new URL("../", import.meta.url);
const TIME = "/usr/bin/time";
const START = "2024-01-01";
const END = "2025-01-01";
const NOW = "2025-06-01T00:00:00Z";
const ROWS = 527_040;

/** Median wall time and peak RSS of one variant. */
export interface ProcessFigure {
  /** Median wall time of the whole process, ms. */
  ms: number;
  /** Median peak RSS (bytes), when `/usr/bin/time` is available. */
  rssBytes?: number;
  /** Every measured wall time, ms. */
  runs: number[];
}

/** One replica setting. */
export interface ProcessScenario {
  /** Latency the replica adds to every request, ms. */
  latencyMs: number;
  /** CLI fetch with the cache on (fresh cache directory). */
  cacheOn: ProcessFigure;
  /** CLI fetch with `--no-cache`. */
  noCache: ProcessFigure;
  /** The sequential baseline script. */
  sequential: ProcessFigure;
  /** `cacheOn.ms / noCache.ms` (target ≤ 1.3). */
  cacheOverNoCache: number;
  /** `sequential.ms / cacheOn.ms`: how many times faster the CLI is (target ≥ 5). */
  speedupOverSequential: number;
}

/** Options for {@linkcode runProcessBench}. */
export interface ProcessBenchOptions {
  /** Measured runs per variant (after one warm-up). @default {3} */
  reps?: number;
  /** Replica latencies to run, ms. @default {[0, 50]} */
  latencies?: readonly number[];
  /** Print progress and figures. @default {true} */
  print?: boolean;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function hasTime(): Promise<boolean> {
  try {
    return (await Deno.stat(TIME)).isFile;
  } catch {
    return false;
  }
}

/** Runs `deno run <script> …args` as a whole process: wall time, peak RSS, stdout. */
async function timeProcess(
  script: string,
  args: readonly string[],
  withTime: boolean,
): Promise<{ ms: number; rssBytes?: number; out: string }> {
  const deno = denoRunArgs(script, args);
  const cmd = withTime
    ? new Deno.Command(TIME, {
      args: ["-v", Deno.execPath(), ...deno],
      stdout: "piped",
      stderr: "piped",
    })
    : new Deno.Command(Deno.execPath(), { args: deno, stdout: "piped", stderr: "piped" });
  const t0 = performance.now();
  const r = await cmd.output();
  const ms = performance.now() - t0;
  const out = new TextDecoder().decode(r.stdout);
  const err = new TextDecoder().decode(r.stderr);
  if (!r.success) throw new Error(`${script} ${args.join(" ")} failed:\n${err}\n${out}`);
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1];
  return { ms, rssBytes: kb === undefined ? undefined : Number(kb) * 1024, out: out + err };
}

/**
 * Runs every scenario and returns the medians.
 *
 * @example
 * ```ts ignore
 * import { runProcessBench } from "./process_bench.ts";
 * const r = await runProcessBench({ reps: 1, latencies: [0] });
 * console.log(r[0].speedupOverSequential);
 * ```
 */
export async function runProcessBench(
  options: ProcessBenchOptions = {},
): Promise<ProcessScenario[]> {
  const reps = Math.max(1, options.reps ?? 3);
  const print = options.print ?? true;
  const withTime = await hasTime();
  const main = fromFileUrl(new URL("src/cli/main.ts", ROOT));
  const baseline = fromFileUrl(new URL("bench/sequential_baseline.ts", ROOT));
  const out: ProcessScenario[] = [];
  for (const latencyMs of options.latencies ?? [0, 50]) {
    await using replica = await startReplicaProcess({ now: NOW, latencyMs });
    const tmp = await Deno.makeTempDir({ prefix: "vision-process-bench-" });
    try {
      let n = 0;
      const fresh = () => `${tmp}/${n++}`;
      const cli = (cache: boolean) => [
        "fetch",
        "BTCUSDT",
        "--interval",
        "1m",
        "--start",
        START,
        "--end",
        END,
        "--vision-url",
        replica.visionUrl,
        "--rest-url",
        replica.restUrl,
        "--now",
        NOW,
        ...(cache ? ["--cache-dir", fresh()] : ["--no-cache"]),
      ];
      const variants = {
        cacheOn: async () => {
          const r = await timeProcess(main, cli(true), withTime);
          if (!r.out.includes(`${ROWS.toLocaleString("en-US")} rows`)) {
            throw new Error(`CLI did not fetch ${ROWS} rows:\n${r.out}`);
          }
          return r;
        },
        noCache: () => timeProcess(main, cli(false), withTime),
        sequential: async () => {
          const r = await timeProcess(baseline, [
            "--vision-url",
            replica.visionUrl,
            "--start",
            START,
            "--end",
            END,
            "--dir",
            fresh(),
          ], withTime);
          const rows = JSON.parse(r.out.split("\n")[0]).rows;
          if (rows !== ROWS) throw new Error(`baseline parsed ${rows} rows, not ${ROWS}`);
          return r;
        },
      };
      const runs: Record<keyof typeof variants, { ms: number; rssBytes?: number }[]> = {
        cacheOn: [],
        noCache: [],
        sequential: [],
      };
      // Warm-up: builds the replica's archives once (and compiles each script).
      for (const v of Object.values(variants)) await v();
      for (let i = 0; i < reps; i++) {
        for (const [name, v] of Object.entries(variants)) {
          const r = await v();
          runs[name as keyof typeof variants].push(r);
          if (print) console.error(`latency ${latencyMs} ms, ${name}: ${r.ms.toFixed(0)} ms`);
        }
      }
      const figure = (rs: { ms: number; rssBytes?: number }[]): ProcessFigure => {
        const rss = rs.map((r) => r.rssBytes).filter((b): b is number => b !== undefined);
        return {
          ms: median(rs.map((r) => r.ms)),
          rssBytes: rss.length ? median(rss) : undefined,
          runs: rs.map((r) => r.ms),
        };
      };
      const cacheOn = figure(runs.cacheOn);
      const noCache = figure(runs.noCache);
      const sequential = figure(runs.sequential);
      out.push({
        latencyMs,
        cacheOn,
        noCache,
        sequential,
        cacheOverNoCache: cacheOn.ms / noCache.ms,
        speedupOverSequential: sequential.ms / cacheOn.ms,
      });
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }
  if (print) {
    for (const s of out) {
      const mb = (f: ProcessFigure) =>
        f.rssBytes ? `, peak RSS ${(f.rssBytes / 1e6).toFixed(0)} MB` : "";
      console.log(`replica latency ${s.latencyMs} ms:`);
      console.log(`  CLI, cache on:   ${s.cacheOn.ms.toFixed(0)} ms${mb(s.cacheOn)}`);
      console.log(`  CLI, --no-cache: ${s.noCache.ms.toFixed(0)} ms${mb(s.noCache)}`);
      console.log(`  sequential:      ${s.sequential.ms.toFixed(0)} ms${mb(s.sequential)}`);
      console.log(
        `  cache on / --no-cache ×${s.cacheOverNoCache.toFixed(2)} (≤ 1.3); ` +
          `CLI ${s.speedupOverSequential.toFixed(1)}× faster than sequential (≥ 5)`,
      );
    }
  }
  return out;
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  await runProcessBench({ reps: quick ? 1 : 3 });
}
