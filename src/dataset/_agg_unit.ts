/**
 * One aggTrades unit of a sync: one symbol's UTC day, streamed from its daily archive
 * straight into the partition's Parquet file (row groups as the chunks come: memory is
 * bounded by one archive piece, whatever the day's size). Layout, beside the klines':
 * `market=…/data=aggTrades/symbol=…/year=YYYY/month=MM/day=DD/SYM-aggTrades-YYYY-MM-DD.parquet`.
 * A day is all-or-nothing (its archive is one file), so a partition is either complete,
 * a recorded gap (no archive, older than {@linkcode PENDING_MS}) or pending (left for a
 * later run, no manifest written).
 *
 * @module
 */
import { join } from "@std/path";
import type { MarketType } from "../market.ts";
import { iso, type TimeRange } from "../time.ts";
import { parseChecksumFile } from "../vision/checksum.ts";
import { aggTradesArchivePath } from "../agg_trades/_vision.ts";
import type { AggTradeColumns } from "../agg_trades/columns.ts";
import { writeAggTrades } from "../agg_trades/export.ts";
import { getText } from "./_http_text.ts";
import { MANIFEST_NAME, removeTempFiles } from "./_layout.ts";
import { type PartitionManifest, sha256File, writeManifest } from "./_manifest.ts";
import {
  diskFullAware,
  matchingManifest,
  PENDING_MS,
  type UnitContext,
  type UnitOutcome,
} from "./_unit.ts";

/** One aggTrades unit: a (market, symbol, UTC day) partition. */
export interface AggTradesUnit {
  /** Always `aggTrades`. */
  data: "aggTrades";
  /** Market. */
  market: MarketType;
  /** Symbol. */
  symbol: string;
  /** `YYYY-MM-DD`. */
  day: string;
  /** The day's start (epoch ms). */
  start: number;
  /** The next day's start. */
  end: number;
}

/** The unit's stable key (hashed for sharding). */
export function aggTradesUnitKey(u: AggTradesUnit): string {
  return `${u.market}/aggTrades/${u.symbol}/${u.day}`;
}

/** The partition directory of a unit, relative to the root. */
export function aggTradesPartitionPath(u: AggTradesUnit): string {
  const [year, month, day] = u.day.split("-");
  return join(
    `market=${u.market}`,
    "data=aggTrades",
    `symbol=${u.symbol}`,
    `year=${year}`,
    `month=${month}`,
    `day=${day}`,
  );
}

/** The Parquet file name of a unit, e.g. `BTCUSDT-aggTrades-2024-01-05.parquet`. */
export function aggTradesFileName(u: AggTradesUnit): string {
  return `${u.symbol}-aggTrades-${u.day}.parquet`;
}

/** Brings one aggTrades partition up to date (a no-op when its manifest says it is). */
export async function syncAggTradesUnit(
  u: AggTradesUnit,
  ctx: UnitContext,
): Promise<UnitOutcome> {
  const dir = join(ctx.root, aggTradesPartitionPath(u));
  await removeTempFiles(dir);
  const m = await matchingManifest(
    dir,
    aggTradesFileName(u),
    (m) =>
      m.data === "aggTrades" && m.symbol === u.symbol && m.day === u.day &&
      m.market === u.market,
  );
  if (m) {
    return {
      unit: u,
      status: "unchanged",
      rows: m.rows,
      newRows: 0,
      archives: 0,
      gaps: m.gaps.length,
    };
  }
  const gaps: TimeRange[] = [];
  let first: number | null = null;
  let last: number | null = null;
  const chunks = ctx.vision.streamAggTrades({
    symbol: u.symbol,
    start: u.start,
    end: u.end,
    signal: ctx.signal,
    onGap: (g) => void gaps.push(g),
  });
  async function* tracked(): AsyncGenerator<AggTradeColumns> {
    for await (const c of chunks) {
      const n = c.transactTime.length;
      if (n > 0) {
        first ??= c.transactTime[0];
        last = c.transactTime[n - 1];
      }
      yield c;
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  const name = aggTradesFileName(u);
  const dataPath = join(dir, name);
  const { rows, bytes } = await diskFullAware(dataPath, () => writeAggTrades(tracked(), dataPath));
  if (rows === 0) await Deno.remove(dataPath).catch(() => {});
  // A day without an archive that may just not be published yet: left for a later run.
  if (gaps.length > 0 && rows === 0 && u.start >= ctx.now - PENDING_MS) {
    return { unit: u, status: "pending", rows: 0, newRows: 0, archives: 0, gaps: 0 };
  }
  const archive = aggTradesArchivePath(u.market, u.symbol, { kind: "daily", label: u.day });
  const archiveName = archive.slice(archive.lastIndexOf("/") + 1);
  // No gap: the day came from its daily archive, whose published checksum is recorded.
  const sources = gaps.length > 0 ? [] : [{
    archive: archiveName,
    sha256: parseChecksumFile(
      await getText(`${ctx.visionUrl}/${archive}.CHECKSUM`, {
        signal: ctx.signal,
        maxBytes: 4096,
      }),
      archiveName,
    ),
  }];
  const manifest: PartitionManifest = {
    format: "vision-data/partition",
    version: 1,
    data: "aggTrades",
    market: u.market,
    symbol: u.symbol,
    interval: null,
    month: u.day.slice(0, 7),
    day: u.day,
    coverage: { start: iso(u.start), end: iso(u.end) },
    file: rows === 0 ? null : { name, bytes, sha256: await sha256File(dataPath) },
    rows,
    firstOpenTime: null,
    lastOpenTime: null,
    firstTransactTime: first === null ? null : iso(first),
    lastTransactTime: last === null ? null : iso(last),
    sources,
    gaps: gaps.map((g) => ({ start: iso(g.start), end: iso(g.end) })),
    writtenAt: iso(Date.now()),
  };
  const manifestPath = join(dir, MANIFEST_NAME);
  await diskFullAware(manifestPath, () => writeManifest(manifestPath, manifest));
  return {
    unit: u,
    status: "written",
    rows,
    newRows: rows,
    archives: sources.length,
    gaps: manifest.gaps.length,
  };
}
