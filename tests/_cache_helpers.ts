/**
 * Shared setup of the cache tests: keys, synthetic days and a throw-away cache directory.
 *
 * @module
 */
import { type CacheKey, KlineCache, type KlineCacheOptions } from "../src/cache/mod.ts";
import { allocateColumns, type KlineColumns } from "../src/columns.ts";

/** A spot BTCUSDT 1m key for `day`, with `over` replacing any part. */
export function key(day: string, over: Partial<CacheKey> = {}): CacheKey {
  return { marketType: "spot", symbol: "BTCUSDT", interval: "1m", day, ...over };
}

/** `n` synthetic rows of `interval` from the start of `day`, distinct per day. */
export function synthetic(day: string, n = 1440, stepMs = 60_000): KlineColumns {
  const c = allocateColumns(n);
  const t0 = Date.parse(day + "T00:00:00Z");
  for (let i = 0; i < n; i++) {
    c.openTime[i] = t0 + i * stepMs;
    c.closeTime[i] = t0 + (i + 1) * stepMs - 1;
    c.open[i] = 100 + i / 8 + t0 / 1e12;
    c.high[i] = c.open[i] + 0.5;
    c.low[i] = c.open[i] - 0.25;
    c.close[i] = c.open[i] + 0.125;
    c.volume[i] = i * 0.001;
    c.quoteVolume[i] = c.volume[i] * c.open[i];
    c.trades[i] = i % 97;
    c.takerBuyBaseVolume[i] = c.volume[i] / 3;
    c.takerBuyQuoteVolume[i] = c.quoteVolume[i] / 3;
  }
  return c;
}

/** Runs `fn` with a cache in a fresh temp dir, removed afterwards. */
export async function withCache(
  fn: (cache: KlineCache, dir: string) => Promise<void>,
  options: Omit<KlineCacheOptions, "dir"> = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vd-cache-test-" });
  try {
    await fn(new KlineCache({ dir, ...options }), dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
