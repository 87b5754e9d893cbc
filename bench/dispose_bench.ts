/**
 * Dispose settle time against its budget. Each case is measured several times, next to a
 * baseline measured in the same run: a bare timer of the same length (`setTimeout` accuracy),
 * so the figures show what the dispose machinery adds on top of the timer it waits on.
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/dispose_bench.ts`
 *
 * @module
 */
import { delay } from "@std/async";
import { DeadlineCleanupManager, ResourceOwner } from "../src/resource/mod.ts";

/** One measured case. Times in ms; `ratio` is median settle / median baseline. */
export interface Row {
  /** What was disposed. */
  case: string;
  /** The documented bound the dispose must settle within (before ε). */
  budgetMs: number;
  /** Measurements taken. */
  runs: number;
  /** Median settle time. */
  medianMs: number;
  /** Fastest settle. */
  minMs: number;
  /** Slowest settle. */
  maxMs: number;
  /** Median settle − budget. */
  overshootMedianMs: number;
  /** Worst settle − budget. */
  overshootMaxMs: number;
  /** Median of a bare `delay(budget)` measured in the same run. */
  baselineMs: number;
  /** medianMs / baselineMs. */
  ratio: number;
}

/** Options for {@linkcode runDisposeBench}. */
export interface DisposeBenchOptions {
  /** Runs of the hung-step case. Default 9. */
  hungStepRuns?: number;
  /** Runs of the 100-task manager case. Default 5. */
  managerRuns?: number;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn().catch(() => {}); // only a strictDispose dispose rejects (with DisposeError)
  return performance.now() - t0;
}

async function measure(
  name: string,
  budgetMs: number,
  runs: number,
  once: () => Promise<unknown>,
): Promise<Row> {
  const settle: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < runs; i++) {
    settle.push(await time(once));
    baseline.push(await time(() => delay(budgetMs)));
  }
  const med = median(settle);
  const base = median(baseline);
  return {
    case: name,
    budgetMs,
    runs,
    medianMs: round(med),
    minMs: round(Math.min(...settle)),
    maxMs: round(Math.max(...settle)),
    overshootMedianMs: round(med - budgetMs),
    overshootMaxMs: round(Math.max(...settle) - budgetMs),
    baselineMs: round(base),
    ratio: Math.round((med / base) * 1000) / 1000,
  };
}

/**
 * Measures dispose settle time vs budget: (a) a `ResourceOwner` with a never-settling release
 * step and a 200 ms budget; (b) a `DeadlineCleanupManager` with 100 tasks that ignore their
 * signal, 1 s deadline + 50 ms unwind window.
 *
 * @example
 * ```ts
 * import { runDisposeBench } from "./dispose_bench.ts";
 * console.table(await runDisposeBench({ hungStepRuns: 3, managerRuns: 1 }));
 * ```
 */
export async function runDisposeBench(options: DisposeBenchOptions = {}): Promise<Row[]> {
  const { hungStepRuns = 9, managerRuns = 5 } = options;
  const rows: Row[] = [];
  rows.push(
    await measure("ResourceOwner, hung step, B=200", 200, hungStepRuns, async () => {
      const owner = new ResourceOwner({ name: "bench", disposeTimeoutMs: 200 });
      owner.adopt("http client", { [Symbol.dispose]: () => {} });
      owner.defer("hung pool close", () => new Promise<void>(() => {}));
      owner.tempDir();
      await owner.disposeAsync();
    }),
  );
  const unwindMs = 50;
  rows.push(
    await measure(
      `DeadlineCleanupManager, 100 hung tasks, 1000+${unwindMs} unwind`,
      1000 + unwindMs,
      managerRuns,
      async () => {
        const manager = new DeadlineCleanupManager({ timeoutMs: 1000, unwindMs });
        manager.startDeadline();
        for (let i = 0; i < 100; i++) {
          manager.createTask(() => new Promise<void>(() => {}), `hung-${i}`);
        }
        await manager[Symbol.asyncDispose]();
      },
    ),
  );
  return rows;
}

/** Prints rows as a small fixed-width table. */
export function formatRows(rows: readonly Row[]): string {
  const head = [
    "case",
    "budget",
    "runs",
    "median",
    "min",
    "max",
    "over(med)",
    "over(max)",
    "timer",
    "ratio",
  ];
  const body = rows.map((r) =>
    [
      r.case,
      r.budgetMs,
      r.runs,
      r.medianMs,
      r.minMs,
      r.maxMs,
      r.overshootMedianMs,
      r.overshootMaxMs,
      r.baselineMs,
      r.ratio,
    ].map(String)
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

if (import.meta.main) {
  const rows = await runDisposeBench();
  console.log("dispose settle time vs budget (ms; timer = bare delay(budget) in the same run)");
  console.log(formatRows(rows));
}
