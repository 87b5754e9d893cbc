/**
 * `DataSourceManager#getFundingRates`: months from the funding cache, then the Vision
 * archive, then REST for the months the archive lacks (unpublished, missing or failing), and
 * the complete months fetched written back. No funding grid is assumed: a gap is a month part
 * of the range in which every source asked had no row.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { ClientClosedError, VisionDataError } from "../errors.ts";
import { DataSource } from "../klines.ts";
import type { MarketType } from "../market.ts";
import { monthStart, type TimeRange, utcMonth } from "../time.ts";
import { runLimited } from "../_worker_loop.ts";
import type { FundingCache } from "./cache.ts";
import { FundingRates } from "./funding_rates.ts";
import type { FetchFundingOptions } from "./options.ts";

const logger = getLogger(["vision-data", "manager"]);
const CACHE_SOURCE = 0;

/** A client that serves funding rates. */
export interface FundingSource {
  /** Funding rows of `[start, end)` with the source's gaps. */
  fetchFundingRates(options: FetchFundingOptions): Promise<FundingRates>;
}

/** The per-day-file counters the manager reports (funding counts months). */
export interface FundingStats {
  hits: number;
  misses: number;
  errors: number;
  writes: number;
}

/** What the manager lends the funding call. */
export interface FundingManagerContext {
  market: MarketType;
  now: number;
  mode: DataSource;
  cache?: FundingCache;
  vision: () => FundingSource;
  rest: () => FundingSource;
  stats: FundingStats;
  concurrency: number;
}

/** Funding rows of `range` (already resolved), from cache, Vision and REST. */
export async function getFunding(
  ctx: FundingManagerContext,
  symbol: string,
  range: TimeRange,
  signal: AbortSignal,
): Promise<FundingRates> {
  const meta = { symbol, marketType: ctx.market };
  if (range.start >= range.end) return FundingRates.empty(meta);
  const useVision = ctx.mode === DataSource.AUTO || ctx.mode === DataSource.VISION;
  const useRest = ctx.mode === DataSource.AUTO || ctx.mode === DataSource.REST;
  const cache = ctx.cache;
  const months: TimeRange[] = [];
  for (let m = monthStart(range.start); m < range.end; m = monthStart(m, 1)) {
    months.push({ start: m, end: monthStart(m, 1) });
  }
  const parts: FundingRates[] = [];
  const gaps: TimeRange[] = [];
  // With a cache, whole months are fetched so that complete ones can be stored.
  const span = (m: TimeRange): TimeRange =>
    cache
      ? { start: m.start, end: Math.min(m.end, ctx.now) }
      : { start: Math.max(m.start, range.start), end: Math.min(m.end, range.end, ctx.now) };
  let todo: TimeRange[] = [];
  for (const m of months) {
    const complete = m.end <= ctx.now;
    if (cache && complete) {
      const key = { marketType: ctx.market, symbol, month: utcMonth(m.start) };
      try {
        const columns = await cache.read(key);
        if (columns) {
          ctx.stats.hits++;
          const sources = new Uint8Array(columns.fundingTime.length).fill(CACHE_SOURCE);
          parts.push(new FundingRates({ ...meta, columns, sources }));
          continue;
        }
        ctx.stats.misses++;
      } catch (err) {
        ctx.stats.errors++;
        logger.warn("Funding cache read failed for {month}, fetching it again: {error}", {
          month: key.month,
          error: err,
        });
      }
    }
    const s = span(m);
    if (s.start < s.end) todo.push(s);
  }
  if (ctx.mode === DataSource.CACHE) {
    gaps.push(...todo);
    todo = [];
  }
  const fetched: { span: TimeRange; rows: FundingRates }[] = [];
  if (useVision && todo.length > 0) {
    const lacked: TimeRange[] = [];
    await runLimited(
      todo.map((s) => async (sig: AbortSignal) => {
        try {
          const got = await ctx.vision().fetchFundingRates({ symbol, ...s, signal: sig });
          if (got.gaps.length === 0) fetched.push({ span: s, rows: got });
          else {
            if (got.length > 0) parts.push(got);
            lacked.push(s);
          }
        } catch (err) {
          // A month the archive cannot give (checksum, corrupt zip, server errors after
          // retries) goes to REST when allowed; closes and aborts propagate.
          if (!useRest || sig.aborted || !isFailover(err)) throw err;
          logger.warn("Funding archive failed for {month}, asking REST: {error}", {
            month: utcMonth(s.start),
            error: err,
          });
          lacked.push(s);
        }
      }),
      ctx.concurrency,
      signal,
    );
    todo = lacked;
  }
  if (useRest && todo.length > 0) {
    const got = await runLimited(
      todo.map((s) => async (sig: AbortSignal) => ({
        span: s,
        rows: await ctx.rest().fetchFundingRates({ symbol, ...s, signal: sig }),
      })),
      ctx.concurrency,
      signal,
    );
    fetched.push(...got.filter((g) => g.rows.length > 0));
    gaps.push(...got.filter((g) => g.rows.length === 0).map((g) => g.span));
  } else {
    gaps.push(...todo);
  }
  for (const f of fetched) {
    parts.push(f.rows);
    const whole = f.span.start === monthStart(f.span.start) &&
      f.span.end === monthStart(f.span.start, 1);
    if (cache && whole && f.rows.length > 0) {
      const key = { marketType: ctx.market, symbol, month: utcMonth(f.span.start) };
      try {
        await cache.write(key, f.rows.columns, { signal });
        ctx.stats.writes++;
      } catch (err) {
        if (signal.aborted) throw err;
        ctx.stats.errors++;
        logger.warn("Funding cache write failed for {month}: {error}", {
          month: key.month,
          error: err,
        });
      }
    }
  }
  const clipped = gaps
    .map((g) => ({ start: Math.max(g.start, range.start), end: Math.min(g.end, range.end) }))
    .filter((g) => g.start < g.end);
  return FundingRates.merge(parts, meta, clipped).between(range.start, range.end);
}

function isFailover(err: unknown): boolean {
  return err instanceof VisionDataError && !(err instanceof ClientClosedError);
}
