/**
 * `stream()`: chunks in time order with exact boundaries, a bounded number fetched ahead of
 * a slow consumer, `break` cancelling the requests in flight, dispose ending the loop.
 */
import { assert, assertEquals, assertLessOrEqual, assertRejects } from "@std/assert";
import { ClientClosedError } from "../src/errors.ts";
import { DataSource, type Klines, mergeRanges } from "../src/klines.ts";
import { RestDataClient } from "../src/rest/client.ts";
import { streamSpans } from "../src/stream.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { startReplica } from "../testing/mod.ts";
import { assertColumnsEqual } from "./_helpers.ts";
import { assertTruth, managerFor, NOW, requestsOf, tempCacheDir } from "./_manager_helpers.ts";

const START = Date.parse("2025-01-15T00:00:00Z");
const END = Date.parse("2025-04-10T00:00:00Z");
const MONTHS = [
  [START, Date.parse("2025-02-01T00:00:00Z")],
  [Date.parse("2025-02-01T00:00:00Z"), Date.parse("2025-03-01T00:00:00Z")],
  [Date.parse("2025-03-01T00:00:00Z"), Date.parse("2025-04-01T00:00:00Z")],
  [Date.parse("2025-04-01T00:00:00Z"), END],
];

function assertChunkInSpan(k: Klines, [start, end]: number[], label: string): void {
  assert(k.length > 0, `${label}: rows`);
  assertEquals(k.openTime[0], start, `${label}: first row opens at the span start`);
  assertEquals(k.openTime[k.length - 1], end - 3_600_000, `${label}: last row is the span's last`);
}

Deno.test("manager.stream: chunks in time order, boundaries exact, totals; getData = collect", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  const q = { symbol: "BTCUSDT", interval: "1h" as const, start: START, end: END };
  assertEquals(streamSpans({ start: START, end: END }, "1h").map((s) => [s.start, s.end]), MONTHS);
  const s = manager.stream(q);
  const chunks: Klines[] = [];
  for await (const k of s) chunks.push(k);
  assertEquals(chunks.length, 4);
  chunks.forEach((k, i) => assertChunkInSpan(k, MONTHS[i], `chunk ${i}`));
  assertEquals(s.rows, chunks.reduce((n, k) => n + k.length, 0));
  assertEquals(s.gaps, mergeRanges(chunks.flatMap((k) => k.gaps)));
  assertEquals(s.sourceRows.vision, s.rows);
  const all = chunks[0].concat(...chunks.slice(1));
  assertTruth(replica, all, q);
  // Warm now: getData reads the same rows, as cache chunks, with the same values.
  const warm = await manager.getData(q);
  assertColumnsEqual(warm.columns, all.columns);
  assert(warm.chunks.length > 4, "one chunk per cached day");
  assertEquals(manager.getCacheStats().hits, (END - START) / 86_400_000);
});

Deno.test("stream backpressure: a slow consumer never has more than `ahead` chunks fetched ahead", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path, { useCache: false });
  const ahead = 1;
  const s = manager.stream({
    symbol: "BTCUSDT",
    interval: "1d",
    start: "2025-01-01",
    end: "2025-07-01",
    enforceSource: DataSource.VISION,
    ahead,
  });
  const months = s.chunkCount;
  assertEquals(months, 6);
  let consumed = 0;
  for await (const k of s) {
    consumed++;
    assert(k.length >= 28);
    assertLessOrEqual(s.pending, ahead);
    // Slow consumer: wait until the chunks ahead are fetched, then check no more started.
    const expected = Math.min(months, consumed + ahead);
    await replica.waitFor(() =>
      replica.requests.filter((e) => e.route === "archive" && e.state === "done").length >=
        expected
    );
    assertEquals(requestsOf(replica, "archive"), expected, `after chunk ${consumed}`);
  }
  assertEquals(consumed, months);
});

Deno.test("stream: break cancels the request in flight (the replica sees it aborted)", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/data/spot/monthly/klines/BTCUSDT/1h/*2025-02.zip", kind: "stallBody" }],
  });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path, { useCache: false });
  let seen = 0;
  for await (
    const k of manager.stream({
      symbol: "BTCUSDT",
      interval: "1h",
      start: START,
      end: END,
      ahead: 1,
    })
  ) {
    seen += k.length;
    await replica.waitFor((e) => e.path.endsWith("2025-02.zip") && e.state === "stalled");
    break;
  }
  assertEquals(seen, 17 * 24);
  // The client cut the stalled download (the server notices when the connection goes).
  const entry = await replica.waitFor((e) => e.path.endsWith("2025-02.zip") && e.aborted);
  assert(entry.aborted);
  assertEquals(
    replica.requests.filter((e) => /2025-0[34]/.test(e.path)).length,
    0,
    "nothing started after the break",
  );
});

Deno.test("stream: disposing the manager during iteration ends the loop with ClientClosedError", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/data/spot/monthly/klines/BTCUSDT/1h/*2025-02.zip", kind: "stallBody" }],
  });
  await using dir = await tempCacheDir();
  const manager = managerFor(replica, dir.path, { useCache: false, disposeTimeoutMs: 1000 });
  let chunks = 0;
  await assertRejects(async () => {
    for await (
      const _ of manager.stream({ symbol: "BTCUSDT", interval: "1h", start: START, end: END })
    ) {
      chunks++;
      await replica.waitFor((e) => e.path.endsWith("2025-02.zip") && e.state === "stalled");
      await manager[Symbol.asyncDispose]().catch(() => {});
    }
  }, ClientClosedError);
  assertEquals(chunks, 1);
  await replica.waitFor((e) => e.path.endsWith("2025-02.zip") && e.aborted);
});

Deno.test("VisionDataClient.stream and RestDataClient.stream: same rows as fetchKlines, in chunks", async () => {
  await using replica = await startReplica({ now: NOW });
  const q = { symbol: "BTCUSDT", interval: "1h" as const, start: START, end: END };
  {
    await using vision = new VisionDataClient({
      marketType: "spot",
      baseUrl: replica.visionUrl,
      now: () => replica.now(),
    });
    const chunks: Klines[] = [];
    for await (const k of vision.stream(q)) chunks.push(k);
    chunks.forEach((k, i) => assertChunkInSpan(k, MONTHS[i], `vision chunk ${i}`));
    assertColumnsEqual(
      chunks[0].concat(...chunks.slice(1)).columns,
      (await vision.fetchKlines(q)).columns,
    );
  }
  {
    await using rest = new RestDataClient({
      marketType: "spot",
      baseUrl: replica.restUrl,
      now: () => replica.now(),
    });
    const rq = {
      ...q,
      start: Date.parse("2026-10-20T00:00:00Z"),
      end: Date.parse("2026-11-03T00:00:00Z"),
    };
    const s = rest.stream(rq);
    const chunks: Klines[] = [];
    for await (const k of s) chunks.push(k);
    assertEquals(chunks.length, 2);
    assertEquals(chunks[1].openTime[0], Date.parse("2026-11-01T00:00:00Z"));
    assertTruth(replica, chunks[0].concat(chunks[1]), rq);
    assertEquals(s.sourceRows.rest, s.rows);
  }
});
