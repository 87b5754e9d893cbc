/**
 * `syncDataset()`: many symbols × intervals × months from the Vision archive into one
 * Hive-partitioned Parquet dataset, incremental, crash-safe and shardable; and
 * `verifyDataset()`: checks every partition against its manifest without downloading.
 *
 * @module
 */
import { join, relative } from "@std/path";
import { parquetMetadata } from "hyparquet";
import { createSha256 } from "../vision/checksum.ts";
import { isDatasetRoot, isTempName, MANIFEST_NAME, ROOT_MARKER } from "./_layout.ts";
import { type PartitionManifest, readManifest } from "./_manifest.ts";
import { DEFAULT_SYNC_DEPS, runSync, type SyncDatasetOptions, type SyncReport } from "./_sync.ts";
import { DatasetDirError } from "./errors.ts";

export type {
  DatasetData,
  SymbolSummary,
  SyncDatasetOptions,
  SyncProgress,
  SyncReport,
} from "./_sync.ts";
export type { AggTradesUnit } from "./_agg_unit.ts";
export type { UnitOutcome } from "./_unit.ts";
export type { Unit } from "./_layout.ts";
export type { IsoSpan, PartitionManifest } from "./_manifest.ts";
export type { Shard } from "./_shard.ts";
export { SHARD_COUNT_ENV } from "./_shard.ts";
export { DATASET_DATA } from "./_sync.ts";

/**
 * Syncs a market's klines into a Hive-partitioned Parquet dataset under `out`:
 * `market=spot/symbol=BTCUSDT/interval=1m/year=2024/month=01/BTCUSDT-1m-2024-01.parquet`
 * plus a `_manifest.json` per partition. Re-running downloads nothing; a later `end`
 * downloads only the new days; a killed run re-run completes the dataset; with `shard`, N
 * processes writing one root produce the dataset one process would. With
 * `data: "aggTrades"`, aggregate trades are synced one partition per symbol and UTC day:
 * `market=spot/data=aggTrades/symbol=BTCUSDT/year=2024/month=01/day=05/BTCUSDT-aggTrades-2024-01-05.parquet`,
 * streamed from the daily archive with bounded memory.
 *
 * Throws `UnknownMarketError`, `SymbolSelectionError`, `InvalidShardError`,
 * `UnsupportedIntervalError`, `InvalidRangeError` before writing anything;
 * `DatasetDirError` when `out` holds other files; `DiskFullError` when the disk fills up
 * (the dataset stays valid); network and archive errors as `VisionDataClient` does.
 *
 * @example
 * ```ts ignore
 * import { syncDataset } from "@vision-data/client/dataset";
 * const report = await syncDataset({
 *   out: "./klines", marketType: "spot", symbols: "*USDT", intervals: ["1m", "1h"],
 *   start: "2024-01-01", shard: "1/4",
 * });
 * console.log(report.totals.newRows);
 * ```
 */
export function syncDataset(options: SyncDatasetOptions): Promise<SyncReport> {
  return runSync(options, DEFAULT_SYNC_DEPS);
}

/** One thing wrong in a dataset. */
export interface DatasetProblem {
  /** Path relative to the root. */
  path: string;
  /** What is wrong. */
  problem: string;
}

/** What {@linkcode verifyDataset} found. */
export interface VerifyReport {
  /** Partitions (manifests) checked. */
  partitions: number;
  /** Parquet files checked. */
  files: number;
  /** Rows in the files checked. */
  rows: number;
  /** Everything wrong; empty when the dataset is intact. */
  problems: DatasetProblem[];
}

/**
 * Checks a dataset against its manifests, offline: every manifest's file exists, has its
 * size and SHA-256 and as many rows as recorded; no Parquet file lacks a manifest; no temp
 * file is left. Throws `DatasetDirError` when `out` is not a dataset.
 *
 * @example
 * ```ts ignore
 * import { verifyDataset } from "@vision-data/client/dataset";
 * const { problems } = await verifyDataset({ out: "./klines" });
 * for (const p of problems) console.error(p.path, p.problem);
 * ```
 */
export async function verifyDataset(options: { out: string }): Promise<VerifyReport> {
  const root = options.out;
  if (!(await isDatasetRoot(root).catch(() => false))) {
    throw new DatasetDirError(root, [`no ${ROOT_MARKER}`]);
  }
  const report: VerifyReport = { partitions: 0, files: 0, rows: 0, problems: [] };
  const problem = (path: string, what: string) =>
    report.problems.push({ path: relative(root, path), problem: what });
  const walk = async (dir: string): Promise<void> => {
    const entries: Deno.DirEntry[] = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    let manifest: PartitionManifest | undefined;
    if (entries.some((e) => e.name === MANIFEST_NAME)) {
      try {
        manifest = await readManifest(join(dir, MANIFEST_NAME));
        report.partitions++;
      } catch (err) {
        problem(join(dir, MANIFEST_NAME), err instanceof Error ? err.message : String(err));
      }
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else if (isTempName(e.name)) problem(path, "temp file left by an interrupted write");
      else if (e.name.endsWith(".parquet") && manifest?.file?.name !== e.name) {
        problem(path, "Parquet file not named in a partition manifest");
      }
    }
    if (manifest?.file) await checkFile(join(dir, manifest.file.name), manifest, report, problem);
  };
  await walk(root);
  return report;
}

async function checkFile(
  path: string,
  m: PartitionManifest,
  report: VerifyReport,
  problem: (path: string, what: string) => void,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      return void problem(path, "missing (named in the manifest)");
    }
    throw err;
  }
  report.files++;
  if (bytes.length !== m.file!.bytes) {
    return void problem(path, `size ${bytes.length} bytes, manifest says ${m.file!.bytes}`);
  }
  const hash = createSha256();
  hash.update(bytes);
  const sha = hash.digestHex();
  if (sha !== m.file!.sha256) {
    return void problem(path, `SHA-256 ${sha} differs from the manifest's ${m.file!.sha256}`);
  }
  const rows = Number(parquetMetadata(bytes.buffer as ArrayBuffer).num_rows);
  report.rows += rows;
  if (rows !== m.rows) problem(path, `${rows} rows, manifest says ${m.rows}`);
}
