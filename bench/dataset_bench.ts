/**
 * Dataset bench, against a replica in a child process (`testing/serve.ts`): `syncDataset` of
 * 20 symbols × one year (2024) × 1m into a fresh Hive-partitioned Parquet dataset (240
 * partitions, 10.5 M rows), run in a fresh child process so its peak RSS (`VmHWM`) is the
 * sync's own; next to the baseline measured in the same run: one symbol's cold year through a
 * bare `VisionDataClient` (a symbol the sync does not use, so the replica builds its archives
 * cold too), ×20. The ratio is what the dataset adds (Parquet encoding, hashing, manifests,
 * per-month units) over fetching the same rows into memory.
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/dataset_bench.ts`
 *
 * @module
 */
import { fromFileUrl } from "@std/path";
import { denoRunArgs, startReplicaProcess } from "./_replica_process.ts";
import { syncDataset } from "../src/dataset/mod.ts";
import { VisionDataClient } from "../src/vision/client.ts";

const NOW = "2025-03-01T00:00:00Z";
const YEAR = { start: "2024-01-01", end: "2025-01-01" } as const;
const SYMBOLS = Array.from({ length: 20 }, (_, i) => `D${String(i + 1).padStart(2, "0")}USDT`);
const BASELINE_SYMBOL = "BASEUSDT";

/** Options for {@linkcode runDatasetBench}. */
export interface DatasetBenchOptions {
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** What the sync child reports. */
interface ChildFigures {
  ms: number;
  rows: number;
  partitions: number;
  peakBytes: number;
}

/** The figures of one run. */
export interface DatasetBenchResult {
  /** Symbols synced. */
  symbols: number;
  /** Sync wall time (ms), in its own process. */
  syncMs: number;
  /** Rows written. */
  rows: number;
  /** Rows per second of the sync. */
  rowsPerSec: number;
  /** Partitions written. */
  partitions: number;
  /** Peak RSS of the sync process (`VmHWM`), bytes. */
  peakRssBytes: number;
  /** Baseline: one symbol's cold year through `VisionDataClient`, ms. */
  singleColdYearMs: number;
  /** `syncMs / (symbols × singleColdYearMs)`. */
  ratio: number;
}

function statusBytes(field: "VmHWM"): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  return kb === undefined ? NaN : Number(kb) * 1024;
}

/** The `--sync-child URL` mode: one sync, its figures as JSON on stdout. */
async function syncChild(visionUrl: string): Promise<void> {
  const out = await Deno.makeTempDir({ prefix: "vd-dataset-bench-" });
  try {
    const t0 = performance.now();
    const r = await syncDataset({
      out,
      marketType: "spot",
      symbols: SYMBOLS,
      intervals: "1m",
      ...YEAR,
      visionUrl,
      now: () => Date.parse(NOW),
    });
    const figures: ChildFigures = {
      ms: performance.now() - t0,
      rows: r.totals.newRows,
      partitions: r.totals.written,
      peakBytes: statusBytes("VmHWM"),
    };
    console.log(JSON.stringify(figures));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/**
 * Runs the bench once and returns (and by default prints) the figures.
 *
 * @example
 * ```ts ignore
 * import { runDatasetBench } from "./dataset_bench.ts";
 * const r = await runDatasetBench();
 * r.ratio; // e.g. 1.4
 * ```
 */
export async function runDatasetBench(
  options: DatasetBenchOptions = {},
): Promise<DatasetBenchResult> {
  await using replica = await startReplicaProcess({
    now: NOW,
    symbols: [...SYMBOLS, BASELINE_SYMBOL],
  });
  let singleColdYearMs: number;
  {
    await using vision = new VisionDataClient({ marketType: "spot", baseUrl: replica.visionUrl });
    const t0 = performance.now();
    await vision.fetchKlines({ symbol: BASELINE_SYMBOL, interval: "1m", ...YEAR });
    singleColdYearMs = performance.now() - t0;
  }
  const child = await new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(fromFileUrl(import.meta.url), ["--sync-child", replica.visionUrl]),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!child.success) throw new Error(`sync child failed (exit ${child.code})`);
  const f = JSON.parse(new TextDecoder().decode(child.stdout)) as ChildFigures;
  const result: DatasetBenchResult = {
    symbols: SYMBOLS.length,
    syncMs: f.ms,
    rows: f.rows,
    rowsPerSec: f.rows / (f.ms / 1000),
    partitions: f.partitions,
    peakRssBytes: f.peakBytes,
    singleColdYearMs,
    ratio: f.ms / (SYMBOLS.length * singleColdYearMs),
  };
  if (options.print ?? true) {
    console.log(
      `dataset sync ${result.symbols} symbols × 1 year × 1m: ${Math.round(result.syncMs)} ms, ` +
        `${result.rows} rows (${(result.rowsPerSec / 1e6).toFixed(2)} M rows/s), ` +
        `${result.partitions} partitions, peak RSS ${(result.peakRssBytes / 1e6).toFixed(1)} MB; ` +
        `single cold year ${Math.round(singleColdYearMs)} ms → ratio ×${result.ratio.toFixed(2)}`,
    );
  }
  return result;
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--sync-child");
  if (i >= 0) await syncChild(Deno.args[i + 1]);
  else await runDatasetBench();
}
