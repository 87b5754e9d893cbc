// RestDataClient under pressure: weight pacing (no 429 ever), 429 → wait Retry-After, 418 →
// IpBannedError and silence, stalls / resets / 5xx bursts → retried or typed, never a hang;
// dispose mid-pagination settles within budget + 250 ms and leaves nothing open.
import {
  assert,
  assertEquals,
  assertGreater,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
} from "@std/assert";
import { type Replica, startReplica } from "../testing/mod.ts";
import { RestDataClient, type RestDataClientOptions } from "../src/rest/mod.ts";
import {
  ClientClosedError,
  HttpStatusError,
  IpBannedError,
  NetworkError,
  RequestTimeoutError,
} from "../src/errors.ts";
import type { Klines } from "../src/klines.ts";
import type { MarketType } from "../src/market.ts";
import { assertColumnsEqual } from "./_helpers.ts";

const NOW = Date.UTC(2024, 2, 1, 12, 30, 30);
const START = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const FAST_RETRY = { retryMinTimeoutMs: 5, retryMaxTimeoutMs: 20 };

function client(replica: Replica, market: MarketType, extra: Partial<RestDataClientOptions> = {}) {
  return new RestDataClient({
    marketType: market,
    baseUrl: replica.restUrl,
    now: () => replica.now(),
    ...FAST_RETRY,
    ...extra,
  });
}

/** `pages` spot pages of 1000 one-minute candles from START. */
const spotPages = (pages: number) => ({
  symbol: "BTCUSDT",
  interval: "1m" as const,
  start: START,
  end: START + pages * 1000 * MIN,
});

function assertTruth(replica: Replica, k: Klines, q: ReturnType<typeof spotPages>): void {
  const truth = replica.klines({ marketType: "spot", ...q });
  assertColumnsEqual(k, truth);
  assertEquals(k.gaps, []);
}

// By path: a request still held by a latency fault is not classified (route) yet.
const klinesLog = (replica: Replica) => replica.requests.filter((e) => e.path.endsWith("/klines"));
const statuses = (replica: Replica) => klinesLog(replica).map((e) => e.status);

Deno.test("weight pacing: a fetch over 3 budget windows completes without a single 429", async () => {
  // 60 weight per 1 s window; spot pages weigh 2 → at 90 % about 27 pages a window.
  await using replica = await startReplica({
    now: NOW,
    weightLimitPerMinute: { spot: 60 },
    rateLimit: { windowMs: 1000 },
  });
  await using rest = client(replica, "spot", {
    weightBudgetPerMinute: 60,
    weightWindowMs: 1000,
    concurrency: 8,
  });
  const q = spotPages(70);
  const k = await rest.fetchKlines(q);
  assertTruth(replica, k, q);
  assertEquals(statuses(replica).length, 70);
  assertEquals(statuses(replica).filter((s) => s !== 200), []);
  for (const e of klinesLog(replica)) assertLessOrEqual(e.usedWeight!, 60);
  // Pacing did the work, not luck: the budget held requests back at least twice.
  assertGreater(rest.stats.weightWaits, 1);
  assertGreater(rest.stats.weightWaitMs, 0);
  assertEquals(rest.stats.rateLimited, 0);
});

Deno.test("pacing reconciles with X-MBX-USED-WEIGHT-1M: weight used by others is respected", async () => {
  await using replica = await startReplica({
    now: NOW,
    weightLimitPerMinute: { spot: 60 },
    rateLimit: { windowMs: 1000 },
  });
  // Another client on the same IP already used most of the window.
  for (let i = 0; i < 20; i++) {
    const res = await fetch(
      `${replica.restUrl}/api/v3/klines?symbol=ETHUSDT&interval=1d&startTime=${START}&limit=1`,
    );
    await res.body?.cancel();
  }
  assertEquals(replica.usedWeight("spot"), 40);
  await using rest = client(replica, "spot", { weightBudgetPerMinute: 60, weightWindowMs: 1000 });
  const q = spotPages(30);
  const k = await rest.fetchKlines(q);
  assertTruth(replica, k, q);
  assertEquals(statuses(replica).filter((s) => s !== 200), []);
  assertEquals(rest.stats.lastUsedWeight > 0, true);
});

Deno.test("pacing off: 429s are waited out (Retry-After) and the result is complete", async () => {
  await using replica = await startReplica({
    now: NOW,
    weightLimitPerMinute: { spot: 20 },
    rateLimit: { windowMs: 1000 },
  });
  // One page at a time: the replica bans (418) requests that arrive during a 429 back-off,
  // like Binance, so a client that ignores Retry-After would fail here.
  await using rest = client(replica, "spot", { pacing: false, concurrency: 1 });
  const q = spotPages(12);
  const k = await rest.fetchKlines(q);
  assertTruth(replica, k, q);
  const s = statuses(replica);
  assertGreater(s.filter((x) => x === 429).length, 0);
  assertEquals(s.filter((x) => x === 418).length, 0);
  assertEquals(s.filter((x) => x === 200).length, 12);
  assertEquals(rest.stats.rateLimited, s.filter((x) => x === 429).length);
  assertGreater(rest.stats.rateLimitWaitMs, 0);
});

Deno.test("an injected 429 with pacing on: Retry-After is honoured, then the fetch completes", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/api/v3/klines", kind: "status", status: 429, retryAfter: 1, times: 1 }],
  });
  await using rest = client(replica, "spot", { concurrency: 4 });
  const q = spotPages(8);
  const k = await rest.fetchKlines(q);
  assertTruth(replica, k, q);
  const log = klinesLog(replica);
  assertEquals(log.filter((e) => e.status === 429).length, 1);
  assertEquals(log.filter((e) => e.status === 200).length, 8);
  // The refused page was asked again only after Retry-After (a lower bound: never flaky).
  const limited = log.find((e) => e.status === 429)!;
  const retried = log.find((e) => e.status === 200 && e.query === limited.query)!;
  assertGreater(retried.id, limited.id);
  assertGreaterOrEqual(retried.startedAt - limited.startedAt, 999);
  assertEquals(rest.stats.rateLimited, 1);
  assertGreater(rest.stats.rateLimitWaitMs, 0);
});

Deno.test("418: IpBannedError with the ban's end, and no further requests from this client", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/api/v3/klines", kind: "status", status: 418, retryAfter: 120, times: 1 }],
  });
  await using rest = client(replica, "spot", { concurrency: 4 });
  const before = Date.now();
  const err = await assertRejects(() => rest.fetchKlines(spotPages(20)), IpBannedError);
  const t = err.until.getTime();
  assert(t >= before + 120_000 && t <= Date.now() + 120_000, `until ${err.until.toISOString()}`);
  const n = replica.requests.length;
  assertLessOrEqual(klinesLog(replica).length, 4); // the 418 and what was already in flight
  // Every later call rejects at once, without a request.
  const again = await assertRejects(() => rest.fetchKlines(spotPages(1)), IpBannedError);
  assertEquals(again.until.getTime(), t);
  await assertRejects(() => rest.exchangeInfo(), IpBannedError);
  assertEquals(replica.requests.length, n);
});

Deno.test("stalled headers: retried after headersTimeoutMs; if it persists, a typed timeout", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/api/v3/klines", kind: "stallHeaders", times: 2 }],
  });
  await using rest = client(replica, "spot", { headersTimeoutMs: 150, concurrency: 2 });
  const q = spotPages(3);
  assertTruth(replica, await rest.fetchKlines(q), q);
  assertEquals(rest.stats.requests, 5);
  assertEquals(statuses(replica).filter((s) => s === 200).length, 3);

  replica.setFaults([{ match: "/api/v3/klines", kind: "stallHeaders" }]);
  await using once = client(replica, "spot", { headersTimeoutMs: 100, maxAttempts: 2 });
  const e = await assertRejects(() => once.fetchKlines(spotPages(1)), RequestTimeoutError);
  assertEquals(e.phase, "headers");
  assertEquals(once.stats.requests, 2);
});

Deno.test("resets and stalled bodies are retried; exhausted retries give typed errors", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [
      { match: "/api/v3/klines", kind: "reset", afterBytes: 100, times: 2 },
      { match: "/api/v3/klines", kind: "stallBody", afterBytes: 50, times: 1 },
    ],
  });
  await using rest = client(replica, "spot", { idleTimeoutMs: 150, concurrency: 1 });
  const q = spotPages(2);
  assertTruth(replica, await rest.fetchKlines(q), q);
  assertEquals(rest.stats.requests, 5);

  replica.setFaults([{ match: "/api/v3/klines", kind: "reset", afterBytes: 10 }]);
  await using failing = client(replica, "spot", { maxAttempts: 3 });
  await assertRejects(() => failing.fetchKlines(spotPages(1)), NetworkError);
  assertEquals(failing.stats.requests, 3);
});

Deno.test("a 5xx burst is retried; a 5xx that persists is an HttpStatusError", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/fapi/v1/klines", kind: "status", status: 503, times: 3 }],
  });
  await using rest = client(replica, "um", { concurrency: 1, maxAttempts: 4 });
  const q = { symbol: "BTCUSDT", interval: "1m" as const, start: START, end: START + 3000 * MIN };
  const k = await rest.fetchKlines(q);
  assertEquals(k.length, 3000);
  assertEquals(statuses(replica), [503, 503, 503, 200, 200]);

  replica.setFaults([{ match: "/fapi/v1/klines", kind: "status", status: 502 }]);
  await using failing = client(replica, "um", { maxAttempts: 3, concurrency: 1 });
  const e = await assertRejects(() => failing.fetchKlines(q), HttpStatusError);
  assertEquals(e.status, 502);
  assertEquals(failing.stats.requests, 3);
});

Deno.test("dispose mid-pagination settles within budget + 250 ms and leaves nothing open", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/api/v3/klines", kind: "latency", ms: 30_000 }],
  });
  const budget = 600;
  const rest = client(replica, "spot", { disposeTimeoutMs: budget, graceMs: 100, concurrency: 4 });
  const fetching = rest.fetchKlines(spotPages(40));
  const settled = fetching.then(() => "resolved", (e) => e);
  // Wait until the four workers' requests are at the server.
  await replica.waitFor((e) => e.path === "/api/v3/klines" && e.id >= 4);
  const t0 = performance.now();
  await rest[Symbol.asyncDispose]();
  const elapsed = performance.now() - t0;
  assertLessOrEqual(elapsed, budget + 250);
  assertInstanceOf(await settled, ClientClosedError);
  assertEquals(rest.state, "closed");
  assertEquals(klinesLog(replica).length, 4); // nothing was sent after the abort
  await replica.waitFor((e) => e.path === "/api/v3/klines" && e.aborted && e.id >= 4);
});

Deno.test("dispose while waiting on the weight budget: the wait is aborted at once", async () => {
  await using replica = await startReplica({
    now: NOW,
    weightLimitPerMinute: { spot: 20 },
    rateLimit: { windowMs: 60_000 },
  });
  const rest = client(replica, "spot", {
    weightBudgetPerMinute: 20,
    disposeTimeoutMs: 500,
    graceMs: 50,
  });
  const settled = rest.fetchKlines(spotPages(20)).then(() => "resolved", (e) => e);
  // 9 pages fit (18 of 20 weight at 90 %); the 10th waits a whole minute for the window.
  await replica.waitFor((e) => e.route === "klines" && e.id >= 9);
  const t0 = performance.now();
  await rest[Symbol.asyncDispose]();
  assertLessOrEqual(performance.now() - t0, 500 + 250);
  assertInstanceOf(await settled, ClientClosedError);
  assertEquals(klinesLog(replica).length, 9);
  assertEquals(statuses(replica).filter((s) => s !== 200), []);
});
