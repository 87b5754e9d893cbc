/**
 * The funding cache: one file per (market, symbol, month), beside the kline cache and laid
 * out like the archive (`{dir}/futures/um/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2024-01.bin`),
 * written to a temp name and renamed (two processes may share the dir). Like the kline
 * cache, each file carries its row count and a CRC-32 of its column data, checked on read;
 * a file that fails is deleted and reported as {@linkcode CacheCorruptError}.
 *
 * @module
 */
import { join } from "@std/path";
import { crc32 } from "node:zlib";
import { writeAll, writeFileAtomic } from "../_atomic_file.ts";
import { defaultCacheDir } from "../cache/default_dir.ts";
import { CacheCorruptError, InvalidRangeError } from "../errors.ts";
import { marketCapabilities, type MarketType, normalizeSymbol } from "../market.ts";
import { allocateFundingColumns, FUNDING_COLUMNS, type FundingColumns } from "./funding_rates.ts";

/**
 * One cached funding file: a contract's funding rows of one UTC month.
 *
 * @example
 * ```ts
 * import type { FundingCacheKey } from "@vision-data/client/funding";
 * const key: FundingCacheKey = { marketType: "um", symbol: "BTCUSDT", month: "2024-01" };
 * ```
 */
export interface FundingCacheKey {
  /** `um` or `cm`. */
  marketType: MarketType;
  /** The contract. */
  symbol: string;
  /** The UTC month, `YYYY-MM`. */
  month: string;
}

const MAGIC = "vision-data funding v1\n";
/** A month of 1 h funding is 744 rows; a file claiming far more is not ours. */
const MAX_ROWS = 100_000;
const encoder = new TextEncoder();

/**
 * Reads and writes funding months.
 *
 * @example
 * ```ts
 * import { FundingCache } from "@vision-data/client/funding";
 * const cache = new FundingCache({ dir: await Deno.makeTempDir() });
 * await cache.read({ marketType: "um", symbol: "BTCUSDT", month: "2024-01" }); // null
 * ```
 */
export class FundingCache {
  /** The cache root (shared with the kline cache). */
  readonly dir: string;

  /** @param options `dir`: the cache root. @default {defaultCacheDir()} */
  /**
   * Creates an instance.
   *
   * @param options `dir`: the cache root (default: the kline cache's default dir)
   */
  constructor(options: { dir?: string } = {}) {
    this.dir = options.dir ?? defaultCacheDir();
  }

  /** The file of a key. */
  pathFor(key: FundingCacheKey): string {
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(key.month)) {
      throw new InvalidRangeError(`Invalid month ${JSON.stringify(key.month)}: expected YYYY-MM`);
    }
    const sym = normalizeSymbol(key.symbol);
    const prefix = marketCapabilities(key.marketType).visionPrefix.split("/");
    return join(this.dir, ...prefix, "fundingRate", sym, `${sym}-fundingRate-${key.month}.bin`);
  }

  /**
   * The month's rows, or `null` when not cached. A corrupt file is deleted and rejects
   * with {@linkcode CacheCorruptError}.
   */
  async read(key: FundingCacheKey): Promise<FundingColumns | null> {
    const path = this.pathFor(key);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    try {
      return decode(bytes);
    } catch (err) {
      await Deno.remove(path).catch(() => {});
      throw new CacheCorruptError(path, err instanceof Error ? err.message : String(err));
    }
  }

  /** Writes the month's rows atomically (no partial file, even when `signal` aborts). */
  async write(
    key: FundingCacheKey,
    columns: FundingColumns,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const bytes = encode(columns);
    await writeFileAtomic(this.pathFor(key), (file) => writeAll(file, bytes), {
      signal: options.signal,
      createDir: true,
    });
  }
}

function payloadOf(columns: FundingColumns): Uint8Array {
  const n = columns.fundingTime.length;
  const data = new Float64Array(n * FUNDING_COLUMNS.length);
  FUNDING_COLUMNS.forEach((name, j) => data.set(columns[name], j * n));
  return new Uint8Array(data.buffer);
}

function encode(columns: FundingColumns): Uint8Array {
  const payload = payloadOf(columns);
  const header = JSON.stringify({ rows: columns.fundingTime.length, crc32: crc32(payload) });
  // The header is padded so the payload starts 8-byte aligned.
  const head = MAGIC + header;
  const pad = (8 - ((encoder.encode(head).length + 1) % 8)) % 8;
  const headBytes = encoder.encode(head + " ".repeat(pad) + "\n");
  const out = new Uint8Array(headBytes.length + payload.length);
  out.set(headBytes);
  out.set(payload, headBytes.length);
  return out;
}

function decode(bytes: Uint8Array): FundingColumns {
  const magic = encoder.encode(MAGIC);
  if (!magic.every((b, i) => bytes[i] === b)) throw new Error("not a funding cache file");
  const nl = bytes.indexOf(0x0a, magic.length);
  if (nl < 0) throw new Error("no header");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(magic.length, nl)));
  const rows = header?.rows;
  if (!Number.isSafeInteger(rows) || rows < 0 || rows > MAX_ROWS) throw new Error("bad row count");
  const payload = bytes.slice(nl + 1);
  if (payload.length !== rows * 8 * FUNDING_COLUMNS.length) {
    throw new Error(`expected ${rows} rows, found ${payload.length} bytes`);
  }
  if (crc32(payload) !== header.crc32) throw new Error("CRC-32 of the column data differs");
  const data = new Float64Array(payload.buffer);
  const c = allocateFundingColumns(rows);
  FUNDING_COLUMNS.forEach((name, j) => c[name].set(data.subarray(j * rows, (j + 1) * rows)));
  return c;
}
