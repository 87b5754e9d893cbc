/**
 * aggTrades bench: busy days (≈2 M aggregate trades each, replica in a child process)
 * streamed from the archive to Parquet in a fresh process — rows/s and peak RSS (`VmHWM`)
 * for one day and for two days (an archive is inflated and parsed in pieces, one zip in
 * memory at a time: the peak should not grow with the rows) — against the in-process inflate + parse of the same zip bytes, measured in
 * the same run.
 *
 * ```sh
 * deno run -A --import-map=offline/import_map.json bench/agg_trades_bench.ts
 * ```
 *
 * @module
 */
import { fromFileUrl, join } from "@std/path";
import { parseAggTradesCsv } from "../src/agg_trades/_csv.ts";
import { writeAggTrades } from "../src/agg_trades/export.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { extractSingleCsvSync } from "../src/vision/zip.ts";
import { startReplica } from "../testing/mod.ts";
import { denoRunArgs, startReplicaProcess } from "./_replica_process.ts";

const NOW = "2026-11-27T12:00:00Z";
const DAY1 = Date.parse("2026-10-10T00:00:00Z");
const DAY_MS = 86_400_000;
/** Turnover that makes ≈1500 agg trades a minute (≈2.2 M a day) in the replica. */
const BUSY_QUOTE_PER_MINUTE = 6e6;

/** What one child reports. */
interface ChildFigures {
  rows: number;
  ms: number;
  beforeBytes: number;
  peakBytes: number;
  parquetBytes: number;
}

/** The figures of {@linkcode runAggTradesBench}. */
export interface AggTradesBenchResult {
  /** Rows of the one-day run. */
  rows: number;
  /** One day streamed to Parquet (fresh process). */
  oneDay: ChildFigures;
  /** Two days (twice the rows). */
  twoDays: ChildFigures;
  /** In-process inflate + parse of the first day's zip, ms. */
  inflateParseMs: number;
  /** Zip bytes of the first day. */
  zipBytes: number;
}

function statusBytes(field: "VmRSS" | "VmHWM"): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/self/status`);
  return Number(kb) * 1024;
}

async function child(visionUrl: string, days: number): Promise<ChildFigures> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(fromFileUrl(import.meta.url), ["--child", visionUrl, String(days)]),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`aggTrades child failed (exit ${out.code})`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as ChildFigures;
}

/** Runs the bench (the replica in a child process, each measurement in a fresh one). */
export async function runAggTradesBench(
  options: { print?: boolean } = {},
): Promise<AggTradesBenchResult> {
  await using replica = await startReplicaProcess({
    now: NOW,
    script: fromFileUrl(import.meta.url),
    args: ["--serve"],
  });
  const zipUrl = (day: number) => {
    const label = new Date(day).toISOString().slice(0, 10);
    return `${replica.visionUrl}/data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-${label}.zip`;
  };
  // Build both archives in the replica first (its zip cache), so the children time the client.
  const zip = new Uint8Array(await (await fetch(zipUrl(DAY1))).arrayBuffer());
  await (await fetch(zipUrl(DAY1 + DAY_MS))).body?.cancel();
  const t0 = performance.now();
  const rows = parseAggTradesCsv(extractSingleCsvSync(zip), "day.csv").aggTradeId.length;
  const inflateParseMs = performance.now() - t0;
  const oneDay = await child(replica.visionUrl, 1);
  const twoDays = await child(replica.visionUrl, 2);
  const result = { rows, oneDay, twoDays, inflateParseMs, zipBytes: zip.length };
  if (options.print) console.log(JSON.stringify(result, null, 2));
  return result;
}

async function childMain(visionUrl: string, days: number): Promise<void> {
  const beforeBytes = statusBytes("VmRSS");
  const dir = await Deno.makeTempDir({ prefix: "vd-agg-bench-" });
  try {
    await using client = new VisionDataClient({
      marketType: "spot",
      baseUrl: visionUrl,
      now: () => Date.parse(NOW),
    });
    const t0 = performance.now();
    const stream = client.streamAggTrades({
      symbol: "BTCUSDT",
      start: DAY1,
      end: DAY1 + days * DAY_MS,
      releaseChunks: true, // each chunk is written before the next is asked for
    });
    const out = await writeAggTrades(stream, join(dir, "t.parquet"));
    const ms = performance.now() - t0;
    const figures: ChildFigures = {
      rows: out.rows,
      ms,
      beforeBytes,
      peakBytes: statusBytes("VmHWM"),
      parquetBytes: out.bytes,
    };
    console.log(JSON.stringify(figures));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function serveMain(): Promise<void> {
  const replica = await startReplica({
    now: NOW,
    symbols: [{
      symbol: "BTCUSDT",
      marketType: "spot",
      listedAt: "2017-08-17T04:00:00Z",
      price: 30000,
      quotePerMinute: BUSY_QUOTE_PER_MINUTE,
    }],
  });
  console.log(`vision: ${replica.visionUrl}`);
  console.log(`rest: ${replica.restUrl}`);
  await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", () => resolve()));
  await replica[Symbol.asyncDispose]();
  Deno.exit(0); // the signal listener would keep the process alive
}

if (import.meta.main) {
  const [mode, a, b] = Deno.args;
  if (mode === "--serve") await serveMain();
  else if (mode === "--child") await childMain(a, Number(b));
  else await runAggTradesBench({ print: true });
}
