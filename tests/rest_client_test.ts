// RestDataClient against the replica: rows equal the truth, pagination plans exact windows,
// typed errors, the open candle, exchangeInfo, work after dispose.
import {
  assert,
  assertEquals,
  assertGreater,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { type Replica, startReplica } from "../testing/mod.ts";
import { RestDataClient, type RestDataClientOptions } from "../src/rest/mod.ts";
import {
  BinanceApiError,
  ClientClosedError,
  InvalidRangeError,
  InvalidSymbolError,
  UnsupportedIntervalError,
} from "../src/errors.ts";
import { SOURCE_CODES } from "../src/klines.ts";
import type { Interval, MarketType } from "../src/market.ts";
import { assertColumnsEqual } from "./_helpers.ts";

const NOW = Date.UTC(2024, 2, 1, 12, 30, 30); // 2024-03-01T12:30:30Z
const DAY = Date.UTC(2024, 1, 10);
const DAY_MS = 86_400_000;

function client(replica: Replica, market: MarketType, extra: Partial<RestDataClientOptions> = {}) {
  return new RestDataClient({
    marketType: market,
    baseUrl: replica.restUrl,
    now: () => replica.now(),
    ...extra,
  });
}

const klinesLog = (replica: Replica) => replica.requests.filter((e) => e.route === "klines");

Deno.test("a day by REST equals the replica's truth row for row (spot, um, cm)", async () => {
  await using replica = await startReplica({ now: NOW });
  const cases = [["spot", "BTCUSDT"], ["um", "ETHUSDT"], ["cm", "BTCUSD_PERP"]] as const;
  for (const [market, symbol] of cases) {
    await using rest = client(replica, market);
    const q = { symbol, interval: "1m" as Interval, start: DAY, end: DAY + DAY_MS };
    const k = await rest.fetchKlines(q);
    const truth = replica.klines({ marketType: market, ...q });
    assertEquals(truth.openTime.length, 1440);
    assertColumnsEqual(k, truth, market);
    assertEquals(k.gaps, []);
    assertEquals(k.lastIsOpen, false);
    assertEquals([k.symbol, k.interval, k.marketType], [symbol, "1m", market]);
    assertEquals(new Set(k.sources), new Set([SOURCE_CODES.indexOf("rest")]));
  }
  // spot: 2 pages of 1000; futures: 1 page of 1500 each.
  assertEquals(klinesLog(replica).map((e) => e.market), ["spot", "spot", "um", "cm"]);
});

Deno.test("hourly and daily intervals, unaligned bounds: half-open on open time", async () => {
  await using replica = await startReplica({ now: NOW });
  await using rest = client(replica, "cm");
  // Unaligned start: the first candle is the one opening at or after it.
  const start = DAY + 90 * 60_000 + 17;
  const end = DAY + 5 * DAY_MS + 1;
  for (const interval of ["1h", "1d"] as const) {
    const k = await rest.fetchKlines({ symbol: "ETHUSD_PERP", interval, start, end });
    const truth = replica.klines({ marketType: "cm", symbol: "ETHUSD_PERP", interval, start, end });
    assertColumnsEqual(k, truth, interval);
    assertGreater(k.length, 0);
    assert(k.openTime[0] >= start && k.openTime[k.length - 1] < end);
    // A start between two candles is not a gap: gaps begin at the first whole candle.
    assertEquals(k.gaps, []);
  }
});

Deno.test("a range needing 44 pages: exact rows, every window fetched once", async () => {
  await using replica = await startReplica({ now: NOW });
  await using rest = client(replica, "spot", { concurrency: 6 });
  const start = Date.UTC(2024, 0, 1);
  const end = start + 30 * DAY_MS;
  const progress: number[] = [];
  const k = await rest.fetchKlines({
    symbol: "ETHUSDT",
    interval: "1m",
    start,
    end,
    onProgress: (p) => {
      assertEquals(p.total, 44);
      progress.push(p.done);
    },
  });
  assertColumnsEqual(
    k,
    replica.klines({ marketType: "spot", symbol: "ETHUSDT", interval: "1m", start, end }),
    "30 days",
  );
  assertEquals(k.length, 43_200);
  assertEquals(k.gaps, []);
  const log = klinesLog(replica);
  assertEquals(log.length, 44);
  const params = log.map((e) => new URLSearchParams(e.query));
  const starts = params.map((p) => Number(p.get("startTime"))).sort((a, b) => a - b);
  assertEquals(new Set(starts).size, 44);
  assertEquals(starts, Array.from({ length: 44 }, (_, i) => start + i * 1000 * 60_000));
  for (const p of params) {
    // endTime = window end − 1: the windows tile the range without overlap.
    const s = Number(p.get("startTime"));
    const e = Number(p.get("endTime"));
    assertEquals(e, Math.min(s + 1000 * 60_000, end) - 1);
  }
  assertEquals(progress, Array.from({ length: 44 }, (_, i) => i + 1));
  assertEquals(rest.stats.pages, 44);
  assertEquals(rest.stats.requests, 44);
});

Deno.test("COIN-M: windows of at most 200 days, each exact (the replica refuses longer spans)", async () => {
  await using replica = await startReplica({ now: NOW });
  await using rest = client(replica, "cm");
  const q = {
    symbol: "BTCUSD_PERP",
    interval: "1d" as Interval,
    start: "2021-01-01",
    end: "2022-06-01",
  };
  const k = await rest.fetchKlines(q);
  assertColumnsEqual(k, replica.klines({ marketType: "cm", ...q }), "cm 1d");
  assertEquals(k.length, 516);
  assertEquals(k.gaps, []);
  const windows = klinesLog(replica).map((e) => {
    const p = new URLSearchParams(e.query);
    return [Number(p.get("endTime")) + 1 - Number(p.get("startTime")), Number(p.get("limit"))];
  });
  assertEquals(windows, [[200 * DAY_MS, 200], [200 * DAY_MS, 200], [116 * DAY_MS, 116]]);
  assertEquals(klinesLog(replica).map((e) => e.status), [200, 200, 200]);
});

Deno.test("gaps: before listing, and a 1M range in calendar months", async () => {
  await using replica = await startReplica({
    now: NOW,
    symbols: [{ symbol: "NEWUSDT", marketType: "um", listedAt: "2024-02-10T06:00:00Z" }],
  });
  await using rest = client(replica, "um");
  const k = await rest.fetchKlines({
    symbol: "newusdt",
    interval: "1h",
    start: DAY,
    end: DAY + DAY_MS,
  });
  assertEquals(k.length, 18);
  assertEquals(k.gaps, [{ start: DAY, end: DAY + 6 * 3_600_000 }]);
  const m = await rest.fetchKlines({
    symbol: "NEWUSDT",
    interval: "1M",
    start: "2024-01-01",
    end: "2024-03-01",
  });
  assertColumnsEqual(
    m,
    replica.klines({
      marketType: "um",
      symbol: "NEWUSDT",
      interval: "1M",
      start: "2024-01-01",
      end: "2024-03-01",
    }),
    "1M",
  );
  assertEquals(m.gaps, [{ start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 1, 1) }]);
});

Deno.test("the open candle: excluded by default (no gap), included and flagged on request", async () => {
  await using replica = await startReplica({ now: NOW });
  await using rest = client(replica, "spot");
  const q = {
    symbol: "BTCUSDT",
    interval: "1h" as Interval,
    start: "2024-03-01",
    end: "2024-03-02",
  };
  const closed = await rest.fetchKlines(q);
  assertEquals(closed.length, 12); // 00:00 … 11:00; 12:00 is still open at 12:30:30
  assertEquals(closed.lastIsOpen, false);
  assertEquals(closed.gaps, []);
  assert(closed.closeTime[11] < NOW);
  assertColumnsEqual(closed, replica.klines({ marketType: "spot", ...q }), "closed");

  const live = await rest.fetchKlines({ ...q, includeOpenCandle: true });
  assertEquals(live.length, 13);
  assertEquals(live.lastIsOpen, true);
  assertEquals(live.openTime[12], Date.UTC(2024, 2, 1, 12));
  assert(live.closeTime[12] >= NOW);
  assertEquals(live.gaps, []);
  // A range that ends in the past never has an open candle.
  const past = await rest.fetchKlines({ ...q, end: "2024-03-01T06:00", includeOpenCandle: true });
  assertEquals([past.length, past.lastIsOpen], [6, false]);
});

Deno.test("typed errors: bad input before any request; -1121 and -1120 from the server", async () => {
  await using replica = await startReplica({ now: NOW });
  await using rest = client(replica, "um");
  const q = { symbol: "BTCUSDT", interval: "1m" as Interval, start: DAY, end: DAY + 60_000 };
  await assertRejects(
    () => rest.fetchKlines({ ...q, interval: "1s" }),
    UnsupportedIntervalError,
    '"1s"',
  );
  await assertRejects(
    () => rest.fetchKlines({ ...q, symbol: "BTC-USDT" }),
    InvalidSymbolError,
    "BTC-USDT",
  );
  await assertRejects(
    () => rest.fetchKlines({ ...q, start: DAY + 1, end: DAY }),
    InvalidRangeError,
  );
  await assertRejects(
    () => rest.fetchKlines({ ...q, start: "yesterday" }),
    InvalidRangeError,
    "yesterday",
  );
  assertEquals(replica.requests.length, 0);

  const sym = await assertRejects(
    () => rest.fetchKlines({ ...q, symbol: "NOPEUSDT" }),
    InvalidSymbolError,
  );
  assertEquals(sym.symbol, "NOPEUSDT");
  assertStringIncludes(sym.message, "-1121");

  replica.setFaults([{
    match: "/fapi/v1/klines",
    kind: "status",
    status: 400,
    body: '{"code":-1120,"msg":"Invalid interval."}',
  }]);
  const iv = await assertRejects(() => rest.fetchKlines(q), UnsupportedIntervalError);
  assertEquals(iv.interval, "1m");
  replica.setFaults([{
    match: "/fapi/v1/klines",
    kind: "status",
    status: 400,
    body: '{"code":-1130,"msg":"Data sent for parameter \'limit\' is not valid."}',
  }]);
  const api = await assertRejects(() => rest.fetchKlines(q), BinanceApiError);
  assertEquals([api.code, api.status], [-1130, 400]);
  assertStringIncludes(api.message, "BTCUSDT");
  // 4xx are not retried: one request each.
  assertEquals(klinesLog(replica).length, 3);
});

Deno.test("exchangeInfo: typed, fetched once, shared in flight; validateSymbols suggests", async () => {
  await using replica = await startReplica({ now: NOW });
  await using rest = client(replica, "cm", { validateSymbols: true });
  const [a, b] = await Promise.all([rest.exchangeInfo(), rest.exchangeInfo()]);
  assertEquals(a, b);
  const perp = a.symbols.find((s) => s.symbol === "BTCUSD_PERP")!;
  assertEquals(perp.contractStatus, "TRADING");
  assertEquals(perp.contractType, "PERPETUAL");
  assertEquals(perp.onboardDate, Date.UTC(2020, 7, 10));
  const e = await assertRejects(
    () =>
      rest.fetchKlines({ symbol: "BTCUDS_PERP", interval: "1d", start: DAY, end: DAY + DAY_MS }),
    InvalidSymbolError,
  );
  assertStringIncludes(e.message, "did you mean BTCUSD_PERP");
  const k = await rest.fetchKlines({
    symbol: "BTCUSD_PERP",
    interval: "1d",
    start: DAY,
    end: DAY + DAY_MS,
  });
  assertEquals(k.length, 1);
  assertEquals(replica.requests.filter((r) => r.route === "exchangeInfo").length, 1);
  assertEquals(klinesLog(replica).length, 1); // the misspelt symbol never reached the server
});

Deno.test("work after dispose rejects with ClientClosedError and sends nothing", async () => {
  await using replica = await startReplica({ now: NOW });
  const rest = client(replica, "spot");
  await rest.fetchKlines({ symbol: "BTCUSDT", interval: "1d", start: DAY, end: DAY + DAY_MS });
  const n = replica.requests.length;
  const disposing = rest[Symbol.asyncDispose]();
  assertEquals(rest.state, "closing");
  await assertRejects(
    () => rest.fetchKlines({ symbol: "BTCUSDT", interval: "1d", start: DAY, end: DAY + DAY_MS }),
    ClientClosedError,
  );
  await disposing;
  assertEquals(rest[Symbol.asyncDispose](), disposing); // one shared promise
  assertEquals(rest.state, "closed");
  await assertRejects(() => rest.exchangeInfo(), ClientClosedError);
  await assertRejects(
    () => rest.fetchKlines({ symbol: "BTCUSDT", interval: "1d", start: DAY, end: DAY + DAY_MS }),
    ClientClosedError,
    "RestDataClient",
  );
  assertEquals(replica.requests.length, n);
  assertInstanceOf(new ClientClosedError("x"), Error);
});
