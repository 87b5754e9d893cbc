import { assertEquals, assertRejects } from "@std/assert";
import { dirname } from "@std/path";
import { type CacheKey, KlineCache } from "../src/cache/mod.ts";
import { DataSource } from "../src/klines.ts";
import { DAY_MS } from "../src/time.ts";
import { startReplica } from "../testing/mod.ts";
import {
  assertTruth,
  managerFor,
  NOW,
  requestsOf,
  sourceCounts,
  tempCacheDir,
} from "./_manager_helpers.ts";

const H = 3_600_000;
const OLD_DAY = Date.parse("2026-09-10T00:00:00Z");
const KEY: CacheKey = { marketType: "spot", symbol: "BTCUSDT", interval: "1m", day: "2026-09-10" };
/** One hour of 1m klines, 78 days back: archived long ago. */
const HOUR = {
  symbol: "BTCUSDT",
  interval: "1m" as const,
  start: OLD_DAY + 9 * H,
  end: OLD_DAY + 10 * H,
};

Deno.test("the second call is a cache hit: no archive download, no REST request", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  {
    await using manager = managerFor(replica, dir.path);
    const k = await manager.getData(HOUR);
    assertTruth(replica, k, HOUR);
    assertEquals(sourceCounts(k), { vision: 60 });
    // The whole day was fetched from the archive anyway, so the whole day is cached.
    assertEquals(manager.getCacheStats(), { hits: 0, misses: 1, errors: 0, writes: 1 });
    assertEquals(requestsOf(replica, "archive"), 1);
  }
  replica.clearLog();
  await using manager = managerFor(replica, dir.path);
  for (const q of [HOUR, { ...HOUR, start: OLD_DAY, end: OLD_DAY + DAY_MS }]) {
    const k = await manager.getData(q);
    assertTruth(replica, k, q);
    assertEquals(sourceCounts(k), { cache: k.length });
  }
  assertEquals(manager.getCacheStats(), { hits: 2, misses: 0, errors: 0, writes: 0 });
  assertEquals(replica.requests.length, 0);
});

Deno.test("a corrupt cache file is counted, deleted, fetched again and rewritten", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  await manager.getData(HOUR);
  const path = new KlineCache({ dir: dir.path }).pathFor(KEY);
  const bytes = await Deno.readFile(path);
  for (const at of [bytes.length >> 1, (bytes.length >> 1) + 1]) bytes[at] ^= 0xff;
  await Deno.writeFile(path, bytes);
  replica.clearLog();

  const k = await manager.getData(HOUR);
  assertTruth(replica, k, HOUR);
  assertEquals(sourceCounts(k), { vision: 60 });
  assertEquals(manager.getCacheStats(), { hits: 0, misses: 1, errors: 1, writes: 2 });
  assertEquals(requestsOf(replica, "archive"), 1);
  // The rewritten file is sound: the next call is a hit.
  const again = await manager.getData(HOUR);
  assertTruth(replica, again, HOUR);
  assertEquals(manager.getCacheStats().hits, 1);
});

Deno.test("a write killed half-way leaves no visible partial file", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  const cache = new KlineCache({ dir: dir.path });
  const day = replica.klines({ ...KEY, start: OLD_DAY, end: OLD_DAY + DAY_MS });
  // Abort once the first chunk reached the temp file: the writer "dies" mid-write.
  const controller = new AbortController();
  await assertRejects(() =>
    cache.write(KEY, day, {
      signal: controller.signal,
      onProgress: () => controller.abort(new Error("killed")),
    })
  );
  const path = cache.pathFor(KEY);
  assertEquals([...Deno.readDirSync(dirname(path))].map((e) => e.name), []);
  // A crashed process cannot clean up: its temp file stays. Readers never see it.
  await Deno.writeFile(`${path}.tmp-99999-crashed`, new Uint8Array(1000));
  assertEquals(await cache.read(KEY), null);

  await using manager = managerFor(replica, dir.path);
  const k = await manager.getData(HOUR);
  assertTruth(replica, k, HOUR);
  assertEquals(manager.getCacheStats(), { hits: 0, misses: 1, errors: 0, writes: 1 });
  assertEquals((await cache.read(KEY))?.openTime.length, 1440);
});

Deno.test("partial days, today and REST's open candle are never cached", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  // REST is not widened to whole days: an hour of an old day stays an hour, not cached.
  const partial = await manager.getData({ ...HOUR, enforceSource: DataSource.REST });
  assertTruth(replica, partial, HOUR);
  const today = Date.parse("2026-11-27T00:00:00Z");
  // At 10:30 the 10:00 hour is still open.
  const live = await manager.getData({
    symbol: "BTCUSDT",
    interval: "1h",
    start: today - DAY_MS,
    end: NOW,
    includeOpenCandle: true,
    enforceSource: DataSource.REST,
  });
  assertEquals(live.lastIsOpen, true);
  assertEquals(live.length, 24 + 11);
  // Yesterday's 1h day is complete and closed: that one, and only that one, is cached.
  assertEquals(manager.getCacheStats(), { hits: 0, misses: 2, errors: 0, writes: 1 });
  const cached = await new KlineCache({ dir: dir.path }).list();
  assertEquals(cached.map((e) => [e.key.interval, e.key.day, e.rows]), [["1h", "2026-11-26", 24]]);
});

Deno.test("a cached full day is never overwritten by a later partial fetch", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  await manager.getData({ ...HOUR, start: OLD_DAY, end: OLD_DAY + DAY_MS });
  const path = new KlineCache({ dir: dir.path }).pathFor(KEY);
  const before = await Deno.readFile(path);
  for (const source of [DataSource.AUTO, DataSource.REST, DataSource.VISION]) {
    const k = await manager.getData({ ...HOUR, enforceSource: source });
    assertEquals(sourceCounts(k), { cache: 60 });
  }
  assertEquals(await Deno.readFile(path), before);
  assertEquals(manager.getCacheStats(), { hits: 3, misses: 1, errors: 0, writes: 1 });
});

Deno.test("a listing day served by the archive is cached with the rows it has", async () => {
  // Spot BTCUSDT lists at 2017-08-17T04:00Z: the archive day starts at 04:00.
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  const start = Date.parse("2017-08-17T00:00:00Z");
  const q = { symbol: "BTCUSDT", interval: "1h" as const, start, end: start + 2 * DAY_MS };
  {
    await using manager = managerFor(replica, dir.path);
    const k = await manager.getData(q);
    assertTruth(replica, k, q);
    assertEquals(k.length, 20 + 24);
    assertEquals(k.gaps, [{ start, end: start + 4 * H }]);
    assertEquals(manager.getCacheStats().writes, 2);
  }
  replica.clearLog();
  await using manager = managerFor(replica, dir.path);
  const k = await manager.getData(q);
  assertTruth(replica, k, q);
  assertEquals(k.gaps, [{ start, end: start + 4 * H }]);
  assertEquals(manager.getCacheStats(), { hits: 2, misses: 0, errors: 0, writes: 0 });
  assertEquals(replica.requests.length, 0);
});
