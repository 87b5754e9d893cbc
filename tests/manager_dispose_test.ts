import {
  assertEquals,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import { ClientClosedError, InvalidSymbolError } from "../src/errors.ts";
import { DisposeError } from "../src/resource/mod.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { DataSource } from "../src/klines.ts";
import { fetchMarketData } from "../src/manager/mod.ts";
import { DAY_MS } from "../src/time.ts";
import { startReplica } from "../testing/mod.ts";
import { assertTruth, managerFor, NOW, sourceCounts, tempCacheDir } from "./_manager_helpers.ts";

const H = 3_600_000;
const TODAY = Date.parse("2026-11-27T00:00:00Z");
const BUDGET = 1000;

Deno.test("dispose mid-fetch (Vision and REST both stalled) settles within budget + 250 ms", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [
      { match: "/data/*.zip", kind: "stallBody", afterBytes: 64 },
      { match: "/api/v3/klines", kind: "stallHeaders" },
    ],
  });
  await using dir = await tempCacheDir();
  const manager = managerFor(replica, dir.path, { disposeTimeoutMs: BUDGET });
  // Rejection handled from the start: a failure while we wait must fail the test, not crash it.
  const pending = assertRejects(
    () =>
      manager.getData({ symbol: "BTCUSDT", interval: "1m", start: TODAY - 2 * DAY_MS, end: NOW }),
    ClientClosedError,
  );
  // Wait for the event, not for time: both sources are now stuck mid-request.
  await Promise.all([
    replica.waitFor((e) => e.route === "archive" && e.state === "stalled"),
    replica.waitFor((e) => e.path === "/api/v3/klines"),
  ]);
  const t0 = performance.now();
  await manager[Symbol.asyncDispose]();
  const elapsed = performance.now() - t0;
  assertLessOrEqual(elapsed, BUDGET + 250);
  await pending;
  // Calls after dispose are refused without a request.
  const before = replica.requests.length;
  await assertRejects(
    () => manager.getData({ symbol: "BTCUSDT", interval: "1m", start: NOW - H, end: NOW }),
    ClientClosedError,
  );
  assertEquals(replica.requests.length, before);
  // The stalled requests were cut by the client, not left hanging on the server.
  await replica.waitFor((e) => e.route === "archive" && e.aborted);
  await replica.waitFor((e) => e.path === "/api/v3/klines" && e.aborted);
});

Deno.test("a client whose dispose never settles cannot hold the manager past its budget", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  // The client releases everything, then "hangs": its dispose promise never settles.
  const original = VisionDataClient.prototype[Symbol.asyncDispose];
  VisionDataClient.prototype[Symbol.asyncDispose] = function (this: VisionDataClient) {
    return original.call(this).then(() => new Promise<void>(() => {}));
  };
  try {
    const manager = managerFor(replica, dir.path, { disposeTimeoutMs: BUDGET });
    const q = { symbol: "BTCUSDT", interval: "1h" as const, start: TODAY - 3 * DAY_MS, end: TODAY };
    assertTruth(replica, await manager.getData({ ...q, enforceSource: DataSource.VISION }), q);
    const t0 = performance.now();
    await manager[Symbol.asyncDispose](); // resolves: the overrun is reported, not raised
    assertLessOrEqual(performance.now() - t0, BUDGET + 250);
    assertEquals(manager.state, "closed");
    assertEquals(manager.lastDisposeReport!.timedOut, ["VisionDataClient"]);
  } finally {
    VisionDataClient.prototype[Symbol.asyncDispose] = original;
  }
});

/** Makes every VisionDataClient's dispose release everything, then fail; returns the undo. */
function failingVisionClose(boom: Error): () => void {
  const original = VisionDataClient.prototype[Symbol.asyncDispose];
  VisionDataClient.prototype[Symbol.asyncDispose] = function (this: VisionDataClient) {
    return original.call(this).then(() => {
      throw boom;
    });
  };
  return () => void (VisionDataClient.prototype[Symbol.asyncDispose] = original);
}

Deno.test("fetchMarketData keeps its good result when cleanup fails; the manager reports the failure", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  const boom = new Error("session close failed");
  const undo = failingVisionClose(boom);
  try {
    const q = { symbol: "BTCUSDT", interval: "1h" as const, start: TODAY - 3 * DAY_MS, end: TODAY };
    const k = await fetchMarketData({
      marketType: "spot",
      cacheDir: dir.path,
      visionUrl: replica.visionUrl,
      restUrl: replica.restUrl,
      now: () => replica.now(),
      enforceSource: DataSource.VISION,
      ...q,
    });
    assertTruth(replica, k, q);

    const manager = managerFor(replica, dir.path, { useCache: false });
    await manager.getData({ ...q, enforceSource: DataSource.VISION });
    await manager.disposeAsync();
    const report = manager.lastDisposeReport!;
    assertEquals(report.failed, ["VisionDataClient"]);
    assertStrictEquals(report.errors[0], boom);
  } finally {
    undo();
  }
});

Deno.test("manager: a throwing body reaches the caller unwrapped; strictDispose opts in to DisposeError", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  const boom = new Error("session close failed");
  const undo = failingVisionClose(boom);
  try {
    const q = { symbol: "BTCUSDT", interval: "1h" as const, start: TODAY - 3 * DAY_MS, end: TODAY };
    let caught: unknown;
    try {
      await using manager = managerFor(replica, dir.path, { useCache: false });
      await manager.getData({ ...q, enforceSource: DataSource.VISION });
      await manager.getData({ ...q, symbol: "not a symbol" });
    } catch (e) {
      caught = e;
    }
    assertInstanceOf(caught, InvalidSymbolError);

    const strict = managerFor(replica, dir.path, { useCache: false, strictDispose: true });
    await strict.getData({ ...q, enforceSource: DataSource.VISION });
    const err = await assertRejects(() => strict.disposeAsync(), DisposeError);
    assertEquals(err.failed, ["VisionDataClient"]);
    assertStrictEquals(err.errors[0], boom);
    assertEquals(strict.state, "closed");
  } finally {
    undo();
  }
});

Deno.test("disposing an idle manager is quick and shares one promise", async () => {
  await using dir = await tempCacheDir();
  await using replica = await startReplica({ now: NOW });
  const manager = managerFor(replica, dir.path, { disposeTimeoutMs: BUDGET });
  const a = manager[Symbol.asyncDispose]();
  assertStrictEquals(manager.disposeAsync(), a);
  await a;
  await assertRejects(
    () => manager.getData({ symbol: "BTCUSDT", interval: "1m", start: NOW - H, end: NOW }),
    ClientClosedError,
  );
  assertEquals(replica.requests.length, 0);
});

Deno.test("a per-call signal aborts that call only; the manager stays usable", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/data/*.zip", kind: "stallBody", times: 1 }],
  });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, dir.path);
  const q = { symbol: "BTCUSDT", interval: "1h" as const, start: TODAY - 3 * DAY_MS, end: TODAY };
  const controller = new AbortController();
  const pending = assertRejects(() =>
    manager.getData({ ...q, enforceSource: DataSource.VISION, signal: controller.signal })
  );
  await replica.waitFor((e) => e.route === "archive" && e.state === "stalled");
  const reason = new Error("user cancelled");
  controller.abort(reason);
  assertStrictEquals(await pending, reason);
  const k = await manager.getData(q);
  assertTruth(replica, k, q);
});

Deno.test("the lifetime signal aborts calls in flight; dispose still releases everything", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/api/v3/klines", kind: "stallHeaders" }],
  });
  await using dir = await tempCacheDir();
  const lifetime = new AbortController();
  await using manager = managerFor(replica, dir.path, { signal: lifetime.signal });
  const pending = assertRejects(() =>
    manager.getData({ symbol: "BTCUSDT", interval: "1m", start: NOW - H, end: NOW })
  );
  await replica.waitFor((e) => e.path === "/api/v3/klines");
  const reason = new Error("shutting down");
  lifetime.abort(reason);
  assertStrictEquals(await pending, reason);
});

Deno.test("fetchMarketData opens, fetches and disposes in one call", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  const q = { symbol: "ETHUSDT", interval: "15m" as const, start: TODAY - 2 * DAY_MS, end: NOW };
  const k = await fetchMarketData({
    marketType: "spot",
    cacheDir: dir.path,
    visionUrl: replica.visionUrl,
    restUrl: replica.restUrl,
    now: () => replica.now(),
    ...q,
  });
  assertTruth(replica, k, q);
  assertEquals(sourceCounts(k), { vision: 2 * 96, rest: 42 });
  assertEquals(replica.openConnections(), 0);
});
