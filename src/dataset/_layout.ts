/**
 * Where a dataset's files live: Hive partitions
 * `market=…/symbol=…/interval=…/year=YYYY/month=MM/`, one Parquet file and one manifest per
 * partition, and a marker file at the root that says the directory is a vision-data dataset.
 *
 * @module
 */
import { join } from "@std/path";
import { type Interval, type MarketType, visionIntervalName } from "../market.ts";
import { TEMP_INFIX, writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { DatasetDirError } from "./errors.ts";

/** The partition manifest's file name (`_`-prefixed: Spark and Hive skip it). */
export const MANIFEST_NAME = "_manifest.json";
/** The dataset marker at the root. */
export const ROOT_MARKER = "_vision_dataset.json";

/** One unit of work: a (market, symbol, interval, month) partition. */
export interface Unit {
  /** Market. */
  market: MarketType;
  /** Symbol. */
  symbol: string;
  /** Interval. */
  interval: Interval;
  /** `YYYY-MM`. */
  month: string;
  /** The part of the month to hold, `[start, end)` (epoch ms). */
  start: number;
  /** Exclusive end. */
  end: number;
}

/** The unit's stable key (hashed for sharding). */
export function unitKey(u: Pick<Unit, "market" | "symbol" | "interval" | "month">): string {
  return `${u.market}/${u.symbol}/${visionIntervalName(u.interval)}/${u.month}`;
}

/**
 * The partition directory of a unit, relative to the root. The interval is written as the
 * archive names it (`1mo` for `1M`), so `1m` and `1M` do not collide on case-insensitive
 * file systems.
 */
export function partitionPath(u: Pick<Unit, "market" | "symbol" | "interval" | "month">): string {
  const [year, month] = u.month.split("-");
  return join(
    `market=${u.market}`,
    `symbol=${u.symbol}`,
    `interval=${visionIntervalName(u.interval)}`,
    `year=${year}`,
    `month=${month}`,
  );
}

/** The Parquet file name of a unit, e.g. `BTCUSDT-1m-2024-01.parquet`. */
export function dataFileName(u: Pick<Unit, "symbol" | "interval" | "month">): string {
  return `${u.symbol}-${visionIntervalName(u.interval)}-${u.month}.parquet`;
}

const MARKER = { format: "vision-data/dataset", version: 1 } as const;
const MARKER_TEXT = JSON.stringify(
  {
    ...MARKER,
    layout: "market=*/symbol=*/interval=*/year=YYYY/month=MM/*.parquet",
    manifest: MANIFEST_NAME,
  },
  null,
  2,
) + "\n";

/** Whether a directory entry is a temp file of an interrupted atomic write. */
export function isTempName(name: string): boolean {
  return name.includes(TEMP_INFIX);
}

/**
 * Makes `root` a dataset root, or checks that it is one: a missing or empty directory gets
 * the marker; a directory with the marker is accepted; anything else is refused with
 * {@linkcode DatasetDirError}. Safe for concurrent shards: the marker is written (atomically,
 * identical bytes from every writer) before any partition, and another writer's marker temp
 * file does not count as foreign content.
 */
export async function ensureDatasetRoot(root: string): Promise<void> {
  await Deno.mkdir(root, { recursive: true });
  if (await isDatasetRoot(root)) return;
  const foreign: string[] = [];
  for await (const e of Deno.readDir(root)) {
    if (e.name === ROOT_MARKER || (isTempName(e.name) && e.name.includes(ROOT_MARKER))) continue;
    foreign.push(e.name);
  }
  if (foreign.length > 0) throw new DatasetDirError(root, foreign.sort());
  await writeFileAtomic(
    join(root, ROOT_MARKER),
    (f) => writeAll(f, new TextEncoder().encode(MARKER_TEXT)),
    { hidden: true },
  );
}

/** Whether `root` holds a valid dataset marker. */
export async function isDatasetRoot(root: string): Promise<boolean> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(root, ROOT_MARKER));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  try {
    const m = JSON.parse(text);
    if (m?.format === MARKER.format) return true;
  } catch {
    // reported below
  }
  throw new DatasetDirError(root, [`${ROOT_MARKER} (not a vision-data marker)`]);
}

/** Removes temp files left in `dir` by killed writers; returns how many. */
export async function removeTempFiles(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && isTempName(e.name)) {
        await Deno.remove(join(dir, e.name)).catch(() => {});
        n++;
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return n;
}
