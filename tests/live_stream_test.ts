/**
 * KlineStream against the replica's WebSocket feed in fast-forward: exact closed sequences
 * across forced disconnects (drop, stall, serverShutdown, malformed frame), open updates,
 * backpressure, and disposal while connecting, in backoff and mid-repair.
 */
import { assert, assertEquals, assertGreater } from "@std/assert";
import { KLINE_COLUMNS } from "../src/columns.ts";
import { KlineStream, type KlineUpdate } from "../mod.ts";
import type { KlineStreamStatus } from "../src/live/mod.ts";
import { startReplica } from "../testing/mod.ts";

const NOW = "2024-03-01T00:00:00Z";
const MIN = 60_000;

/** Resolves with the first status `test` accepts (a status listener for `onStatus`). */
function statusWatch(): {
  onStatus: (s: KlineStreamStatus) => void;
  seen: KlineStreamStatus[];
  when: (test: (s: KlineStreamStatus) => boolean) => Promise<KlineStreamStatus>;
} {
  const seen: KlineStreamStatus[] = [];
  const waiters: {
    test: (s: KlineStreamStatus) => boolean;
    resolve: (s: KlineStreamStatus) => void;
  }[] = [];
  return {
    seen,
    onStatus: (s) => {
      seen.push(s);
      for (const w of [...waiters]) {
        if (w.test(s)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(s);
        }
      }
    },
    when: (test) => {
      const found = seen.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

/** The replica's truth as updates, for comparison. */
function truthUpdates(
  replica: Awaited<ReturnType<typeof startReplica>>,
  symbol: string,
  start: number,
  n: number,
): Record<string, number>[] {
  const c = replica.klines({
    marketType: "spot",
    symbol,
    interval: "1m",
    start,
    end: start + n * MIN,
  });
  const rows: Record<string, number>[] = [];
  for (let i = 0; i < c.openTime.length; i++) {
    const r: Record<string, number> = {};
    for (const k of KLINE_COLUMNS) r[k] = c[k][i];
    rows.push(r);
  }
  return rows;
}

function columnsOf(u: KlineUpdate): Record<string, number> {
  const r: Record<string, number> = {};
  for (const k of KLINE_COLUMNS) r[k] = u[k];
  return r;
}

Deno.test("3 forced disconnects over 200 candles: the closed sequence equals the truth", async () => {
  await using replica = await startReplica({
    now: NOW,
    live: {
      fastForward: true,
      faults: [
        { kind: "drop", afterMessages: 80 },
        { kind: "stall", afterMessages: 80 },
        { kind: "shutdown", afterMessages: 80 },
        { kind: "malformed", afterMessages: 20 },
      ],
    },
  });
  const status = statusWatch();
  const symbols = ["BTCUSDT", "ETHUSDT"];
  await using stream = new KlineStream({
    marketType: "spot",
    symbols,
    interval: "1m",
    wsUrl: replica.live.url,
    restUrl: replica.restUrl,
    silenceTimeoutMs: 300,
    reconnectMinMs: 5,
    reconnectMaxMs: 50,
    onStatus: status.onStatus,
  });
  const got = new Map<string, KlineUpdate[]>(symbols.map((s) => [s, []]));
  for await (const u of stream) {
    assert(u.closed, "closedOnly yields closed candles only");
    got.get(u.symbol)!.push(u);
    if ([...got.values()].every((l) => l.length >= 200)) break;
  }
  assertEquals(stream.state, "closed", "break disposed the stream");
  for (const s of symbols) {
    const list = got.get(s)!.slice(0, 200);
    const truth = truthUpdates(replica, s, list[0].openTime, 200);
    assertEquals(truth.length, 200);
    assertEquals(
      list.map(columnsOf),
      truth,
      `${s}: the closed sequence equals the replica's truth`,
    );
  }
  const st = stream.stats;
  const reasons = status.seen.filter((x) => x.state === "backoff").map((x) => x.reason ?? "");
  assert(reasons.some((r) => r.includes("closed by the server")), reasons.join("; "));
  assert(reasons.some((r) => r.startsWith("silent")), reasons.join("; "));
  assert(reasons.some((r) => r.includes("serverShutdown")), reasons.join("; "));
  assertGreater(st.reconnects, 2);
  assertGreater(st.repaired, 0, "missed candles came from REST");
  assertEquals(st.malformed, 1);
  assertEquals(st.disagreements, 0, "where REST and the socket overlapped, they agreed");
  assert(got.get("BTCUSDT")!.some((u) => u.source === "rest"));
  await replica.live.whenIdle();
  assertEquals(replica.live.connections(), 0, "the server saw every socket closed");
});

/** Disposes and returns the report; dispose must settle (resolve, or reject under strict mode). */
async function disposeAndReport(stream: KlineStream) {
  await stream[Symbol.asyncDispose]().catch(() => {});
  const report = stream.lastDisposeReport;
  assert(report, "dispose settled and left a report");
  return report;
}

Deno.test("dispose during reconnect backoff settles within budget and aborts the wait", async () => {
  await using replica = await startReplica({
    now: NOW,
    live: { fastForward: true, faults: [{ kind: "refuse", times: 1_000_000 }] },
  });
  const status = statusWatch();
  const stream = new KlineStream({
    marketType: "spot",
    symbols: "BTCUSDT",
    interval: "1m",
    wsUrl: replica.live.url,
    restUrl: replica.restUrl,
    reconnectMinMs: 60_000, // a backoff far longer than the budget
    disposeTimeoutMs: 1000,
    onStatus: status.onStatus,
  });
  const it = stream[Symbol.asyncIterator]();
  const pending = it.next();
  const backoff = await status.when((s) => s.state === "backoff");
  assertGreater(backoff.delayMs!, 1000);
  assert(backoff.reason?.includes("socket error") || backoff.reason?.includes("closed"));
  const report = await disposeAndReport(stream);
  assertEquals(report.timedOut, []);
  assertEquals(report.errors, []);
  assertEquals(await pending, { done: true, value: undefined }, "a waiting next() ends");
  assertEquals(status.seen.at(-1)?.state, "closed");
  assertEquals(stream.state, "closed");
});

Deno.test("dispose during REST repair settles within budget and aborts the request", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/api/v3/klines*", kind: "stallHeaders" }],
    live: { fastForward: true, faults: [{ kind: "drop", afterMessages: 6 }] },
  });
  const status = statusWatch();
  await using stream = new KlineStream({
    marketType: "spot",
    symbols: "BTCUSDT",
    interval: "1m",
    wsUrl: replica.live.url,
    restUrl: replica.restUrl,
    reconnectMinMs: 100, // long enough for a candle to close while away
    disposeTimeoutMs: 1000,
    onStatus: status.onStatus,
  });
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  assert(!first.done && first.value.closed);
  const pending = it.next(); // blocks: the repair stalls before anything newer is yielded
  await status.when((s) => s.state === "repairing");
  const stalled = await replica.waitFor((e) => e.route === "klines" && e.state === "stalled");
  const report = await disposeAndReport(stream);
  assertEquals(report.timedOut, []);
  assertEquals(report.errors, []);
  const done = await replica.waitFor((e) => e.id === stalled.id && e.state === "done");
  assert(done.aborted, "the stalled REST request was abandoned by the client");
  const rest = await pending;
  assert(rest.done || rest.value.openTime === first.value.openTime + MIN, "nothing skipped");
  await replica.live.whenIdle();
});

Deno.test("dispose while connecting (server never answers the upgrade) settles", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept(); // and never answered
  const status = statusWatch();
  const stream = new KlineStream({
    marketType: "spot",
    symbols: ["BTCUSDT", "ETHUSDT"],
    interval: "1m",
    wsUrl: `ws://127.0.0.1:${listener.addr.port}`,
    connectTimeoutMs: 60_000,
    disposeTimeoutMs: 500,
    onStatus: status.onStatus,
  });
  const pending = stream[Symbol.asyncIterator]().next();
  await status.when((s) => s.state === "connecting");
  using conn = await accepted;
  const report = await disposeAndReport(stream);
  assertEquals(report.timedOut, []);
  assertEquals(await pending, { done: true, value: undefined });
  // The client gave up its half: the server side reads the end of the stream.
  assertEquals(await conn.read(new Uint8Array(4096)).then((n) => n === null || n > 0), true);
});

Deno.test("closedOnly: false yields open-candle updates, each newer than the last close", async () => {
  await using replica = await startReplica({ now: NOW, live: { fastForward: true } });
  await using stream = new KlineStream({
    marketType: "spot",
    symbols: "ETHUSDT",
    interval: "1m",
    closedOnly: false,
    wsUrl: replica.live.url,
    restUrl: replica.restUrl,
  });
  const seen: KlineUpdate[] = [];
  for await (const u of stream) {
    seen.push(u);
    if (seen.filter((x) => x.closed).length === 20) break;
  }
  const open = seen.filter((u) => !u.closed);
  assertGreater(open.length, 0);
  let lastClosed: number | undefined;
  for (const u of seen) {
    if (u.closed) {
      if (lastClosed !== undefined) assertEquals(u.openTime, lastClosed + MIN);
      lastClosed = u.openTime;
    } else if (lastClosed !== undefined) {
      assertEquals(u.openTime, lastClosed + MIN, "the open candle follows the last closed one");
    }
  }
  assertEquals(stream.stats.updatesYielded, open.length);
});

Deno.test("a slow consumer: open updates dropped first, closed candles kept via pause + REST", async () => {
  await using replica = await startReplica({ now: NOW, live: { fastForward: true } });
  const status = statusWatch();
  await using stream = new KlineStream({
    marketType: "spot",
    symbols: ["BTCUSDT", "ETHUSDT"],
    interval: "1m",
    closedOnly: false,
    queueSize: 8,
    wsUrl: replica.live.url,
    restUrl: replica.restUrl,
    reconnectMinMs: 5,
    onStatus: status.onStatus,
  });
  const it = stream[Symbol.asyncIterator]();
  const seen: KlineUpdate[] = [(await it.next()).value];
  await status.when((s) => s.state === "paused"); // the consumer has not read: queue full
  assertGreater(stream.stats.updatesDropped, 0, "open updates went first");
  const closed = new Map<string, KlineUpdate[]>([["BTCUSDT", []], ["ETHUSDT", []]]);
  for (const u of seen) if (u.closed) closed.get(u.symbol)!.push(u);
  while ([...closed.values()].some((l) => l.length < 40)) {
    const r = await it.next();
    assert(!r.done);
    if (r.value.closed) closed.get(r.value.symbol)!.push(r.value);
  }
  for (const [symbol, list] of closed) {
    const truth = truthUpdates(replica, symbol, list[0].openTime, 40);
    assertEquals(list.slice(0, 40).map(columnsOf), truth, `${symbol}: no closed candle lost`);
  }
  const st = stream.stats;
  assertGreater(st.pauses, 0);
  assertGreater(st.repaired, 0, "candles that closed while paused came from REST");
  assert(st.queueHighWater <= 9, `queue bounded (high water ${st.queueHighWater})`);
  await it.return!();
  assertEquals(stream.state, "closed");
});

Deno.test("connection age limit and refused reconnects: the closed sequence is still exact", async () => {
  await using replica = await startReplica({
    now: NOW,
    live: {
      fastForward: true,
      faults: [{ kind: "drop", afterMessages: 30 }, { kind: "refuse", times: 3 }],
    },
  });
  const status = statusWatch();
  await using stream = new KlineStream({
    marketType: "spot",
    symbols: "BTCUSDT",
    interval: "1m",
    wsUrl: replica.live.url,
    restUrl: replica.restUrl,
    maxConnectionMs: 150, // stands in for Binance's 24-hour cut
    reconnectMinMs: 5,
    reconnectMaxMs: 40,
    onStatus: status.onStatus,
  });
  const got: KlineUpdate[] = [];
  for await (const u of stream) if (got.push(u) >= 120) break;
  assertEquals(got.map(columnsOf), truthUpdates(replica, "BTCUSDT", got[0].openTime, 120));
  const reasons = status.seen.filter((x) => x.state === "backoff").map((x) => x.reason ?? "");
  assert(reasons.some((r) => r.startsWith("connection age limit")), reasons.join("; "));
  assertGreater(replica.live.attempts, 4, "three refused attempts, then connected again");
  await replica.live.whenIdle();
});

Deno.test("USD-M futures: the replica's /um feed and /fapi REST, closed candles equal the truth", async () => {
  await using replica = await startReplica({ now: NOW, live: { fastForward: true } });
  await using stream = new KlineStream({
    marketType: "um",
    symbols: ["BTCUSDT"],
    interval: "1m",
    wsUrl: replica.live.urlFor("um"),
    restUrl: replica.restUrl,
  });
  const got: KlineUpdate[] = [];
  for await (const u of stream) if (got.push(u) >= 5) break;
  const c = replica.klines({
    marketType: "um",
    symbol: "BTCUSDT",
    interval: "1m",
    start: got[0].openTime,
    end: got[0].openTime + 5 * MIN,
  });
  assertEquals(got.map((u) => u.close), [...c.close]);
  assertEquals(got.map((u) => u.quoteVolume), [...c.quoteVolume]);
  await replica.live.whenIdle();
});

Deno.test("REST and the socket disagree on a candle: REST's value is kept and counted", async () => {
  await using replica = await startReplica({
    now: NOW,
    // One step per candle: every frame is a closed candle, so the first frame after the
    // reconnect is a closed candle that the repair also fetches from REST.
    live: {
      fastForward: true,
      updatesPerCandle: 1,
      faults: [{ kind: "drop", afterMessages: 5 }, { kind: "tamper", afterMessages: 0 }],
    },
  });
  await using stream = new KlineStream({
    marketType: "spot",
    symbols: "BTCUSDT",
    interval: "1m",
    wsUrl: replica.live.url,
    restUrl: replica.restUrl,
    reconnectMinMs: 50,
  });
  const got: KlineUpdate[] = [];
  for await (const u of stream) if (got.push(u) >= 30) break;
  assertEquals(got.map(columnsOf), truthUpdates(replica, "BTCUSDT", got[0].openTime, 30));
  assertEquals(stream.stats.disagreements, 1);
  await replica.live.whenIdle();
});
