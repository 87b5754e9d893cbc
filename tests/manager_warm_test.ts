/**
 * getData's warm pass: a range the cache holds is read in one pass and equals what the
 * stream collects; a partly cached range reads each cached day once and fetches the rest.
 */
import { assertEquals } from "@std/assert";
import { DataSource, type Klines } from "../src/klines.ts";
import type { DataProgress } from "../src/manager/mod.ts";
import { DAY_MS } from "../src/time.ts";
import { startReplica } from "../testing/mod.ts";
import { assertColumnsEqual } from "./_helpers.ts";
import {
  assertTruth,
  managerFor,
  requestsOf,
  sourceCounts,
  tempCacheDir,
} from "./_manager_helpers.ts";

const H = 3_600_000;
/** Spot BTCUSDT lists at 2017-08-17T04:00Z: a listing day, then whole days. */
const LISTING = Date.parse("2017-08-17T00:00:00Z");

function assertSameKlines(a: Klines, b: Klines): void {
  assertColumnsEqual(a.columns, b.columns);
  assertEquals(a.gaps, b.gaps);
  assertEquals([...(a.sources ?? [])], [...(b.sources ?? [])]);
  assertEquals(a.lastIsOpen, b.lastIsOpen);
}

Deno.test("warm getData equals the stream's collection: listing day, cut days, month edges", async () => {
  await using replica = await startReplica();
  await using dir = await tempCacheDir();
  const whole = {
    symbol: "BTCUSDT",
    interval: "1h" as const,
    start: LISTING,
    end: LISTING + 40 * DAY_MS,
  };
  {
    await using manager = managerFor(replica, dir.path);
    await manager.getData(whole);
  }
  replica.clearLog();
  // Starts on the listing day, ends mid-day, crosses a month edge: every day is cached.
  const q = { ...whole, start: LISTING, end: LISTING + 30 * DAY_MS + 7 * H };
  await using manager = managerFor(replica, dir.path);
  const events: DataProgress[] = [];
  const warm = await manager.getData({ ...q, onProgress: (p) => events.push(p) });
  assertEquals(replica.requests.length, 0);
  assertEquals(manager.getCacheStats(), { hits: 31, misses: 0, errors: 0, writes: 0 });
  assertEquals(events.at(-1), { source: "cache", done: 31, total: 31, bytes: 0 });
  assertTruth(replica, warm, q);
  assertEquals(sourceCounts(warm), { cache: warm.length });
  assertEquals(warm.gaps, [{ start: q.start, end: LISTING + 4 * H }]);
  assertEquals(warm.chunks.length, 31);
  const streamed = await manager.stream({ ...q, enforceSource: DataSource.CACHE }).collect();
  assertSameKlines(warm, streamed);
});

Deno.test("partly warm getData reads each cached day once and fetches only the rest", async () => {
  await using replica = await startReplica();
  await using dir = await tempCacheDir();
  const start = Date.parse("2024-01-10T00:00:00Z");
  const q = { symbol: "BTCUSDT", interval: "1h" as const, start, end: start + 40 * DAY_MS };
  {
    await using manager = managerFor(replica, dir.path);
    await manager.getData({ ...q, start: start + 10 * DAY_MS, end: start + 20 * DAY_MS });
  }
  replica.clearLog();
  await using manager = managerFor(replica, dir.path);
  const events: DataProgress[] = [];
  const k = await manager.getData({ ...q, onProgress: (p) => events.push(p) });
  assertTruth(replica, k, q);
  assertEquals(k.gaps, []);
  assertEquals(sourceCounts(k), { cache: 10 * 24, vision: 30 * 24 });
  assertEquals(manager.getCacheStats(), { hits: 10, misses: 30, errors: 0, writes: 30 });
  const cache = events.filter((e) => e.source === "cache").at(-1);
  assertEquals(cache, { source: "cache", done: 40, total: 40, bytes: 0 });
  // Only the days the cache lacked were fetched: no archive of a cached day was asked for.
  const archives = replica.requests.filter((r) => r.route === "archive").map((r) => r.path);
  assertEquals(archives.filter((p) => /2024-01-(2\d)\.zip$/.test(p)), []);
  assertEquals(requestsOf(replica, "klines"), 0);
});
