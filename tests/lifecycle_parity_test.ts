// Lifecycle parity: the two clients and the manager expose the same state, disposeAsync(),
// lastDisposeReport, stats shape and progress event shape.
import { assert, assertEquals, assertGreater, assertStrictEquals } from "@std/assert";
import { startReplica } from "../testing/mod.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { RestDataClient } from "../src/rest/client.ts";
import { DataSource } from "../src/klines.ts";
import type { ClientStats, ProgressEvent } from "../src/client_stats.ts";
import type { Lifecycle } from "../src/resource/lifecycle.ts";
import { managerFor, tempCacheDir } from "./_manager_helpers.ts";

const NOW = "2024-03-01T12:00:00Z";
const DAY = { symbol: "BTCUSDT", interval: "1h" as const, start: "2024-02-10", end: "2024-02-11" };
const STATS_KEYS = [
  "archives",
  "bytes",
  "cache",
  "lastUsedWeight",
  "pages",
  "rateLimitWaitMs",
  "rateLimited",
  "requests",
  "weightWaitMs",
  "weightWaits",
];

async function assertLifecycle(subject: Lifecycle): Promise<void> {
  assertEquals(subject.state, "open");
  assertEquals(subject.lastDisposeReport, undefined);
  const a = subject.disposeAsync();
  assertEquals(subject.state, "closing");
  assertStrictEquals(subject[Symbol.asyncDispose](), a);
  await a;
  assertEquals(subject.state, "closed");
  assertEquals(subject.lastDisposeReport!.errors, []);
  assertEquals(subject.lastDisposeReport!.timedOut, []);
}

Deno.test("clients and manager: same stats shape, same progress event shape, same lifecycle", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  const vision = new VisionDataClient({
    marketType: "spot",
    baseUrl: replica.visionUrl,
    now: () => replica.now(),
  });
  const rest = new RestDataClient({
    marketType: "spot",
    baseUrl: replica.restUrl,
    now: () => replica.now(),
  });
  const manager = managerFor(replica, dir.path);
  const events: ProgressEvent[] = [];
  const onProgress = (p: ProgressEvent) => events.push(p);
  await vision.fetchKlines({ ...DAY, onProgress });
  await rest.fetchKlines({ ...DAY, onProgress });
  await manager.getData({ ...DAY, enforceSource: DataSource.VISION, onProgress });

  for (const e of events) assertEquals(Object.keys(e).sort(), ["bytes", "done", "source", "total"]);
  assertEquals([...new Set(events.map((e) => e.source))].sort(), ["cache", "rest", "vision"]);
  const restEvent = events.find((e) => e.source === "rest")!;
  assertGreater(restEvent.bytes, 0);
  assertEquals([restEvent.done, restEvent.total], [1, 1]);

  const all: [string, ClientStats][] = [
    ["vision", vision.stats],
    ["rest", rest.stats],
    ["manager", manager.stats],
  ];
  for (const [name, s] of all) assertEquals(Object.keys(s).sort(), STATS_KEYS, name);
  const [v, r, m] = all.map(([, s]) => s);
  // One archive (2 requests: zip + CHECKSUM) for the client; one REST page.
  assertEquals([v.archives, v.requests, v.pages], [1, 2, 0]);
  assertGreater(v.bytes, 0);
  assertEquals([r.pages, r.requests, r.archives], [1, 1, 0]);
  assertGreater(r.bytes, 0);
  // The manager sums its own Vision client and adds its cache counters.
  assertEquals([m.archives, m.requests, m.pages], [1, 2, 0]);
  assertEquals(m.cache, manager.getCacheStats());
  assert(m.cache.writes >= 1);
  assertEquals(v.cache, { hits: 0, misses: 0, errors: 0, writes: 0 });

  for (const subject of [vision, rest, manager]) await assertLifecycle(subject);
  // Counters outlive dispose.
  assertEquals([vision.stats, rest.stats, manager.stats], [v, r, m]);
});
