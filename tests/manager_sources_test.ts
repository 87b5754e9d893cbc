import { assertEquals, assertGreater, assertRejects } from "@std/assert";
import { InvalidRangeError, InvalidSymbolError, UnsupportedIntervalError } from "../src/errors.ts";
import { DataSource } from "../src/klines.ts";
import type { DataProgress } from "../src/manager/mod.ts";
import { DAY_MS } from "../src/time.ts";
import { startReplica } from "../testing/mod.ts";
import {
  assertTruth,
  managerFor,
  NOW,
  requestsOf,
  sourceCounts,
  sourcesBetween,
  tempCacheDir,
} from "./_manager_helpers.ts";

const H = 3_600_000;
const TODAY = Date.parse("2026-11-27T00:00:00Z");

Deno.test("AUTO over old, unpublished and today's days uses cache, Vision and REST", async () => {
  // Daily files appear 36 h after the day: 11-25 and 11-26 are not published at NOW.
  await using replica = await startReplica({
    now: NOW,
    publicationLagMs: { daily: 36 * H },
  });
  await using dir = await tempCacheDir();
  const start = TODAY - 5 * DAY_MS; // 2026-11-22
  {
    // Pre-warm the oldest day through Vision.
    await using warm = managerFor(replica, dir.path);
    const k = await warm.getData({
      symbol: "BTCUSDT",
      interval: "1m",
      start,
      end: start + DAY_MS,
      enforceSource: DataSource.VISION,
    });
    assertEquals(k.length, 1440);
    assertEquals(warm.getCacheStats().writes, 1);
  }
  replica.clearLog();

  await using manager = managerFor(replica, dir.path);
  const progress = new Set<string>();
  const k = await manager.getData({
    symbol: "btcusdt",
    interval: "1m",
    start,
    end: NOW,
    onProgress: (p: DataProgress) => progress.add(p.source),
  });
  assertTruth(replica, k, { interval: "1m", start, end: NOW });
  assertEquals(k.gaps, []);
  assertEquals(k.length, 5 * 1440 + 630);
  assertEquals(sourcesBetween(k, start, start + DAY_MS), ["cache"]);
  assertEquals(sourcesBetween(k, start + DAY_MS, start + 3 * DAY_MS), ["vision"]);
  assertEquals(sourcesBetween(k, start + 3 * DAY_MS, NOW), ["rest"]);
  assertEquals(sourceCounts(k), { cache: 1440, vision: 2 * 1440, rest: 2 * 1440 + 630 });
  assertEquals([...progress].sort(), ["cache", "rest", "vision"]);
  // Closed days 22..26 were looked up; the full ones fetched now were written (REST ones too).
  assertEquals(manager.getCacheStats(), { hits: 1, misses: 4, errors: 0, writes: 4 });
  // No download of the cached day; 404s for the unpublished ones.
  const archives = replica.requests.filter((r) => r.route === "archive");
  assertEquals(archives.some((r) => r.path.includes("2026-11-22")), false);
  assertEquals(archives.filter((r) => r.status === 404).length, 2);
});

Deno.test("enforceSource CACHE with an empty cache: everything is a gap, nothing is fetched", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  const start = TODAY - 3 * DAY_MS + 5 * H;
  const k = await manager.getData({
    symbol: "BTCUSDT",
    interval: "1h",
    start,
    end: NOW,
    enforceSource: DataSource.CACHE,
  });
  assertEquals(k.length, 0);
  assertEquals(k.gaps, [{ start, end: TODAY + 10 * H }]);
  assertEquals(manager.getCacheStats(), { hits: 0, misses: 3, errors: 0, writes: 0 });
  assertEquals(replica.requests.length, 0);
});

Deno.test("enforceSource VISION: unpublished days are gaps, REST is never asked", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path, { useCache: false });
  const start = TODAY - 2 * DAY_MS;
  const k = await manager.getData({
    symbol: "BTCUSDT",
    interval: "1h",
    start,
    end: NOW,
    enforceSource: DataSource.VISION,
  });
  // 11-25 and 11-26 are published (6 h lag); today is not.
  assertTruth(replica, k, { interval: "1h", start, end: TODAY });
  assertEquals(sourceCounts(k), { vision: 48 });
  assertEquals(k.gaps, [{ start: TODAY, end: TODAY + 10 * H }]);
  assertEquals(requestsOf(replica, "klines"), 0);
  assertEquals(manager.getCacheStats(), { hits: 0, misses: 0, errors: 0, writes: 0 });
});

Deno.test("enforceSource REST: every row from REST, equal to the truth", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path, { useCache: false });
  const start = TODAY - 2 * DAY_MS - 30 * 60_000;
  const k = await manager.getData({
    symbol: "BTCUSDT",
    interval: "1m",
    start,
    end: NOW,
    enforceSource: DataSource.REST,
  });
  assertTruth(replica, k, { interval: "1m", start, end: NOW });
  assertEquals(sourceCounts(k), { rest: k.length });
  assertEquals(requestsOf(replica, "archive"), 0);
});

Deno.test("AUTO fails over to REST for an archive that cannot be had", async () => {
  const day = "2026-11-20";
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: `*BTCUSDT-1h-${day}.zip.CHECKSUM`, kind: "badChecksum" }],
  });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  const start = Date.parse("2026-11-19T00:00:00Z");
  const end = Date.parse("2026-11-22T00:00:00Z");
  const k = await manager.getData({ symbol: "BTCUSDT", interval: "1h", start, end });
  assertTruth(replica, k, { interval: "1h", start, end });
  assertEquals(sourcesBetween(k, start + DAY_MS, start + 2 * DAY_MS), ["rest"]);
  assertEquals(sourceCounts(k), { vision: 48, rest: 24 });
  // The REST copy of the day is complete and closed: cached like the others.
  assertEquals(manager.getCacheStats().writes, 3);
});

Deno.test("includeOpenCandle returns the live candle last, flagged and never cached", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  const start = TODAY + 8 * H;
  const closed = await manager.getData({ symbol: "BTCUSDT", interval: "1h", start, end: NOW });
  assertEquals(closed.length, 2);
  assertEquals(closed.lastIsOpen, false);
  assertEquals(closed.gaps, []);
  const live = await manager.getData({
    symbol: "BTCUSDT",
    interval: "1h",
    start,
    end: NOW,
    includeOpenCandle: true,
  });
  assertEquals(live.length, 3);
  assertEquals(live.lastIsOpen, true);
  assertEquals(live.openTime[2], TODAY + 10 * H);
  assertEquals(sourceCounts(live), { rest: 3 });
  assertEquals(manager.getCacheStats().writes, 0);
});

Deno.test("bad symbol, interval or range fail up front with typed errors and no request", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  const ok = { symbol: "BTCUSDT", interval: "1m" as const, start: NOW - H, end: NOW };
  await assertRejects(() => manager.getData({ ...ok, symbol: "BTC-USDT" }), InvalidSymbolError);
  await assertRejects(
    () => manager.getData({ ...ok, interval: "2m" as "1m" }),
    UnsupportedIntervalError,
  );
  await assertRejects(
    () => manager.getData({ ...ok, start: NOW, end: NOW - H }),
    InvalidRangeError,
  );
  await assertRejects(
    () => manager.getData({ ...ok, start: NOW + H, end: NOW + 2 * H }),
    InvalidRangeError,
  );
  await assertRejects(() => manager.getData({ ...ok, start: "yesterday" }), InvalidRangeError);
  assertEquals(replica.requests.length, 0);

  // 1s exists on spot only; with a source enforced, that source's own list applies.
  await using futures = managerFor(replica, dir.path, { marketType: "um" });
  const e = await assertRejects(
    () => futures.getData({ ...ok, interval: "1s" }),
    UnsupportedIntervalError,
  );
  assertGreater(e.allowed.length, 0);
  await assertRejects(
    () => futures.getData({ ...ok, interval: "1s", enforceSource: DataSource.VISION }),
    UnsupportedIntervalError,
  );
});

Deno.test("1w klines: monthly archives, then REST for this month; never cached", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  const start = Date.parse("2026-01-01T00:00:00Z");
  const k = await manager.getData({ symbol: "BTCUSDT", interval: "1w", start, end: NOW });
  assertTruth(replica, k, { interval: "1w", start, end: NOW });
  // Mondays from 01-05 to 11-16; the week of 11-23 is still open.
  assertEquals(k.openTime[0], Date.parse("2026-01-05T00:00:00Z"));
  assertEquals(k.openTime.at(-1), Date.parse("2026-11-16T00:00:00Z"));
  assertEquals(k.gaps, []);
  // This month is not archived yet: REST. (The replica leaves a week that ends after its
  // month out of that month's file; such weeks are Vision gaps that REST fills too.)
  assertEquals(sourcesBetween(k, Date.parse("2026-11-01T00:00:00Z"), NOW), ["rest"]);
  assertGreater(sourceCounts(k).vision, 30);
  assertEquals(manager.getCacheStats(), { hits: 0, misses: 0, errors: 0, writes: 0 });
});

Deno.test("useCache: false neither reads nor writes the cache", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path, { useCache: false });
  const start = TODAY - 3 * DAY_MS;
  const k = await manager.getData({ symbol: "BTCUSDT", interval: "1h", start, end: TODAY });
  assertTruth(replica, k, { interval: "1h", start, end: TODAY });
  assertEquals(manager.getCacheStats(), { hits: 0, misses: 0, errors: 0, writes: 0 });
  assertEquals([...Deno.readDirSync(dir.path)], []);
});
