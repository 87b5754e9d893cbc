/**
 * The per-partition manifest: what the partition's Parquet file holds (rows, first/last open
 * time, the span it covers, gaps), where it came from (archive names and their SHA-256 from
 * `.CHECKSUM`), and the file's own size and SHA-256 so `verifyDataset` can check it without
 * downloading anything. Written after the data file, both atomically: the manifest is the
 * commit point, a data file that does not match its manifest is redone by the next sync.
 *
 * @module
 */
import { createSha256 } from "../vision/checksum.ts";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { DatasetManifestError } from "./errors.ts";

/** A `[start, end)` span as ISO-8601 strings. */
export interface IsoSpan {
  /** Inclusive start. */
  start: string;
  /** Exclusive end. */
  end: string;
}

/** What one partition holds. */
export interface PartitionManifest {
  /** Always `vision-data/partition`. */
  format: "vision-data/partition";
  /** Manifest version. */
  version: 1;
  /** `aggTrades` for an aggTrades partition; absent for klines. */
  data?: "aggTrades";
  /** Market. */
  market: string;
  /** Symbol. */
  symbol: string;
  /** Interval as the archive names it (`1m`, `1mo`); `null` for aggTrades. */
  interval: string | null;
  /** `YYYY-MM`. */
  month: string;
  /** `YYYY-MM-DD` (aggTrades partitions only: one per UTC day). */
  day?: string;
  /** The span of open times the partition covers (rows or recorded gaps). */
  coverage: IsoSpan;
  /** The Parquet file, or `null` when the covered span has no rows at all. */
  file: { name: string; bytes: number; sha256: string } | null;
  /** Rows in the file. */
  rows: number;
  /** First open time, or `null` without rows. */
  firstOpenTime: string | null;
  /** Last open time, or `null` without rows. */
  lastOpenTime: string | null;
  /** First transact time (aggTrades only), or `null` without rows. */
  firstTransactTime?: string | null;
  /** Last transact time (aggTrades only), or `null` without rows. */
  lastTransactTime?: string | null;
  /** The archives the rows came from, with the SHA-256 their `.CHECKSUM` published. */
  sources: { archive: string; sha256: string | null }[];
  /** Spans of the coverage the archive had no rows for (never filled). */
  gaps: IsoSpan[];
  /** When this manifest was written. */
  writtenAt: string;
}

/** Reads a manifest; `undefined` when there is none; {@linkcode DatasetManifestError} when bad. */
export async function readManifest(path: string): Promise<PartitionManifest | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  let m: PartitionManifest;
  try {
    m = JSON.parse(text);
  } catch {
    throw new DatasetManifestError(path, "not JSON");
  }
  if (
    m?.format !== "vision-data/partition" || typeof m.rows !== "number" ||
    typeof m.coverage?.start !== "string" || !Array.isArray(m.gaps)
  ) {
    throw new DatasetManifestError(path, "missing fields");
  }
  return m;
}

/** Writes a manifest atomically. */
export async function writeManifest(path: string, m: PartitionManifest): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(m, null, 2) + "\n");
  await writeFileAtomic(path, (f) => writeAll(f, bytes), { hidden: true });
}

/** SHA-256 (hex) of a file, read in chunks. */
export async function sha256File(path: string): Promise<string> {
  const hash = createSha256();
  using file = await Deno.open(path);
  const buf = new Uint8Array(1 << 20);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digestHex();
}
