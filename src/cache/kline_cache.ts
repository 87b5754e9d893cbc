/**
 * The local kline cache: one verified Arrow IPC file per (market, symbol, interval, UTC
 * day), written atomically and read back zero-copy. See `mod.ts` for the file schema.
 *
 * @module
 */
import { join } from "@std/path";
import { CacheCorruptError, CacheDataError } from "../errors.ts";
import { CorruptRowError } from "../limit_errors.ts";
import { LIMITS } from "../limits.ts";
import { checkKlineRows } from "../_row_check.ts";
import { allocateColumns, KLINE_COLUMNS, type KlineColumns } from "../klines.ts";
import {
  type Interval,
  intervalMs,
  type MarketType,
  normalizeSymbol,
  SYMBOL_PATTERN,
  visionIntervalName,
} from "../market.ts";
import { DAY_MS, type TimeRange, utcDay } from "../time.ts";
import { lowerBound } from "../_float64.ts";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { numberOption } from "../_options.ts";
import { mapPool, readAt, readDirSafe, removeIfExists } from "./_fs.ts";
import {
  CorruptFileError,
  decodeFooterSummary,
  decodeKlineFile,
  encodeKlineFile,
  type FileIdentity,
  footerLength,
} from "./_ipc.ts";
import { defaultCacheDir } from "./default_dir.ts";
import {
  type CacheKey,
  daysBetween,
  dayStartOf,
  isTempName,
  keyPath,
  marketDir,
  normalizeCacheKey,
  parseFileName,
} from "./key.ts";

/** Options for {@linkcode KlineCache}. */
export interface KlineCacheOptions {
  /** Cache root. @default {defaultCacheDir()} */
  dir?: string;
  /**
   * `fdatasync` each file before its rename, so a power loss cannot leave an empty file
   * under the final name. Off by default: such a file fails its checksum on read and is
   * refetched, which is cheaper for a cache than a sync per write.
   * @default {false}
   */
  fsync?: boolean;
  /** Files read concurrently by {@linkcode KlineCache.readDays} and friends. @default {8} */
  concurrency?: number;
  /** Temp files of crashed writers older than this are swept by `verify()`/`clear()`. @default {600000} */
  staleTempMs?: number;
}

/** Options for {@linkcode KlineCache.write}. */
export interface CacheWriteOptions {
  /** Aborting stops the write; no file appears under the final name, the temp is removed. */
  signal?: AbortSignal;
  /** Called after each chunk reaches the temp file (bytes written, total). */
  onProgress?: (written: number, total: number) => void;
}

/** What {@linkcode KlineCache.readDays} reads: a symbol's days from `startDay` to `endDay` inclusive. */
export interface CacheDaysQuery {
  /** The market. */
  marketType: MarketType;
  /** The symbol. */
  symbol: string;
  /** The interval. */
  interval: Interval;
  /** First day, `YYYY-MM-DD`. */
  startDay: string;
  /** Last day (included), `YYYY-MM-DD`. */
  endDay: string;
}

/** One day read from the cache. */
export interface CachedDay {
  /** The key (normalized). */
  key: CacheKey;
  /** The file. */
  path: string;
  /** Views of the file's bytes (one `ArrayBuffer` per file, owned by the caller). */
  columns: KlineColumns;
}

/** Result of {@linkcode KlineCache.readDays}. */
export interface CacheDaysResult {
  /** Present, verified days in the order asked. */
  parts: CachedDay[];
  /** Keys with no (valid) file, in the order asked; includes the corrupt ones. */
  missing: CacheKey[];
  /** Files that failed verification (already deleted). */
  corrupt: CacheCorruptError[];
}

/** Result of {@linkcode KlineCache.readRange}. */
export interface CacheRangeResult {
  /** Rows with open time in the range, sorted (one allocation; zero-copy for a single day). */
  columns: KlineColumns;
  /** Days that were read from the cache. */
  days: string[];
  /** Days overlapping the range with no (valid) file: fetch these. */
  missing: string[];
  /** Files that failed verification (already deleted; their days are in `missing`). */
  corrupt: CacheCorruptError[];
}

/** Which files an operation applies to; every field narrows, none means all. */
export interface CacheFilter {
  /** Only this market. */
  marketType?: MarketType;
  /** Only this symbol. */
  symbol?: string;
  /** Only this interval. */
  interval?: Interval;
  /** Only days on or after this `YYYY-MM-DD`. */
  startDay?: string;
  /** Only days on or before this `YYYY-MM-DD`. */
  endDay?: string;
}

/** One cached file, as {@linkcode KlineCache.list} reports it. */
export interface CacheEntry {
  /** The key. */
  key: CacheKey;
  /** The file. */
  path: string;
  /** File size. */
  bytes: number;
  /** Row count from the file's footer (unverified), or `null` when the footer is unreadable. */
  rows: number | null;
}

/** Totals of one market/symbol/interval in {@linkcode CacheInfo}. */
export interface CacheInfoGroup {
  /** The market. */
  marketType: MarketType;
  /** The symbol. */
  symbol: string;
  /** The interval. */
  interval: Interval;
  /** Files. */
  files: number;
  /** Rows (files with unreadable footers count 0). */
  rows: number;
  /** Bytes on disk. */
  bytes: number;
  /** First cached day. */
  firstDay: string;
  /** Last cached day. */
  lastDay: string;
}

/** Result of {@linkcode KlineCache.info}. */
export interface CacheInfo {
  /** The cache root. */
  dir: string;
  /** Files. */
  files: number;
  /** Rows. */
  rows: number;
  /** Bytes. */
  bytes: number;
  /** Per market/symbol/interval, sorted. */
  groups: CacheInfoGroup[];
}

/** Options for {@linkcode KlineCache.verify}. */
export interface CacheVerifyOptions extends CacheFilter {
  /** Delete corrupt files. @default {false} */
  remove?: boolean;
  /** Aborts between files. */
  signal?: AbortSignal;
}

/** Result of {@linkcode KlineCache.verify}. */
export interface CacheVerifyResult {
  /** Files checked. */
  checked: number;
  /** Rows in the valid files. */
  rows: number;
  /** The files that failed. */
  corrupt: CacheCorruptError[];
  /** How many corrupt files were deleted. */
  removed: number;
  /** Stale temp files of crashed writers that were deleted. */
  sweptTemps: string[];
}

/** Result of {@linkcode KlineCache.clear}. */
export interface CacheClearResult {
  /** Files deleted. */
  files: number;
  /** Their bytes. */
  bytes: number;
  /** Stale temp files of crashed writers that were deleted. */
  sweptTemps: string[];
}

const MARKETS: readonly MarketType[] = ["spot", "um", "cm"];

/**
 * A directory of verified kline files, one per (market, symbol, interval, UTC day). Safe
 * to share between processes: writes are atomic renames of complete files, and every read
 * checks the row count and a CRC-32 of every column (a bad file is deleted and reported as
 * {@linkcode CacheCorruptError}).
 *
 * @example
 * ```ts
 * import { allocateColumns } from "@vision-data/client/market";
 * import { KlineCache } from "@vision-data/client/cache";
 * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
 * const key = { marketType: "spot", symbol: "BTCUSDT", interval: "1d", day: "2024-01-01" } as const;
 * const columns = allocateColumns(1);
 * columns.openTime[0] = Date.UTC(2024, 0, 1);
 * await cache.write(key, columns);
 * (await cache.read(key))?.openTime[0]; // 1704067200000
 * ```
 */
export class KlineCache {
  /** The cache root. */
  readonly dir: string;
  readonly #fsync: boolean;
  readonly #concurrency: number;
  readonly #staleTempMs: number;

  /**
   * Opens (lazily: nothing is touched until the first call) a cache directory.
   *
   * @param options directory and tuning
   */
  constructor(options: KlineCacheOptions = {}) {
    this.dir = options.dir ?? defaultCacheDir();
    this.#fsync = options.fsync ?? false;
    this.#concurrency = numberOption("concurrency", options.concurrency, 8, {
      min: 1,
      integer: true,
    });
    this.#staleTempMs = options.staleTempMs ?? 600_000;
  }

  /**
   * The file of a key: `{dir}/{spot|futures/um|futures/cm}/klines/{SYM}/{iv}/{SYM}-{iv}-{day}.arrow`
   * (the archive's layout; `1M` is `1mo`). Throws typed errors for an invalid key.
   *
   * @example
   * ```ts
   * import { KlineCache } from "@vision-data/client/cache";
   * new KlineCache({ dir: "/c" }).pathFor({ marketType: "um", symbol: "BTCUSDT", interval: "1m", day: "2024-01-01" });
   * // "/c/futures/um/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.arrow"
   * ```
   */
  pathFor(key: CacheKey): string {
    return keyPath(this.dir, normalizeCacheKey(key));
  }

  /**
   * Reads and verifies one day: `null` when absent; a corrupt or truncated file is deleted
   * and {@linkcode CacheCorruptError} thrown. The columns are views of one fresh buffer
   * (the file's bytes).
   *
   * @example
   * ```ts
   * import { KlineCache } from "@vision-data/client/cache";
   * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
   * await cache.read({ marketType: "spot", symbol: "BTCUSDT", interval: "1m", day: "2024-01-01" }); // null
   * ```
   */
  async read(key: CacheKey): Promise<KlineColumns | null> {
    const k = normalizeCacheKey(key);
    return (await this.#readFile(k, keyPath(this.dir, k)))?.columns ?? null;
  }

  /**
   * Writes one complete UTC day atomically (temp file + rename). Rejects with
   * {@linkcode CacheDataError} when the columns differ in length, an open time is outside
   * the day or not strictly increasing, or a time or trade count is not an integer.
   *
   * @example
   * ```ts
   * import { allocateColumns } from "@vision-data/client/market";
   * import { KlineCache } from "@vision-data/client/cache";
   * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
   * const columns = allocateColumns(1);
   * columns.openTime[0] = Date.UTC(2024, 0, 1);
   * await cache.write({ marketType: "spot", symbol: "BTCUSDT", interval: "1d", day: "2024-01-01" }, columns);
   * ```
   */
  async write(
    key: CacheKey,
    columns: KlineColumns,
    options: CacheWriteOptions = {},
  ): Promise<void> {
    const k = normalizeCacheKey(key);
    validateColumns(k.day, columns);
    checkRowsFor(k, columns, (row, reason) => new CacheDataError(k.day, row, reason));
    const bytes = encodeKlineFile(identityOf(k), columns);
    const { signal, onProgress } = options;
    await writeFileAtomic(
      keyPath(this.dir, k),
      (file) => writeAll(file, bytes, { signal, onProgress, chunkSize: 1 << 20 }),
      { signal, fsync: this.#fsync, createDir: true },
    );
  }

  /**
   * Deletes one day's file; returns whether there was one.
   *
   * @example
   * ```ts
   * import { KlineCache } from "@vision-data/client/cache";
   * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
   * await cache.remove({ marketType: "spot", symbol: "BTCUSDT", interval: "1m", day: "2024-01-01" }); // false
   * ```
   */
  remove(key: CacheKey): Promise<boolean> {
    return removeIfExists(this.pathFor(key));
  }

  /**
   * Reads many days concurrently; each present day's columns are zero-copy views of its
   * file. Corrupt files are deleted and reported in `corrupt` (not thrown), and their keys
   * listed in `missing`.
   *
   * @example
   * ```ts
   * import { KlineCache } from "@vision-data/client/cache";
   * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
   * const r = await cache.readDays({
   *   marketType: "spot", symbol: "BTCUSDT", interval: "1m", startDay: "2024-01-01", endDay: "2024-01-31",
   * });
   * r.missing.length; // 31
   * ```
   */
  async readDays(
    query: CacheDaysQuery | readonly CacheKey[],
    options: { signal?: AbortSignal } = {},
  ): Promise<CacheDaysResult> {
    const keys = Array.isArray(query)
      ? (query as readonly CacheKey[]).map(normalizeCacheKey)
      : keysOf(query as CacheDaysQuery);
    const corrupt: CacheCorruptError[] = [];
    const read = await mapPool(keys, this.#concurrency, async (key) => {
      const path = keyPath(this.dir, key);
      try {
        const columns = (await this.#readFile(key, path))?.columns;
        return columns ? { key, path, columns } : null;
      } catch (err) {
        if (!(err instanceof CacheCorruptError)) throw err;
        corrupt.push(err);
        return null;
      }
    }, options.signal);
    const parts: CachedDay[] = [];
    const missing: CacheKey[] = [];
    read.forEach((r, i) => r ? parts.push(r) : missing.push(keys[i]));
    return { parts, missing, corrupt };
  }

  /**
   * Reads the cached rows of `[range.start, range.end)` (open time, epoch ms): the days
   * overlapping the range, trimmed and joined into one allocation, plus the days that are
   * missing (to fetch) and any corrupt files found (deleted).
   *
   * @example
   * ```ts
   * import { KlineCache } from "@vision-data/client/cache";
   * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
   * const r = await cache.readRange(
   *   { marketType: "spot", symbol: "BTCUSDT", interval: "1m" },
   *   { start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 0, 3) },
   * );
   * r.missing; // ["2024-01-01", "2024-01-02"]
   * ```
   */
  async readRange(
    meta: { marketType: MarketType; symbol: string; interval: Interval },
    range: TimeRange,
    options: { signal?: AbortSignal } = {},
  ): Promise<CacheRangeResult> {
    if (!(range.start < range.end)) {
      return { columns: allocateColumns(0), days: [], missing: [], corrupt: [] };
    }
    const r = await this.readDays({
      ...meta,
      startDay: utcDay(range.start),
      endDay: utcDay(range.end - 1),
    }, options);
    const spans = r.parts.map((p) => {
      const ot = p.columns.openTime;
      return { p, lo: lowerBound(ot, range.start), hi: lowerBound(ot, range.end) };
    });
    const n = spans.reduce((sum, s) => sum + s.hi - s.lo, 0);
    const columns = {} as KlineColumns;
    for (const name of KLINE_COLUMNS) {
      if (spans.length === 1) {
        columns[name] = spans[0].p.columns[name].subarray(spans[0].lo, spans[0].hi);
        continue;
      }
      // One allocation per column rather than allocateColumns()'s single buffer: filling
      // one fresh 46 MB block (a year of 1m) measured ~25 ms against ~6 ms for eleven 4 MB
      // columns, which malloc can serve from freed heap memory instead of new pages.
      const dst = new Float64Array(n);
      let at = 0;
      for (const { p, lo, hi } of spans) {
        dst.set(p.columns[name].subarray(lo, hi), at);
        at += hi - lo;
      }
      columns[name] = dst;
    }
    return {
      columns,
      days: r.parts.map((p) => p.key.day),
      missing: r.missing.map((k) => k.day),
      corrupt: r.corrupt,
    };
  }

  /**
   * The cached files matching `filter` (temp files of writers are never listed), sorted by
   * market, symbol, interval, day. Row counts come from each file's footer, unverified.
   *
   * @example
   * ```ts
   * import { KlineCache } from "@vision-data/client/cache";
   * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
   * (await cache.list({ symbol: "BTCUSDT" })).length; // 0
   * ```
   */
  async list(filter: CacheFilter = {}): Promise<CacheEntry[]> {
    const { files } = await this.#walk(filter);
    return await mapPool(files, this.#concurrency, async ({ key, path, isDir }) => {
      if (isDir) return null; // not a day file (verify reports it)
      try {
        using file = await Deno.open(path, { read: true });
        const { size } = await file.stat();
        return { key, path, bytes: size, rows: await footerRows(file, size) };
      } catch (err) {
        // Deleted between the listing and now (a concurrent clear()/read of a corrupt file).
        if (err instanceof Deno.errors.NotFound) return null;
        throw err;
      }
    }).then((all) => all.filter((e): e is CacheEntry => e !== null));
  }

  /**
   * Totals per market/symbol/interval: files, rows, bytes, first and last day.
   *
   * @example
   * ```ts
   * import { KlineCache } from "@vision-data/client/cache";
   * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
   * (await cache.info()).files; // 0
   * ```
   */
  async info(filter: CacheFilter = {}): Promise<CacheInfo> {
    const groups = new Map<string, CacheInfoGroup>();
    const info: CacheInfo = { dir: this.dir, files: 0, rows: 0, bytes: 0, groups: [] };
    for (const e of await this.list(filter)) {
      const { marketType, symbol, interval, day } = e.key;
      const id = `${marketType}/${symbol}/${interval}`;
      let g = groups.get(id);
      if (!g) {
        g = {
          marketType,
          symbol,
          interval,
          files: 0,
          rows: 0,
          bytes: 0,
          firstDay: day,
          lastDay: day,
        };
        groups.set(id, g);
        info.groups.push(g);
      }
      g.files++;
      g.rows += e.rows ?? 0;
      g.bytes += e.bytes;
      g.lastDay = day; // list() is sorted by day within a group
      info.files++;
      info.rows += e.rows ?? 0;
      info.bytes += e.bytes;
    }
    return info;
  }

  /**
   * Reads and verifies every matching file; reports the corrupt ones (and deletes them
   * with `remove: true`). Also deletes temp files left by crashed writers.
   *
   * @example
   * ```ts
   * import { KlineCache } from "@vision-data/client/cache";
   * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
   * (await cache.verify({ remove: true })).corrupt.length; // 0
   * ```
   */
  async verify(options: CacheVerifyOptions = {}): Promise<CacheVerifyResult> {
    const { files, temps } = await this.#walk(options);
    const result: CacheVerifyResult = {
      checked: 0,
      rows: 0,
      corrupt: [],
      removed: 0,
      sweptTemps: await this.#sweep(temps),
    };
    await mapPool(files, this.#concurrency, async ({ key, path }) => {
      try {
        const ok = await this.#readFile(key, path, { remove: options.remove ?? false });
        if (!ok) return; // deleted meanwhile
        // Values too (the read checks only integrity): a row no source may give is corrupt.
        try {
          checkRowsFor(key, ok.columns, (_row, reason) => new CacheCorruptError(path, reason));
        } catch (err) {
          if (options.remove) await removeIfExists(path);
          throw err;
        }
        result.checked++;
        result.rows += ok.rows;
      } catch (err) {
        if (!(err instanceof CacheCorruptError)) throw err;
        result.checked++;
        result.corrupt.push(err);
        if (options.remove) result.removed++;
      }
    }, options.signal);
    return result;
  }

  /**
   * Deletes the matching files (all, without a filter) and stale temp files, pruning
   * directories left empty.
   *
   * @example
   * ```ts
   * import { KlineCache } from "@vision-data/client/cache";
   * const cache = new KlineCache({ dir: await Deno.makeTempDir() });
   * (await cache.clear({ marketType: "spot" })).files; // 0
   * ```
   */
  async clear(filter: CacheFilter = {}): Promise<CacheClearResult> {
    const { files, temps, dirs } = await this.#walk(filter);
    const result: CacheClearResult = { files: 0, bytes: 0, sweptTemps: await this.#sweep(temps) };
    await mapPool(files, this.#concurrency, async ({ path, isDir }) => {
      try {
        const { size } = await Deno.stat(path);
        await Deno.remove(path, { recursive: isDir });
        result.files++;
        result.bytes += size;
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    });
    // Deepest first; a directory a concurrent writer just filled stays (remove fails).
    for (const d of dirs.sort((a, b) => b.length - a.length)) {
      await Deno.remove(d).catch(() => {});
    }
    return result;
  }

  async #readFile(
    key: CacheKey,
    path: string,
    options: { remove?: boolean } = {},
  ): Promise<{ columns: KlineColumns; rows: number } | null> {
    let bytes: Uint8Array;
    try {
      // Stat first: a directory or a multi-GB junk file where a day file belongs is corrupt,
      // not something to read whole (or to refetch forever: the write could never replace it).
      const info = await Deno.stat(path);
      const max = maxDayFileBytes(key.interval);
      if (info.isDirectory || info.size > max) {
        if (options.remove ?? true) await Deno.remove(path, { recursive: info.isDirectory });
        throw new CacheCorruptError(
          path,
          info.isDirectory
            ? "a directory where a day file should be"
            : `${info.size} bytes, over the ${max}-byte bound of a ${key.interval} day file`,
        );
      }
      bytes = await Deno.readFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    try {
      return this.#decode(key, path, bytes);
    } catch (err) {
      if (options.remove ?? true) await removeIfSize(path, bytes.length);
      throw err;
    }
  }

  /** Verifies a file's bytes for `key`; throws {@linkcode CacheCorruptError} (not removing). */
  #decode(key: CacheKey, path: string, bytes: Uint8Array): { columns: KlineColumns; rows: number } {
    try {
      const decoded = decodeKlineFile(bytes);
      const want = identityOf(key);
      const got = decoded.identity;
      if (
        got.market !== want.market || got.symbol !== want.symbol ||
        got.interval !== want.interval || got.day !== want.day
      ) {
        throw new CorruptFileError(
          `file is for ${got.market} ${got.symbol} ${got.interval} ${got.day}, ` +
            `expected ${want.market} ${want.symbol} ${want.interval} ${want.day}`,
        );
      }
      return decoded;
    } catch (err) {
      if (!(err instanceof CorruptFileError)) throw err;
      throw new CacheCorruptError(path, err.message, { cause: err });
    }
  }

  async #walk(filter: CacheFilter): Promise<{
    files: { key: CacheKey; path: string; isDir: boolean }[];
    temps: string[];
    dirs: string[];
  }> {
    const files: { key: CacheKey; path: string; isDir: boolean }[] = [];
    const temps: string[] = [];
    const dirs: string[] = [];
    const symbolWanted = filter.symbol === undefined ? undefined : normalizeSymbol(filter.symbol);
    const ivWanted = filter.interval === undefined
      ? undefined
      : visionIntervalName(filter.interval);
    if (filter.startDay !== undefined) dayStartOf(filter.startDay);
    if (filter.endDay !== undefined) dayStartOf(filter.endDay);
    for (const market of filter.marketType ? [filter.marketType] : MARKETS) {
      const base = marketDir(this.dir, market);
      for (const s of await readDirSafe(base)) {
        if (!s.isDirectory || (symbolWanted && s.name !== symbolWanted)) continue;
        if (!SYMBOL_PATTERN.test(s.name)) continue;
        const symDir = join(base, s.name);
        dirs.push(symDir);
        for (const iv of await readDirSafe(symDir)) {
          if (!iv.isDirectory || (ivWanted && iv.name !== ivWanted)) continue;
          const ivDir = join(symDir, iv.name);
          dirs.push(ivDir);
          for (const f of await readDirSafe(ivDir)) {
            // Directories named like day files are listed too: verify reports them.
            if (!f.isFile && !f.isDirectory) continue;
            const path = join(ivDir, f.name);
            if (isTempName(f.name) && f.isFile) {
              temps.push(path);
              continue;
            }
            const key = parseFileName(market, s.name, iv.name, f.name);
            if (!key) continue;
            if (filter.startDay !== undefined && key.day < filter.startDay) continue;
            if (filter.endDay !== undefined && key.day > filter.endDay) continue;
            files.push({ key, path, isDir: f.isDirectory });
          }
        }
      }
    }
    const order = (k: CacheKey): string =>
      `${MARKETS.indexOf(k.marketType)}/${k.symbol}/${k.interval}/${k.day}`;
    files.sort((a, b) => order(a.key) < order(b.key) ? -1 : order(a.key) > order(b.key) ? 1 : 0);
    return { files, temps, dirs };
  }

  /** Deletes temp files older than the stale age (younger ones may belong to a live writer). */
  async #sweep(temps: string[]): Promise<string[]> {
    const swept: string[] = [];
    const cutoff = Date.now() - this.#staleTempMs;
    for (const path of temps) {
      try {
        const { mtime } = await Deno.stat(path);
        if (mtime && mtime.getTime() > cutoff) continue;
        if (await removeIfExists(path)) swept.push(path);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    return swept;
  }
}

function identityOf(key: CacheKey): FileIdentity {
  return { market: key.marketType, symbol: key.symbol, interval: key.interval, day: key.day };
}

function keysOf(q: CacheDaysQuery): CacheKey[] {
  const base = normalizeCacheKey({ ...q, day: q.startDay });
  return daysBetween(q.startDay, q.endDay).map((day) => ({ ...base, day }));
}

function validateColumns(day: string, columns: KlineColumns): void {
  const n = columns.openTime?.length;
  for (const name of KLINE_COLUMNS) {
    const c = columns[name];
    if (!(c instanceof Float64Array) || c.length !== n) {
      throw new CacheDataError(
        day,
        undefined,
        `column ${name} must be a Float64Array of ${n} rows (like openTime)`,
      );
    }
  }
  const start = dayStartOf(day);
  const end = start + DAY_MS;
  const { openTime, closeTime, trades } = columns;
  let prev = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = openTime[i];
    if (!Number.isInteger(t) || t < start || t >= end) {
      throw new CacheDataError(day, i, `open time ${t} is not an integer ms inside ${day} (UTC)`);
    }
    if (t <= prev) {
      throw new CacheDataError(day, i, `open time ${t} does not increase (previous ${prev})`);
    }
    prev = t;
    if (!Number.isSafeInteger(closeTime[i])) {
      throw new CacheDataError(day, i, `close time ${closeTime[i]} is not an integer ms`);
    }
    if (!Number.isSafeInteger(trades[i])) {
      throw new CacheDataError(day, i, `trade count ${trades[i]} is not an integer`);
    }
  }
}

/** The row count in a file's footer, or `null` when it is not readable. */
async function footerRows(file: Deno.FsFile, size: number): Promise<number | null> {
  if (size < 16) return null;
  const len = footerLength(await readAt(file, size - 10, 10));
  if (len <= 0 || len + 10 > size) return null;
  try {
    return decodeFooterSummary(await readAt(file, size - 10 - len, len + 10)).rows;
  } catch (err) {
    if (err instanceof CorruptFileError) return null;
    throw err;
  }
}

/**
 * Deletes a corrupt file unless another writer has meanwhile renamed a new file (of another
 * size) over it: deleting that one would only cost a refetch, but there is no need to.
 */
/**
 * The largest a day file of `interval` can be: its rows (at most one per interval step of
 * the day) × 11 columns of 8 bytes, twice over for the schema and padding, plus 1 MiB;
 * never above `LIMITS.maxCacheFileBytes`.
 */
function maxDayFileBytes(interval: Interval): number {
  const step = interval === "1M" || interval === "1w" || interval === "3d"
    ? DAY_MS
    : intervalMs(interval);
  const rows = Math.ceil(DAY_MS / step);
  return Math.min(LIMITS.maxCacheFileBytes, rows * 11 * 8 * 2 + (1 << 20));
}

/** Runs the row rule on a day's columns, turning its verdict into the cache's own error. */
function checkRowsFor(
  key: CacheKey,
  columns: KlineColumns,
  error: (row: number, reason: string) => Error,
): void {
  try {
    checkKlineRows(columns, key.interval, `${key.symbol} ${key.interval} ${key.day}`, 0, key.kind);
  } catch (err) {
    if (err instanceof CorruptRowError) throw error((err.line ?? 1) - 1, err.message);
    throw err;
  }
}

async function removeIfSize(path: string, size: number): Promise<void> {
  try {
    if ((await Deno.stat(path)).size !== size) return;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  await removeIfExists(path);
}
