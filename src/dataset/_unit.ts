/**
 * One unit of a sync: bring one partition (market, symbol, interval, month) up to the asked
 * span. Only the part of the span the manifest does not cover is downloaded; rows already in
 * the partition are read back from its Parquet file, so moving `end` forward fetches only the
 * new days and the month's file is rewritten (atomically) with them. The trailing span whose
 * archives are not published yet (within {@linkcode PENDING_MS} of now) is left uncovered, so
 * a later run picks it up; older spans without archives are recorded as gaps.
 *
 * @module
 */
import { join } from "@std/path";
import { parquetReadObjects } from "hyparquet";
import { allocateColumns, type KlineColumns, Klines, mergeRanges } from "../klines.ts";
import { visionIntervalName } from "../market.ts";
import { DAY_MS, iso, type TimeRange } from "../time.ts";
import { EXPORT_COLUMNS } from "../columns.ts";
import type { VisionDataClient } from "../vision/client.ts";
import { parseChecksumFile } from "../vision/checksum.ts";
import { klineArchiveDir } from "../vision/paths.ts";
import { writeParquet } from "../export/parquet.ts";
import { getText } from "./_http_text.ts";
import {
  dataFileName,
  MANIFEST_NAME,
  partitionPath,
  removeTempFiles,
  type Unit,
} from "./_layout.ts";
import {
  type IsoSpan,
  type PartitionManifest,
  readManifest,
  sha256File,
  writeManifest,
} from "./_manifest.ts";
import { DatasetManifestError, DiskFullError } from "./errors.ts";
import type { AggTradesUnit } from "./_agg_unit.ts";

/** A trailing span without archives that ends within this of now is "not published yet". */
export const PENDING_MS = 2 * DAY_MS;

/** Writes a partition's rows to `path` atomically; resolves to the bytes written. */
export type WriteData = (columns: KlineColumns, path: string) => Promise<number>;

/**
 * The dataset's one call of the Parquet export (the cache/export schema everywhere). Kept
 * here alone so a change of the export's signature touches one line.
 */
export const writePartitionParquet: WriteData = (columns, path) => writeParquet(columns, path);

/** What a unit needs. */
export interface UnitContext {
  /** Dataset root. */
  root: string;
  /** The archive client. */
  vision: VisionDataClient;
  /** Vision base URL (for `.CHECKSUM` files). */
  visionUrl: string;
  /** The clock. */
  now: number;
  /** Aborts the unit. */
  signal: AbortSignal;
  /** Writes the Parquet file. */
  writeData: WriteData;
  /** Zip bytes downloaded (deltas). */
  onBytes: (bytes: number) => void;
  /**
   * Start of the first month the archive has a monthly file for (from its listing), or
   * `undefined` when unknown: units wholly before it are gaps without a request.
   */
  archiveStart: (u: Unit) => Promise<number | undefined>;
}

/** What a unit did. */
export interface UnitOutcome {
  /** The unit. */
  unit: Unit | AggTradesUnit;
  /** `unchanged`: already covered; `written`: files (re)written; `pending`: nothing published yet. */
  status: "unchanged" | "written" | "pending";
  /** Rows the partition holds now. */
  rows: number;
  /** Rows added by this run. */
  newRows: number;
  /** Archives downloaded. */
  archives: number;
  /** Gaps the partition records. */
  gaps: number;
}

const toSpan = (r: TimeRange): IsoSpan => ({ start: iso(r.start), end: iso(r.end) });
const fromSpan = (s: IsoSpan): TimeRange => ({
  start: Date.parse(s.start),
  end: Date.parse(s.end),
});

/** The manifest, when it is there, readable, about this unit and matching its data file. */
function currentManifest(dir: string, u: Unit): Promise<PartitionManifest | undefined> {
  return matchingManifest(
    dir,
    dataFileName(u),
    (m) => m.symbol === u.symbol && m.month === u.month && m.market === u.market,
  );
}

/**
 * The manifest in `dir`, when it is there, readable, `about` the unit and matching the data
 * file `fileName` (shared by the kline and aggTrades units).
 */
export async function matchingManifest(
  dir: string,
  fileName: string,
  about: (m: PartitionManifest) => boolean,
): Promise<PartitionManifest | undefined> {
  let m: PartitionManifest | undefined;
  try {
    m = await readManifest(join(dir, MANIFEST_NAME));
  } catch (err) {
    // A corrupt manifest means the partition is redone from the archive.
    if (err instanceof DatasetManifestError) return undefined;
    throw err;
  }
  if (!m || !about(m)) return undefined;
  const size = await Deno.stat(join(dir, fileName)).then((s) => s.size, () => -1);
  // A crash between the data file's rename and the manifest's leaves them disagreeing.
  if (m.file === null ? size !== -1 : size !== m.file.bytes) return undefined;
  return m;
}

/** Rewrites OS "no space" failures as {@linkcode DiskFullError}. */
export async function diskFullAware<T>(path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if ((err as { code?: string })?.code === "ENOSPC") {
      throw new DiskFullError(path, { cause: err });
    }
    throw err;
  }
}

/** Reads a partition's Parquet file back into columns (also used by the tests). */
export async function readPartition(path: string): Promise<KlineColumns> {
  const file = (await Deno.readFile(path)).buffer;
  const rows = await parquetReadObjects({ file });
  const c = allocateColumns(rows.length);
  const value = (v: unknown): number => v instanceof Date ? v.getTime() : Number(v);
  for (const col of EXPORT_COLUMNS) {
    const out = c[col.field];
    for (let i = 0; i < rows.length; i++) out[i] = value(rows[i][col.name]);
  }
  return c;
}

async function archiveChecksum(ctx: UnitContext, u: Unit, file: string): Promise<string | null> {
  const kind = /-\d{4}-\d\d-\d\d\.zip$/.test(file) ? "daily" : "monthly";
  const url = `${ctx.visionUrl}/${klineArchiveDir(u.market, u.symbol, u.interval, kind)}${file}` +
    ".CHECKSUM";
  return parseChecksumFile(await getText(url, { signal: ctx.signal, maxBytes: 4096 }), file);
}

/** Brings one partition up to the unit's span. */
export async function syncUnit(u: Unit, ctx: UnitContext): Promise<UnitOutcome> {
  const dir = join(ctx.root, partitionPath(u));
  await removeTempFiles(dir);
  const m = await currentManifest(dir, u);
  const cov = m ? fromSpan(m.coverage) : undefined;
  if (cov && cov.start <= u.start && cov.end >= u.end) {
    return {
      unit: u,
      status: "unchanged",
      rows: m!.rows,
      newRows: 0,
      archives: 0,
      gaps: m!.gaps.length,
    };
  }
  if (!cov) {
    const first = await ctx.archiveStart(u);
    // Before the symbol's first archive (not listed yet): a gap, known from the listing alone.
    if (first !== undefined && u.end <= first) {
      return await commit(
        dir,
        u,
        {
          coverage: u,
          file: null,
          rows: 0,
          first: null,
          last: null,
          sources: [],
          gaps: [u],
        },
        0,
        0,
      );
    }
  }
  const target = cov
    ? { start: Math.min(cov.start, u.start), end: Math.max(cov.end, u.end) }
    : { start: u.start, end: u.end };
  const ranges = cov
    ? [{ start: target.start, end: cov.start }, { start: cov.end, end: target.end }]
    : [target];
  const meta = { symbol: u.symbol, interval: u.interval, marketType: u.market };
  const parts: Klines[] = [];
  const archives: string[] = [];
  const gaps: TimeRange[] = m ? m.gaps.map(fromSpan) : [];
  let coveredEnd = target.end;
  for (const [i, r] of ranges.entries()) {
    if (r.end <= r.start) continue;
    let seen = 0;
    const k = await ctx.vision.fetchKlines({
      ...meta,
      start: r.start,
      end: r.end,
      signal: ctx.signal,
      onArchive: (a) => void archives.push(a.file),
      onProgress: (p) => {
        ctx.onBytes(p.bytes - seen);
        seen = p.bytes;
      },
    });
    parts.push(k);
    for (const g of k.gaps) {
      // The newest days may just not be published yet: not a gap, not covered.
      const last = i === ranges.length - 1 && g.end >= r.end;
      if (last && g.start >= ctx.now - PENDING_MS) coveredEnd = Math.max(target.start, g.start);
      else gaps.push(g);
    }
  }
  const newRows = parts.reduce((s, p) => s + p.length, 0);
  const dataPath = join(dir, dataFileName(u));
  if (m?.file && newRows > 0) {
    parts.push(new Klines({ ...meta, columns: await readPartition(dataPath) }));
  }
  const merged = Klines.merge(parts, meta);
  const coverage = { start: target.start, end: Math.max(coveredEnd, cov?.end ?? 0) };
  if (coverage.end <= coverage.start) {
    return { unit: u, status: "pending", rows: 0, newRows: 0, archives: 0, gaps: 0 };
  }
  let file = m?.file ?? null;
  if (newRows > 0) {
    await Deno.mkdir(dir, { recursive: true });
    const bytes = await diskFullAware(dataPath, () => ctx.writeData(merged.columns, dataPath));
    file = { name: dataFileName(u), bytes, sha256: await sha256File(dataPath) };
  }
  const checksums = await Promise.all(archives.map((a) => archiveChecksum(ctx, u, a)));
  const rows = m?.file && newRows === 0 ? m.rows : merged.length;
  const newSources = archives.map((archive, i) => ({ archive, sha256: checksums[i] }));
  return await commit(
    dir,
    u,
    {
      coverage,
      file,
      rows,
      first: newRows > 0 ? merged.openTime[0] : m?.firstOpenTime ?? null,
      last: newRows > 0 ? merged.openTime[merged.length - 1] : m?.lastOpenTime ?? null,
      sources: [...(m?.sources ?? []), ...newSources],
      gaps,
    },
    newRows,
    archives.length,
  );
}

/** What a partition's manifest records, before formatting. */
interface PartitionState {
  coverage: TimeRange;
  file: PartitionManifest["file"];
  rows: number;
  first: number | string | null;
  last: number | string | null;
  sources: PartitionManifest["sources"];
  gaps: TimeRange[];
}

/** Writes the manifest (the commit point of a unit) and reports the unit as written. */
async function commit(
  dir: string,
  u: Unit,
  p: PartitionState,
  newRows: number,
  archives: number,
): Promise<UnitOutcome> {
  const time = (t: number | string | null) => typeof t === "number" ? iso(t) : t;
  const manifest: PartitionManifest = {
    format: "vision-data/partition",
    version: 1,
    market: u.market,
    symbol: u.symbol,
    interval: visionIntervalName(u.interval),
    month: u.month,
    coverage: toSpan(p.coverage),
    file: p.file,
    rows: p.rows,
    firstOpenTime: time(p.first),
    lastOpenTime: time(p.last),
    sources: [...p.sources].sort((a, b) => (a.archive < b.archive ? -1 : 1)),
    gaps: mergeRanges(clip(p.gaps, p.coverage)).map(toSpan),
    writtenAt: iso(Date.now()),
  };
  await Deno.mkdir(dir, { recursive: true });
  // No rows: no file (a stale one from a run whose manifest was lost would be read as rows).
  if (p.file === null) await Deno.remove(join(dir, dataFileName(u))).catch(() => {});
  const manifestPath = join(dir, MANIFEST_NAME);
  await diskFullAware(manifestPath, () => writeManifest(manifestPath, manifest));
  return {
    unit: u,
    status: "written",
    rows: p.rows,
    newRows,
    archives,
    gaps: manifest.gaps.length,
  };
}

function clip(ranges: readonly TimeRange[], to: TimeRange): TimeRange[] {
  return ranges.map((r) => ({ start: Math.max(r.start, to.start), end: Math.min(r.end, to.end) }))
    .filter((r) => r.end > r.start);
}
