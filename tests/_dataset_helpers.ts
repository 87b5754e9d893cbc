/**
 * Helpers for the dataset tests: a replica-backed sync, and the dataset read back.
 *
 * @module
 */
import { assertEquals } from "@std/assert";
import { join, relative } from "@std/path";
import type { Replica } from "../testing/mod.ts";
import { syncDataset, type SyncDatasetOptions, type SyncReport } from "../src/dataset/mod.ts";
import { readPartition } from "../src/dataset/_unit.ts";
import { assertColumnsEqual, walk } from "./_helpers.ts";

/** The replica's clock in the dataset tests: long after the synced months. */
export const NOW = "2024-04-10T12:00:00Z";

/** Sync options pointing at `replica`. */
export function replicaSync(
  replica: Replica,
  out: string,
  extra: Partial<SyncDatasetOptions> = {},
): Promise<SyncReport> {
  return syncDataset({
    out,
    marketType: "spot",
    symbols: ["BTCUSDT", "ETHUSDT", "ADABTC"],
    intervals: "1m",
    start: "2024-01-01",
    end: "2024-03-01",
    visionUrl: replica.visionUrl,
    restUrl: replica.restUrl,
    now: () => replica.now(),
    ...extra,
  });
}

/** Every file below `root`, relative, sorted. */
export function datasetFiles(root: string): string[] {
  return walk(root).map((p) => relative(root, p));
}

/** A manifest without its write time (which differs between runs). */
export function manifestOf(root: string, rel: string): Record<string, unknown> {
  const m = JSON.parse(Deno.readTextFileSync(join(root, rel)));
  delete m.writtenAt;
  return m;
}

/** Asserts every Parquet file under `root` holds exactly the replica's rows for its month. */
export async function assertDatasetMatchesTruth(replica: Replica, root: string): Promise<number> {
  let rows = 0;
  for (const rel of datasetFiles(root).filter((p) => p.endsWith(".parquet"))) {
    const m = /symbol=(\w+)\/interval=(\w+)\/year=(\d+)\/month=(\d+)\//.exec(rel);
    assertEquals(m !== null, true, rel);
    const [, symbol, , year, month] = m!;
    const start = Date.UTC(Number(year), Number(month) - 1, 1);
    const end = Date.UTC(Number(year), Number(month), 1);
    const truth = replica.klines({ marketType: "spot", symbol, interval: "1m", start, end });
    const got = await readPartition(join(root, rel));
    assertColumnsEqual(got, truth, rel);
    rows += got.openTime.length;
  }
  return rows;
}
