// Bounds in the cache and at the command line: a directory or a multi-GB junk file where a
// day file belongs, rows no kline can hold in a day file (caught by verify), a far-past start
// with the cache on (clamped, bounded), and CLI times (-7d/now, Date range, impossible dates).
import { assert, assertEquals, assertInstanceOf, assertMatch, assertRejects } from "@std/assert";
import { dirname } from "@std/path";
import { startReplica } from "../testing/mod.ts";
import { CacheCorruptError, CacheDataError, InvalidRangeError } from "../src/errors.ts";
import { KlineCache } from "../src/cache/mod.ts";
import { encodeKlineFile } from "../src/cache/_ipc.ts";
import { allocateColumns } from "../src/columns.ts";
import { DataSource } from "../src/klines.ts";
import { MARKET_FIRST_DATA } from "../src/limits.ts";
import { parseFetchArgs } from "../src/cli/fetch.ts";
import { assertTruth, managerFor, requestsOf, tempCacheDir } from "./_manager_helpers.ts";
import { cli } from "./_cli_helpers.ts";

const NOW = "2024-04-10T00:00:00Z";
const KEY = { marketType: "spot", symbol: "BTCUSDT", interval: "1h", day: "2024-03-05" } as const;
const DAY = { symbol: "BTCUSDT", interval: "1h" as const, start: "2024-03-05", end: "2024-03-06" };

function dayColumns(): ReturnType<typeof allocateColumns> {
  const c = allocateColumns(24);
  for (let h = 0; h < 24; h++) {
    c.openTime[h] = Date.UTC(2024, 2, 5, h);
    c.closeTime[h] = c.openTime[h] + 3599_999;
    c.open[h] =
      c.high[h] =
      c.low[h] =
      c.close[h] =
        1;
  }
  return c;
}

Deno.test("cache: a directory where a day file belongs is reported by verify, and replaced by the next fetch", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  const cache = new KlineCache({ dir: dir.path });
  const path = cache.pathFor(KEY);
  await Deno.mkdir(`${path}/junk`, { recursive: true });
  const v = await cache.verify();
  assertEquals(v.checked, 1);
  assertInstanceOf(v.corrupt[0], CacheCorruptError);
  assertMatch(v.corrupt[0].message, /a directory where a day file should be/);
  assertEquals((await cache.info()).files, 0, "info does not list it as a day");
  await using manager = managerFor(replica, dir.path);
  const k = await manager.getData(DAY);
  assertTruth(replica, k, DAY);
  assertEquals(manager.getCacheStats(), { hits: 0, misses: 0, errors: 1, writes: 1 });
  assert((await Deno.stat(path)).isFile, "the day file replaced the directory");
  const again = await manager.getData(DAY);
  assertEquals(again.length, 24);
  assertEquals(manager.getCacheStats().hits, 1, "served from the cache, not refetched forever");
});

Deno.test("cache: a junk file over the day-file bound is corrupt without being read", async () => {
  await using dir = await tempCacheDir();
  const cache = new KlineCache({ dir: dir.path });
  const path = cache.pathFor({ ...KEY, interval: "1d" });
  await Deno.mkdir(dirname(path), { recursive: true });
  // Sparse: 3 GB apparent size, no disk used. Reading it whole would take 3 GB of memory.
  using f = await Deno.open(path, { write: true, create: true });
  await f.truncate(3_000_000_000);
  const e = await assertRejects(() => cache.read({ ...KEY, interval: "1d" }), CacheCorruptError);
  assertMatch(e.message, /3000000000 bytes, over the \d+-byte bound of a 1d day file/);
  await assertRejects(() => Deno.stat(path), Deno.errors.NotFound); // deleted as corrupt
});

Deno.test("cache: rows no kline can hold are refused on write and caught by verify", async () => {
  await using dir = await tempCacheDir();
  const cache = new KlineCache({ dir: dir.path });
  const bad = dayColumns();
  bad.high[5] = Infinity;
  const w = await assertRejects(() => cache.write(KEY, bad), CacheDataError);
  assertMatch(w.message, /row 5: .*corrupt high: Infinity is not a finite number >= 0/);
  // A file written around the check (an older version, another tool): verify catches it.
  const path = cache.pathFor(KEY);
  await Deno.mkdir(dirname(path), { recursive: true });
  const identity = {
    market: "spot",
    symbol: "BTCUSDT",
    interval: "1h",
    day: "2024-03-05",
  } as const;
  await Deno.writeFile(path, encodeKlineFile(identity, bad));
  const v = await cache.verify({ remove: true });
  assertEquals([v.checked, v.corrupt.length, v.removed], [1, 1, 1]);
  assertMatch(v.corrupt[0].message, /corrupt high: Infinity/);
  await assertRejects(() => Deno.stat(path), Deno.errors.NotFound);
});

Deno.test("manager: a start at year 1 with the cache on is clamped to the market's first data", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  const q = { symbol: "BTCUSDT", interval: "1d" as const, start: "0001-01-01", end: "2017-09-01" };
  const k = await manager.getData({ ...q, enforceSource: DataSource.VISION });
  assertEquals(k.openTime[0], MARKET_FIRST_DATA.spot);
  assertTruth(replica, k, { ...q, start: MARKET_FIRST_DATA.spot });
  // Cache lookups for the 15 days from 2017-08-17 only, not two thousand years of them.
  const s = manager.getCacheStats();
  assertEquals(s.hits + s.misses + s.errors, 15);
  assert(requestsOf(replica, "archive") <= 16);
});

Deno.test("CLI: --start -7d --end now, relative to --now", () => {
  const a = parseFetchArgs(["BTCUSDT", "--start", "-7d", "--end", "now", "--now", NOW])!;
  assertEquals(a.start, Date.parse(NOW) - 7 * 86_400_000);
  assertEquals(a.end, Date.parse(NOW));
  const b = parseFetchArgs(["BTCUSDT", "--start=-12h", "--now", NOW])!;
  assertEquals(b.start, Date.parse(NOW) - 12 * 3600_000);
});

Deno.test("CLI: times outside reality and COIN-M symbols without _PERP exit 2 with the value named", async () => {
  for (
    const [args, re] of [
      [["--start", "9999999999999999"], /9999999999999999.*outside the JS Date range/],
      [["--start", "2024-02-30"], /"2024-02-30".*no such calendar date/],
      [["--start", "1704067200"], /looks like epoch seconds/],
      [["--start", "2024-01-01", "--market", "cm", "--end", "2024-01-02"], /BTCUSDT_PERP/],
    ] as const
  ) {
    const { code, err } = await cli("fetch", "BTCUSDT", ...args);
    assertEquals(code, 2, err);
    assertMatch(err, re);
  }
});

Deno.test("manager: days back from now (no start), as fetchMarketData users know it", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  const k = await manager.getData({ symbol: "BTCUSDT", interval: "1h", days: 2 });
  const now = Date.parse(NOW);
  assertTruth(replica, k, { interval: "1h", start: now - 2 * 86_400_000, end: now });
  assertEquals(k.length, 48);
  const e = await assertRejects(
    () => manager.getData({ symbol: "BTCUSDT", interval: "1h", days: 2, start: "2024-01-01" }),
    InvalidRangeError,
  );
  assertMatch(e.message, /days 2 conflicts with start/);
});
