/**
 * Every bench in one run, printed as ONE markdown table: each figure next to its baseline
 * measured in the same run, and the ratio. Progress goes to stderr, the table to stdout.
 *
 * ```sh
 * deno task bench                 # everything (a few minutes)
 * deno task bench --quick         # fewer repetitions
 * deno task bench --only vision   # one area (or several: --only vision,cache)
 * ```
 *
 * Areas: `vision`, `pipeline`, `cache`, `manager`, `rest`, `dispose`, `replica`, `live`, `dataset`, `limits`, `aggTrades`, `process`, `stream`.
 *
 * @module
 */
import { runDisposeBench } from "./dispose_bench.ts";
import { runPipelineBench } from "./pipeline_bench.ts";
import { runCacheBench } from "./cache_bench.ts";
import { runVisionBench } from "./vision_bench.ts";
import { runRestBench } from "./rest_bench.ts";
import { runManagerBench } from "./manager_bench.ts";
import { runReplicaBench } from "./replica_bench.ts";
import { runReplicaGenerationBench } from "./replica_generation_bench.ts";
import { runLiveBench } from "./live_bench.ts";
import { runDatasetBench } from "./dataset_bench.ts";
import { runLimitsBench } from "./limits_bench.ts";
import { runAggTradesBench } from "./agg_trades_bench.ts";
import { type ProcessFigure, runProcessBench } from "./process_bench.ts";
import { runStreamBench } from "./stream_bench.ts";

/** One line of the table. */
export interface BenchRow {
  /** The area (bench) it comes from. */
  area: string;
  /** What was measured. */
  figure: string;
  /** The measured value (median). */
  value: string;
  /** The baseline it is compared with, measured in the same run (or a fixed reference). */
  baseline: string;
  /** value / baseline, as the ratio that makes sense for the figure. */
  ratio: string;
  /** The target, when there is one. */
  target: string;
}

/** Options for {@linkcode runAllBenches}. */
export interface RunOptions {
  /** Fewer repetitions everywhere. */
  quick?: boolean;
  /** Only these areas (default: all). */
  only?: readonly string[];
  /** Called as each area starts (progress). */
  onArea?: (name: string) => void;
}

/** The areas, in the order they run. */
export const AREAS = [
  "vision",
  "pipeline",
  "cache",
  "manager",
  "rest",
  "dispose",
  "replica",
  "live",
  "dataset",
  "limits",
  "aggTrades",
  "process",
  "stream",
] as const;

const ms = (x: number) => `${fix(x)} ms`;
const x = (r: number) => `×${fix(r, r < 0.1 ? 3 : 2)}`;
const mrows = (r: number) => `${(r / 1e6).toFixed(2)} M rows/s`;
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const pct = (f: number) => `${(f * 100).toFixed(1)} %`;

function fix(v: number, digits = 1): string {
  return Number.isFinite(v) ? String(Math.round(v * 10 ** digits) / 10 ** digits) : "n/a";
}

/**
 * Runs the selected benches and returns the table's rows.
 *
 * @example
 * ```ts ignore
 * import { runAllBenches, formatTable } from "./run.ts";
 * console.log(formatTable(await runAllBenches({ quick: true, only: ["dispose"] })));
 * ```
 */
export async function runAllBenches(options: RunOptions = {}): Promise<BenchRow[]> {
  const quick = options.quick ?? false;
  const only = new Set(options.only ?? AREAS);
  const rows: BenchRow[] = [];
  const add = (
    area: string,
    figure: string,
    value: string,
    baseline = "",
    ratio = "",
    target = "",
  ) => rows.push({ area, figure, value, baseline, ratio, target });

  if (only.has("vision")) {
    options.onArea?.("vision");
    const v = await runVisionBench({ reps: quick ? 3 : 5, print: false });
    const limit = `in-process pipeline limit ${ms(v.inProcessMs)}`;
    add(
      "vision",
      `Cold year 1m (${v.rows} rows) from 12 monthly archives`,
      `${ms(v.monthlyMs)} (${mrows(v.monthlyRowsPerSec)}; CPU ${ms(v.monthlyCpuMs)})`,
      limit,
      x(v.monthlyVsInProcess),
      "≤ 750 ms",
    );
    add(
      "vision",
      "Cold year 1m from 366 daily archives",
      `${ms(v.dailyMs)} (${mrows(v.dailyRowsPerSec)}; CPU ${ms(v.dailyCpuMs)})`,
      limit,
      x(v.dailyVsInProcess),
    );
    add(
      "vision",
      `Warm parse pool ×${v.workers}, the same 12 zips (SHA-256 on the main thread)`,
      ms(v.poolMs),
      limit,
      x(v.poolMs / v.inProcessMs),
    );
    if (v.rss) {
      add(
        "vision",
        "Peak RSS of a cold monthly year (fresh process, VmHWM): increase over the RSS before",
        `+${mb(v.rss.peakBytes - v.rss.beforeBytes)} (peak ${mb(v.rss.peakBytes)})`,
        `final columns ${mb(v.rss.columnsBytes)}`,
        `${x(v.rss.increaseOverColumns)} (peak ${x(v.rss.peakOverColumns)})`,
        "≤ 3×",
      );
    }
    add(
      "vision",
      "VisionDataClient dispose during a stalled download (grace 50 ms)",
      ms(v.disposeStalledMs),
      `budget ${ms(v.disposeBudgetMs)}`,
      x(v.disposeStalledMs / v.disposeBudgetMs),
      "≤ budget + ε",
    );
  }

  if (only.has("pipeline")) {
    options.onArea?.("pipeline");
    const p = await runPipelineBench({ reps: quick ? 3 : 5, print: false });
    const base = p.inflateMs + p.sha256Ms;
    add(
      "pipeline",
      `parseKlineCsv, 1 thread (${p.rows} rows, ${mb(p.csvBytes)} CSV)`,
      `${ms(p.parseMs)} (${mrows(p.parseRowsPerSec)})`,
      `inflateRawSync of the same year ${ms(p.inflateMs)}`,
      x(p.parseMs / p.inflateMs),
    );
    add(
      "pipeline",
      "In-process pipeline: SHA-256 + inflate + CRC-32 + parse, 1 thread",
      `${ms(p.inProcessMs)} (${mrows(p.inProcessRowsPerSec)})`,
      `inflate + SHA-256 alone ${ms(base)}`,
      x(p.inProcessVsBaselines),
    );
    add(
      "pipeline",
      `ParsePool ×${p.workers}, warm`,
      `${ms(p.poolNMs)} (${mrows(p.poolNRowsPerSec)})`,
      `in-process ${ms(p.inProcessMs)}`,
      `${x(p.poolNMs / p.inProcessMs)} (speed-up ${x(p.poolNSpeedup)})`,
    );
    add(
      "pipeline",
      `ParsePool ×${p.workers}, cold (start-up included)`,
      ms(p.poolColdMs),
      `warm pool ${ms(p.poolNMs)}`,
      x(p.poolColdMs / p.poolNMs),
    );
    add("pipeline", "Worker start-up (warmUp → first answer)", ms(p.workerStartupMs));
    add(
      "pipeline",
      "Zip reader (inflate + CRC-32), 12 monthly zips",
      ms(p.handReaderMs),
      `@zip.js/zip.js ${ms(p.zipJsMs)}`,
      x(p.handReaderMs / p.zipJsMs),
    );
  }

  if (only.has("cache")) {
    options.onArea?.("cache");
    const c = await runCacheBench({ reps: quick ? 3 : 7, print: false });
    const raw = `Deno.readFile of the same ${c.days} files ${ms(c.rawReadMs)}`;
    add(
      "cache",
      `Warm year from the cache: readRange (${c.rows} rows, ${mb(c.bytes)})`,
      `${ms(c.readRangeMs)} (${mrows(c.readRangeRowsPerSec)})`,
      raw,
      x(c.readRangeRatio),
    );
    add(
      "cache",
      "… readDays (verify + zero-copy views, no concatenation)",
      `${ms(c.readDaysMs)} (${mrows(c.readDaysRowsPerSec)})`,
      raw,
      x(c.readDaysRatio),
    );
  }

  if (only.has("manager")) {
    options.onArea?.("manager");
    const m = await runManagerBench({ reps: quick ? 3 : 5, print: false });
    add(
      "manager",
      `Warm year via DataSourceManager.getData (${m.warmYearManager.rows} rows)`,
      `${ms(m.warmYearManager.ms)} (${mrows(m.warmYearManager.rowsPerSec)})`,
      `KlineCache.readRange of the same year ${ms(m.warmYearCacheOnly.ms)}`,
      x(m.warmOverheadRatio),
    );
    add(
      "manager",
      `Cold year via DataSourceManager (Vision, ${m.coldYearVision.cacheWrites} days cached)`,
      ms(m.coldYearVision.ms),
      `VisionDataClient alone ${ms(m.coldYearVisionOnly.ms)} + cache writes alone ` +
        `${ms(m.cacheWritesOnlyMs)}`,
      x(m.coldOverParts),
      `≤ 1.5 × Vision + writes = ${ms(m.coldTargetMs)}`,
    );
    add(
      "manager",
      "… the same",
      ms(m.coldYearVision.ms),
      `warm year ${ms(m.warmYearManager.ms)}`,
      x(m.coldVsWarm),
    );
    add(
      "manager",
      `Cold AUTO, last 30 days (${m.coldMonthAuto.vision} Vision + ${m.coldMonthAuto.rest} REST rows)`,
      ms(m.coldMonthAuto.ms),
    );
  }

  if (only.has("rest")) {
    options.onArea?.("rest");
    const r = await runRestBench({ reps: quick ? 3 : 5, print: false });
    for (const f of [r.spot, r.um]) {
      add(
        "rest",
        `REST 30 days of 1m, ${f.market} (${f.pages} pages): pages/s`,
        `${fix(f.pagesPerSec)} pages/s (${ms(f.ms)})`,
        `raw fetches, 4 at a time ${ms(f.rawParallelMs)}`,
        x(f.costVsRawParallel),
      );
      add(
        "rest",
        `… budget-wait share (${f.market}, real weight limits)`,
        pct(f.budgetWaitShare),
        `raw sequential fetches ${ms(f.rawSequentialMs)}`,
        `speed-up ${x(f.speedupVsRawSequential)}`,
      );
    }
    const p = r.paced;
    add(
      "rest",
      `REST paced under ${p.limit} weight / ${p.windowMs} ms (${p.pages} pages), 429s: ` +
        `${p.rateLimited}`,
      `${ms(p.ms)} (budget wait ${pct(p.budgetWaitShare)})`,
      `least time the budget allows ${ms(p.budgetMinMs)}`,
      x(p.vsBudgetMin),
      "0 × 429",
    );
  }

  if (only.has("dispose")) {
    options.onArea?.("dispose");
    const d = await runDisposeBench(
      quick ? { hungStepRuns: 5, managerRuns: 3 } : {},
    );
    for (const row of d) {
      add(
        "dispose",
        `Dispose settle: ${row.case}`,
        `${ms(row.medianMs)} (max ${ms(row.maxMs)})`,
        `bare timer of the budget, ${ms(row.baselineMs)} (budget ${ms(row.budgetMs)})`,
        `×${fix(row.ratio, 3)}`,
        "≤ budget + ε",
      );
    }
  }

  if (only.has("stream")) {
    options.onArea?.("stream");
    const st = await runStreamBench({ reps: quick ? 3 : 5, print: false });
    const rate = (rows: number, t: number) => mrows(rows / (t / 1000));
    add(
      "stream",
      `Warm year 1m via getData (${st.yearRows} rows, chunks joined, no copy)`,
      `${ms(st.warmGetDataMs)} (${rate(st.yearRows, st.warmGetDataMs)})`,
      `KlineCache.readDays of the same days ${ms(st.warmReadDaysMs)}`,
      x(st.warmGetDataMs / st.warmReadDaysMs),
      "≤ ×1.2, ≥ 20 M rows/s",
    );
    const colBytes = st.yearRows * 88;
    add(
      "stream",
      "Parquet write of the warm year (MB/s of columns)",
      `${ms(st.parquetWriteMs)} (${fix(colBytes / 1e3 / st.parquetWriteMs)} MB/s)`,
      `Deno.writeFile of the column bytes ${ms(st.rawWriteMs)}`,
      x(st.parquetWriteMs / st.rawWriteMs),
      "≥ 100 MB/s",
    );
    add(
      "stream",
      `stream() → Parquet, 6 years 1m (${st.parquet6y.rows} rows), fresh process: peak RSS`,
      `${mb(st.parquet6y.peakBytes)} (${ms(st.parquet6y.ms)})`,
      `1 year: ${mb(st.parquet1y.peakBytes)} (${ms(st.parquet1y.ms)})`,
      x(st.parquet6y.peakBytes / st.parquet1y.peakBytes),
      "≤ 400 MB, flat",
    );
    const cols1s = st.month1s.rows * 89;
    add(
      "stream",
      `One month of 1s cold via getData (${st.month1s.rows} rows, daily archives), fresh process`,
      ms(st.month1s.ms),
      `single-thread inflate of the same archives ${ms(st.inflate1sMs)}`,
      x(st.month1s.ms / st.inflate1sMs),
      "≤ ×1.3",
    );
    add(
      "stream",
      "… its peak RSS",
      mb(st.month1s.peakBytes),
      `its columns ${mb(cols1s)}`,
      x(st.month1s.peakBytes / cols1s),
      "≤ ×2",
    );
  }

  if (only.has("replica")) {
    options.onArea?.("replica");
    const rr = await runReplicaBench({ requests: quick ? 200 : 400, print: false });
    const [hello, bytes] = rr;
    for (const row of rr.slice(2)) {
      const zip = row.baseline === "static bytes MB/s";
      add(
        "replica",
        `Replica: ${row.name}`,
        zip ? `${fix(row.mbPerSec)} MB/s` : `${fix(row.reqPerSec, 0)} req/s`,
        zip
          ? `Deno.serve static bytes ${fix(bytes.mbPerSec)} MB/s`
          : `Deno.serve "hello" ${fix(hello.reqPerSec, 0)} req/s`,
        x(row.ratio),
      );
    }
    // 7 days: 604,800 candles, above the 500,000 where archives default to level 1.
    const [one, par, deflate6] = await runReplicaGenerationBench({
      days: 7,
      rounds: quick ? 1 : 3,
      print: false,
    });
    const perCpu = (r: number) => `${(r / 1e6).toFixed(2)} M rows/CPU-s`;
    const base = `deflateRawSync level 6 of the same CSV ${mrows(deflate6.rowsPerSec)}`;
    add(
      "replica",
      `Replica: generate 1s × ${one.rows / 86_400} d archive, one thread (CPU)`,
      perCpu(one.rowsPerCpuSec),
      `${base} (${perCpu(deflate6.rowsPerCpuSec)})`,
      x(one.rowsPerCpuSec / deflate6.rowsPerCpuSec),
    );
    add(
      "replica",
      "… in pieces over all cores (generator process's path)",
      `${mrows(par.rowsPerSec)} (${perCpu(par.rowsPerCpuSec)})`,
      base,
      x(par.rowsPerSec / deflate6.rowsPerSec),
      "≥ 1 M rows/s",
    );
  }
  if (only.has("live")) {
    options.onArea?.("live");
    const l = await runLiveBench({ candles: quick ? 40 : 100, print: false });
    const raw = `plain WebSocket + JSON.parse`;
    add(
      "live",
      `KlineStream, ${l.symbols} symbols on one combined stream: replica close → consumer (median / p99)`,
      `${ms(l.stream.medianMs)} / ${ms(l.stream.p99Ms)}`,
      `${raw} ${ms(l.raw.medianMs)} / ${ms(l.raw.p99Ms)}`,
      x(l.stream.medianMs / l.raw.medianMs),
    );
    add(
      "live",
      "… CPU per 1000 frames (in-process replica included in both)",
      ms(l.stream.cpuPer1000Ms),
      `${raw} ${ms(l.raw.cpuPer1000Ms)}`,
      x(l.stream.cpuPer1000Ms / l.raw.cpuPer1000Ms),
    );
  }
  if (only.has("dataset")) {
    options.onArea?.("dataset");
    const d = await runDatasetBench({ print: false });
    add(
      "dataset",
      `syncDataset ${d.symbols} symbols × 1 year × 1m (${d.rows} rows, ${d.partitions} Parquet partitions)`,
      `${ms(d.syncMs)} (${mrows(d.rowsPerSec)}; peak RSS ${mb(d.peakRssBytes)})`,
      `${d.symbols} × single-symbol cold year ${ms(d.singleColdYearMs)}`,
      x(d.ratio),
      "peak RSS ≤ 400 MB",
    );
  }
  if (only.has("limits")) {
    options.onArea?.("limits");
    const l = await runLimitsBench();
    const rise = (f: { peakBytes: number; beforeBytes: number }) => f.peakBytes - f.beforeBytes;
    for (const f of [l.endless, l.endlessSmall]) {
      add(
        "limits",
        `Endless REST body (2 pages in parallel) cut at maxPageBytes ${mb(f.maxPageBytes)}`,
        `cut at ${mb(f.cutAtBytes)} in ${ms(f.ms)}`,
        `bound ${mb(f.maxPageBytes)}`,
        x(f.cutAtBytes / f.maxPageBytes),
        "≤ bound + 1 chunk",
      );
      add(
        "limits",
        `… peak RSS rise of that process (VmHWM − VmRSS before)`,
        `+${mb(rise(f))}`,
        `healthy 1-day fetch +${mb(rise(l.baseline))}`,
        x(rise(f) / rise(l.baseline)),
        "flat: ≤ baseline + pages × bound",
      );
    }
  }
  if (only.has("aggTrades")) {
    options.onArea?.("aggTrades");
    const a = await runAggTradesBench();
    const limit = `in-process inflate + parse of the same zip ${ms(a.inflateParseMs)}`;
    for (const [label, f] of [["1 busy day", a.oneDay], ["2 busy days", a.twoDays]] as const) {
      add(
        "aggTrades",
        `${label} (${f.rows} rows) streamed from the archive to Parquet (fresh process)`,
        `${ms(f.ms)} (${mrows((f.rows * 1000) / f.ms)})`,
        limit,
        x(f.ms / a.inflateParseMs / (f.rows / a.rows)),
      );
      add(
        "aggTrades",
        `… peak RSS (VmHWM), increase over the RSS before (${label})`,
        `+${mb(f.peakBytes - f.beforeBytes)} (peak ${mb(f.peakBytes)})`,
        `columns of the day ${mb(a.rows * 49)}`,
        x((f.peakBytes - f.beforeBytes) / (a.rows * 49)),
        "flat in rows",
      );
    }
  }

  if (only.has("process")) {
    options.onArea?.("process");
    const scenarios = await runProcessBench({ reps: quick ? 1 : 3, print: false });
    const rss = (f: ProcessFigure) => f.rssBytes ? `, peak RSS ${mb(f.rssBytes)}` : "";
    for (const s of scenarios) {
      const where = s.latencyMs ? `replica +${s.latencyMs} ms/request` : "replica on loopback";
      add(
        "process",
        `Cold year 1m, whole \`cli fetch\` process, cache on (${where})`,
        `${ms(s.cacheOn.ms)}${rss(s.cacheOn)}`,
        `\`--no-cache\` ${ms(s.noCache.ms)}${rss(s.noCache)}`,
        x(s.cacheOverNoCache),
        "≤ 1.3×",
      );
      add(
        "process",
        `… the same vs the sequential baseline (366 daily zips one by one, then parse; ${where})`,
        ms(s.cacheOn.ms),
        `sequential ${ms(s.sequential.ms)}${rss(s.sequential)}`,
        `${fix(s.speedupOverSequential)}× faster`,
        "≥ 5× faster",
      );
    }
  }
  return rows;
}

/** The rows as one markdown table. */
export function formatTable(rows: readonly BenchRow[]): string {
  const head = ["area", "figure", "value (median)", "baseline (same run)", "ratio", "target"];
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const lines = [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) =>
      `| ${[r.area, r.figure, r.value, r.baseline, r.ratio, r.target].map(esc).join(" | ")} |`
    ),
  ];
  return lines.join("\n");
}

function parseArgs(args: readonly string[]): { quick: boolean; only?: string[] } {
  let quick = false;
  let only: string[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    if (flag === "--quick") quick = true;
    else if (flag === "--only") {
      const value = inline ?? args[++i];
      if (!value) throw new TypeError("--only needs an area name");
      only = value.split(",").map((s) => s.trim()).filter(Boolean);
      const unknown = only.filter((a) => !(AREAS as readonly string[]).includes(a));
      if (unknown.length > 0) {
        throw new TypeError(`unknown area ${unknown.join(", ")}; areas: ${AREAS.join(", ")}`);
      }
    } else throw new TypeError(`unknown flag ${args[i]}; use --quick, --only NAME`);
  }
  return { quick, only };
}

if (import.meta.main) {
  const { quick, only } = parseArgs(Deno.args);
  const load0 = Deno.loadavg();
  const t0 = performance.now();
  const rows = await runAllBenches({
    quick,
    only,
    onArea: (name) => console.error(`running ${name} bench…`),
  });
  const load1 = Deno.loadavg();
  const cpus = navigator.hardwareConcurrency;
  const fmtLoad = (l: number[]) => l.map((v) => v.toFixed(2)).join(" ");
  console.log(
    `vision-data benches — Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}, ` +
      `${cpus} CPUs, ${quick ? "quick" : "full"} run of ${
        ((performance.now() - t0) / 1000).toFixed(0)
      } s; load average (1/5/15 min) ${fmtLoad(load0)} at start, ${fmtLoad(load1)} at end. ` +
      "Times are medians; every baseline was measured in the same run.\n",
  );
  console.log(formatTable(rows));
}
