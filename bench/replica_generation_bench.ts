/**
 * Replica archive generation speed: rows/s of building one archive of 1s klines (rows, CSV,
 * DEFLATE at the replica's default level for its size, zip, SHA-256) on one thread
 * (`makeArchive`: in-process and Worker paths) and spread over helper Workers
 * (`makeArchiveParallel`: the generator process's path), against a
 * baseline measured in the same run on the same CSV bytes: `node:zlib` `deflateRawSync` at level
 * 6 alone (what generation cost before big archives got their own default level). A and B are
 * interleaved; medians of wall and CPU time (this process, all threads) are reported.
 * Run: `deno run -A --import-map=offline/import_map.json bench/replica_generation_bench.ts`.
 *
 * @module
 */
import process from "node:process";
import { deflateRawSync } from "node:zlib";
import { makeArchive } from "../testing/_archive.ts";
import { makeArchiveParallel } from "../testing/_archive_parallel.ts";
import { Dataset, DEFAULT_SYMBOLS } from "../testing/_dataset.ts";

/** Options for {@linkcode runReplicaGenerationBench}. */
export interface ReplicaGenerationBenchOptions {
  /** Days of 1s klines in the archive. @default {7} */
  days?: number;
  /** Interleaved rounds. @default {3} */
  rounds?: number;
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** One measured row. */
export interface ReplicaGenerationRow {
  /** What was measured. */
  name: string;
  /** Rows in the archive. */
  rows: number;
  /** Median wall ms. */
  wallMs: number;
  /** Median CPU ms (user + system, all threads). */
  cpuMs: number;
  /** Rows per wall second. */
  rowsPerSec: number;
  /** Rows per CPU second. */
  rowsPerCpuSec: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Runs the bench and returns its rows (one thread, parallel, then the baseline).
 *
 * @example
 * ```ts ignore
 * import { runReplicaGenerationBench } from "./replica_generation_bench.ts";
 * const [one, par, base] = await runReplicaGenerationBench({ days: 1, rounds: 1, print: false });
 * console.log(one.rowsPerCpuSec / base.rowsPerCpuSec, par.rowsPerSec / base.rowsPerSec);
 * ```
 */
export async function runReplicaGenerationBench(
  options: ReplicaGenerationBenchOptions = {},
): Promise<ReplicaGenerationRow[]> {
  const days = options.days ?? 7;
  const rounds = options.rounds ?? 3;
  const dataset = new Dataset(DEFAULT_SYMBOLS, 1);
  const spec = dataset.spec("spot", "BTCUSDT")!;
  const start = Date.UTC(2024, 0, 1);
  const end = start + days * 86_400_000;
  const ref = {
    key: "bench",
    interval: "1s" as const,
    period: { kind: "monthly" as const, label: "2024-01", start, end },
    zipName: "BTCUSDT-1s-bench.zip",
    kind: "trades" as const,
  };
  const csv = dataset.periodCsv(spec, "1s", start, end, end)!;
  const rows = days * 86_400;
  const gen = { wall: [] as number[], cpu: [] as number[] };
  const par = { wall: [] as number[], cpu: [] as number[] };
  const init = { symbols: DEFAULT_SYMBOLS, seed: 1, fixtures: [], csv: {} };
  const base = { wall: [] as number[], cpu: [] as number[] };
  let zipBytes = 0;
  let baseBytes = 0;
  for (let r = 0; r < rounds; r++) {
    let t = performance.now(), c = cpuMs();
    const one = makeArchive(dataset, ref, spec, end, undefined)!;
    zipBytes = one.zip.length;
    gen.wall.push(performance.now() - t);
    gen.cpu.push(cpuMs() - c);
    t = performance.now(), c = cpuMs();
    const p = await makeArchiveParallel(dataset, init, ref, spec, end, undefined);
    par.wall.push(performance.now() - t);
    par.cpu.push(cpuMs() - c);
    if (p!.sha256 !== one.sha256) throw new Error("parallel and sequential builds differ");
    t = performance.now(), c = cpuMs();
    baseBytes = deflateRawSync(csv, { level: 6 }).length;
    base.wall.push(performance.now() - t);
    base.cpu.push(cpuMs() - c);
  }
  const row = (name: string, m: typeof gen): ReplicaGenerationRow => {
    const wallMs = median(m.wall), cpu = median(m.cpu);
    return {
      name,
      rows,
      wallMs,
      cpuMs: cpu,
      rowsPerSec: rows / (wallMs / 1000),
      rowsPerCpuSec: rows / (cpu / 1000),
    };
  };
  const out = [
    row(`makeArchive 1s × ${days} d, one thread`, gen),
    row(`makeArchiveParallel 1s × ${days} d`, par),
    row("baseline: deflateRawSync level 6 of the CSV", base),
  ];
  if (options.print ?? true) {
    console.log(
      `replica generation: ${rows} rows, CSV ${(csv.length / 1e6).toFixed(0)} MB, zip ${
        (zipBytes / 1e6).toFixed(1)
      } MB (level-6 deflate ${(baseBytes / 1e6).toFixed(1)} MB), medians of ${rounds}`,
    );
    for (const r of out) {
      console.log(
        `  ${r.name.padEnd(46)} ${(r.rowsPerSec / 1e6).toFixed(2)} M rows/s wall, ${
          (r.rowsPerCpuSec / 1e6).toFixed(2)
        } M rows/CPU-s`,
      );
    }
    const base = out[2];
    console.log(
      `  vs baseline: one thread ${
        (out[0].rowsPerCpuSec / base.rowsPerCpuSec).toFixed(2)
      }× (CPU), ` +
        `parallel ${(out[1].rowsPerSec / base.rowsPerSec).toFixed(2)}× (wall)`,
    );
  }
  return out;
}

if (import.meta.main) await runReplicaGenerationBench();
