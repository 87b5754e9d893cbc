/**
 * Archive → columns pipeline bench. Synthesizes a realistic year of spot BTCUSDT 1m klines
 * (2024: 527,040 rows, 12 monthly zips, 8-dp fields like the real files), then measures in
 * one run:
 *
 * - baselines: raw `node:zlib` `inflateRawSync` of the same DEFLATE bytes, and `node:crypto`
 *   SHA-256 of the same zips;
 * - `parseKlineCsv` alone, single-threaded (rows/s);
 * - the in-process pipeline (SHA-256 + inflate + CRC-32 + parse, one thread): the "pipeline
 *   limit" a cold-year fetch compares against;
 * - the same through {@linkcode ParsePool} with 1 worker and with N workers (warm), and a cold
 *   pool (worker start-up included), plus the worker start-up itself;
 * - the zip reader: our hand reader (`extractSingleCsvSync`) against `@zip.js/zip.js`.
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/pipeline_bench.ts`
 *
 * @module
 */
import { createHash } from "node:crypto";
import { inflateRawSync } from "node:zlib";
import { Uint8ArrayReader, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { parseKlineCsv } from "../src/vision/csv_parser.ts";
import { ParsePool } from "../src/vision/parse_pool.ts";
import { extractSingleCsvSync, listZipEntries } from "../src/vision/zip.ts";
import { createZip } from "../testing/_zip_writer.ts";

/** Options for {@linkcode runPipelineBench}. */
export interface PipelineBenchOptions {
  /** Timed repetitions of each measurement (the median is reported). @default {5} */
  reps?: number;
  /** Workers for the N-worker pool. @default {navigator.hardwareConcurrency} */
  workers?: number;
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** The figures of one run: times are medians in ms over the whole year. */
export interface PipelineBenchResult {
  /** Rows in the year. */
  rows: number;
  /** Bytes of CSV. */
  csvBytes: number;
  /** Bytes of zip. */
  zipBytes: number;
  /** Workers of the N-worker pool. */
  workers: number;
  /** Baseline: `inflateRawSync` of the 12 DEFLATE bodies. */
  inflateMs: number;
  /** Baseline: SHA-256 of the 12 zips. */
  sha256Ms: number;
  /** `parseKlineCsv` of the 12 CSVs, one thread. */
  parseMs: number;
  /** Parse rows/s, one thread. */
  parseRowsPerSec: number;
  /** SHA-256 + inflate + CRC + parse, one thread, no workers. */
  inProcessMs: number;
  /** The in-process pipeline limit, rows/s. */
  inProcessRowsPerSec: number;
  /** `inProcessMs / (inflateMs + sha256Ms)`: what CRC + parse add on top of the baselines. */
  inProcessVsBaselines: number;
  /** Warm pool of 1 worker (SHA-256 on the main thread, as the client does while streaming). */
  pool1Ms: number;
  /** Warm pool of N workers. */
  poolNMs: number;
  /** Rows/s of the warm N-worker pool. */
  poolNRowsPerSec: number;
  /** `inProcessMs / poolNMs`: the speed-up of N workers over the one-thread limit. */
  poolNSpeedup: number;
  /** `pool1Ms / poolNMs`. */
  poolNvs1: number;
  /** A fresh N-worker pool, start-up and cold JIT included. */
  poolColdMs: number;
  /** From `warmUp()` until every worker has answered a tiny job. */
  workerStartupMs: number;
  /** Our reader (inflate + CRC-32) over the 12 zips. */
  handReaderMs: number;
  /** `@zip.js/zip.js` `ZipReader` + `getData` over the 12 zips (no web workers). */
  zipJsMs: number;
  /** `zipJsMs / handReaderMs`. */
  zipJsVsHand: number;
  /** `DecompressionStream("deflate-raw")` of the 12 DEFLATE bodies (no CRC). */
  decompressionStreamMs: number;
  /** 1-minute load average when the run started (other processes skew every figure). */
  loadAverage: number;
}

/** Spot-like rows: prices 2 dp padded to 8, volumes 5 dp padded to 8, quote volumes 8 dp. */
function synthMonth(year: number, month: number): Uint8Array {
  const start = Date.UTC(year, month, 1);
  const rows = (Date.UTC(year, month + 1, 1) - start) / 60_000;
  let s = (month + 1) * 7919;
  const rnd = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  let price = 42_000 + month * 3_000;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const t = start + r * 60_000;
    const o = price;
    const c = Math.max(1, o + Math.round((rnd() - 0.5) * 4000) / 100);
    const h = Math.max(o, c) + Math.round(rnd() * 1000) / 100;
    const l = Math.min(o, c) - Math.round(rnd() * 1000) / 100;
    const v = Math.round(rnd() * rnd() * 1e7) / 1e5;
    const tb = Math.round(v * rnd() * 1e5) / 1e5;
    const mid = (o + c) / 2;
    out.push(
      `${t},${o.toFixed(8)},${h.toFixed(8)},${l.toFixed(8)},${c.toFixed(8)},${v.toFixed(8)},` +
        `${t + 59_999},${(v * mid).toFixed(8)},${Math.floor(rnd() * 3000)},${tb.toFixed(8)},` +
        `${(tb * mid).toFixed(8)},0\n`,
    );
    price = c;
  }
  return new TextEncoder().encode(out.join(""));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Times every case once per round, round after round, and keeps each case's median: a burst
 * of load from another process then skews one sample of every case, not all samples of one.
 */
async function timeInterleaved<K extends string>(
  reps: number,
  cases: Record<K, () => unknown>,
): Promise<Record<K, number>> {
  const names = Object.keys(cases) as K[];
  const samples = {} as Record<K, number[]>;
  for (const name of names) {
    await cases[name](); // warm-up (JIT, allocator, workers), not timed
    samples[name] = [];
  }
  for (let k = 0; k < reps; k++) {
    for (const name of names) {
      const t0 = performance.now();
      await cases[name]();
      samples[name].push(performance.now() - t0);
    }
  }
  const out = {} as Record<K, number>;
  for (const name of names) out[name] = median(samples[name]);
  return out;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Hash on the calling thread (as the client does while streaming), parse on the pool. */
function poolYear(pool: ParsePool, zips: Uint8Array[]): Promise<number[]> {
  return Promise.all(zips.map((zip, k) => {
    sha256(zip);
    return pool.parseZipBytes(zip, { file: `m${k}.zip` }).then((c) => c.openTime.length);
  }));
}

/**
 * Runs the bench and returns (and by default prints) the figures.
 *
 * @param options repetitions, worker count, printing
 * @returns medians, rates and ratios measured in this run
 *
 * @example
 * ```ts ignore
 * import { runPipelineBench } from "./pipeline_bench.ts";
 * const r = await runPipelineBench({ reps: 3 });
 * r.inProcessRowsPerSec; // e.g. 1.4e6
 * ```
 */
export async function runPipelineBench(
  options: PipelineBenchOptions = {},
): Promise<PipelineBenchResult> {
  const loadAverage = Deno.loadavg()[0];
  const reps = options.reps ?? 5;
  const workers = options.workers ?? Math.max(1, navigator.hardwareConcurrency ?? 1);
  const csvs = Array.from({ length: 12 }, (_, m) => synthMonth(2024, m));
  const zips = csvs.map((data, m) =>
    createZip([{ name: `BTCUSDT-1m-2024-${String(m + 1).padStart(2, "0")}.csv`, data }])
  );
  const bodies = zips.map((zip) => {
    const e = listZipEntries(zip)[0];
    const at = e.localHeaderOffset + 30 + new TextEncoder().encode(e.name).length;
    return zip.subarray(at, at + e.compressedSize);
  });
  const rows = csvs.reduce((n, c) => n + parseKlineCsv(c).openTime.length, 0);
  const csvBytes = csvs.reduce((n, c) => n + c.length, 0);
  const zipBytes = zips.reduce((n, z) => n + z.length, 0);

  // Warm pools must not stop their workers between rounds (a round takes over a second).
  const pool1 = new ParsePool({ workers: 1, idleTimeoutMs: 60_000 });
  const poolN = new ParsePool({ workers, idleTimeoutMs: 60_000 });
  try {
    const t = await timeInterleaved(reps, {
      inflate: () => bodies.forEach((b) => inflateRawSync(b)),
      sha256: () => zips.forEach(sha256),
      parse: () => csvs.forEach((c) => parseKlineCsv(c)),
      inProcess: () =>
        zips.forEach((zip) => {
          sha256(zip);
          parseKlineCsv(extractSingleCsvSync(zip));
        }),
      pool1: () => poolYear(pool1, zips),
      poolN: () => poolYear(poolN, zips),
      handReader: () => zips.forEach((z) => extractSingleCsvSync(z)),
      zipJs: async () => {
        for (const zip of zips) {
          const reader = new ZipReader(new Uint8ArrayReader(zip), { useWebWorkers: false });
          const [entry] = await reader.getEntries();
          if (entry.directory) throw new Error("unexpected directory");
          await entry.getData(new Uint8ArrayWriter());
          await reader.close();
        }
      },
      decompressionStream: async () => {
        for (const body of bodies) {
          const stream = new Blob([body.slice()]).stream()
            .pipeThrough(new DecompressionStream("deflate-raw"));
          await new Response(stream).arrayBuffer();
        }
      },
    });
    const { inflate: inflateMs, sha256: sha256Ms, parse: parseMs, inProcess: inProcessMs } = t;
    const { pool1: pool1Ms, poolN: poolNMs, handReader: handReaderMs, zipJs: zipJsMs } = t;
    const decompressionStreamMs = t.decompressionStream;

    const tiny = createZip([{ name: "t.csv", data: csvs[0].subarray(0, 150) }]);
    const startups: number[] = [];
    const colds: number[] = [];
    for (let k = 0; k < reps; k++) {
      await using fresh = new ParsePool({ workers });
      const t0 = performance.now();
      fresh.warmUp();
      await Promise.all(Array.from({ length: workers }, () => fresh.parseZipBytes(tiny)));
      startups.push(performance.now() - t0);
      await using cold = new ParsePool({ workers });
      const t1 = performance.now();
      await poolYear(cold, zips);
      colds.push(performance.now() - t1);
    }
    const workerStartupMs = median(startups);
    const poolColdMs = median(colds);

    const r = (x: number) => Math.round(x * 10) / 10;
    const ratio = (x: number) => Math.round(x * 100) / 100;
    const result: PipelineBenchResult = {
      rows,
      csvBytes,
      zipBytes,
      workers,
      inflateMs: r(inflateMs),
      sha256Ms: r(sha256Ms),
      parseMs: r(parseMs),
      parseRowsPerSec: Math.round(rows / (parseMs / 1000)),
      inProcessMs: r(inProcessMs),
      inProcessRowsPerSec: Math.round(rows / (inProcessMs / 1000)),
      inProcessVsBaselines: ratio(inProcessMs / (inflateMs + sha256Ms)),
      pool1Ms: r(pool1Ms),
      poolNMs: r(poolNMs),
      poolNRowsPerSec: Math.round(rows / (poolNMs / 1000)),
      poolNSpeedup: ratio(inProcessMs / poolNMs),
      poolNvs1: ratio(pool1Ms / poolNMs),
      poolColdMs: r(poolColdMs),
      workerStartupMs: r(workerStartupMs),
      handReaderMs: r(handReaderMs),
      zipJsMs: r(zipJsMs),
      zipJsVsHand: ratio(zipJsMs / handReaderMs),
      decompressionStreamMs: r(decompressionStreamMs),
      loadAverage,
    };
    if (options.print ?? true) printResult(result);
    return result;
  } finally {
    await pool1[Symbol.asyncDispose]();
    await poolN[Symbol.asyncDispose]();
  }
}

function printResult(r: PipelineBenchResult): void {
  const mrows = (x: number) => `${(x / 1e6).toFixed(2)} M rows/s`;
  console.log(
    `pipeline bench: ${r.rows} rows, ${(r.csvBytes / 1e6).toFixed(1)} MB CSV in 12 zips of ` +
      `${(r.zipBytes / 1e6).toFixed(1)} MB (medians; load average at start ${r.loadAverage})`,
  );
  console.log(`  baseline inflateRawSync       ${r.inflateMs} ms`);
  console.log(`  baseline sha256 of the zips   ${r.sha256Ms} ms`);
  console.log(`  parseKlineCsv, 1 thread       ${r.parseMs} ms  (${mrows(r.parseRowsPerSec)})`);
  console.log(
    `  in-process pipeline (limit)   ${r.inProcessMs} ms  (${mrows(r.inProcessRowsPerSec)}; ` +
      `${r.inProcessVsBaselines}x inflate+sha256)`,
  );
  const base = r.inflateMs + r.sha256Ms;
  console.log(
    `  pool, 1 worker (warm)         ${r.pool1Ms} ms  (${
      (r.pool1Ms / base).toFixed(2)
    }x inflate+sha256)`,
  );
  console.log(
    `  pool, ${r.workers} workers (warm)        ${r.poolNMs} ms  (${mrows(r.poolNRowsPerSec)}; ${
      (r.poolNMs / base).toFixed(2)
    }x inflate+sha256; speed-up ${r.poolNSpeedup}x over the ` +
      `in-process limit, ${r.poolNvs1}x over 1 worker)`,
  );
  console.log(`  pool, ${r.workers} workers (cold)        ${r.poolColdMs} ms`);
  console.log(`  worker start-up (warmUp)      ${r.workerStartupMs} ms`);
  console.log(
    `  unzip: hand reader ${r.handReaderMs} ms, @zip.js/zip.js ${r.zipJsMs} ms ` +
      `(zip.js/hand = ${r.zipJsVsHand}); inflate only: DecompressionStream ` +
      `${r.decompressionStreamMs} ms vs raw inflateRawSync ${r.inflateMs} ms`,
  );
}

if (import.meta.main) await runPipelineBench();
