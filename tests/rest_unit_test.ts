import { InvalidOptionError } from "../src/option_error.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { planPages } from "../src/rest/_pagination.ts";
import { WeightBudget } from "../src/rest/_weight_budget.ts";
import { decodeKlineBody, decodeKlineRows } from "../src/rest/_decode.ts";
import { restErrorFor, retryAfterMs } from "../src/rest/_errors.ts";
import { closeSymbolMatches, parseExchangeInfo } from "../src/rest/exchange_info.ts";
import {
  BinanceApiError,
  HttpStatusError,
  InvalidSymbolError,
  IpBannedError,
  MalformedResponseError,
  RateLimitError,
  UnsupportedIntervalError,
} from "../src/errors.ts";
import { DAY_MS } from "../src/time.ts";

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

Deno.test("planPages: 30 days of 1m → 44 spot pages, 29 futures pages, contiguous, exact", () => {
  const range = { start: T0, end: T0 + 30 * DAY_MS };
  for (const [market, pages, limit] of [["spot", 44, 1000], ["um", 29, 1500]] as const) {
    const plan = planPages(range, { market, interval: "1m" });
    assertEquals(plan.length, pages);
    assertEquals(plan[0].start, range.start);
    assertEquals(plan.at(-1)!.end, range.end);
    let candles = 0;
    plan.forEach((p, i) => {
      assertEquals(p.index, i);
      if (i > 0) assertEquals(p.start, plan[i - 1].end); // no overlap, no hole
      assert(p.limit <= limit);
      assertEquals(p.limit, (p.end - p.start) / MIN);
      candles += p.limit;
    });
    assertEquals(candles, 43_200);
  }
});

Deno.test("planPages: futures weight follows the limit tiers; spot is always 2", () => {
  const small = planPages({ start: T0, end: T0 + 50 * MIN }, { market: "um", interval: "1m" });
  assertEquals(small.map((p) => [p.limit, p.weight]), [[50, 1]]);
  const big = planPages({ start: T0, end: T0 + 2700 * MIN }, { market: "cm", interval: "1m" });
  assertEquals(big.map((p) => [p.limit, p.weight]), [[1500, 10], [1200, 10]]);
  const spot = planPages({ start: T0, end: T0 + 1500 * MIN }, { market: "spot", interval: "1m" });
  assertEquals(spot.map((p) => [p.limit, p.weight]), [[1000, 2], [500, 2]]);
});

Deno.test("planPages: unaligned start still never asks for more than limit candles", () => {
  const start = T0 + 30_123;
  const plan = planPages({ start, end: start + 2500 * MIN }, { market: "spot", interval: "1m" });
  assertEquals(plan.map((p) => [p.start - start, p.limit]), [[0, 1000], [1000 * MIN, 1000], [
    2000 * MIN,
    500,
  ]]);
});

Deno.test("planPages: COIN-M windows never span 200 days", () => {
  const range = { start: T0, end: T0 + 1000 * DAY_MS };
  const plan = planPages(range, { market: "cm", interval: "1d" });
  assertEquals(plan.length, 5);
  for (const p of plan) assert(p.end - p.start <= 200 * DAY_MS && p.limit <= 200);
  const weekly = planPages(range, { market: "cm", interval: "1w" });
  for (const p of weekly) assert(p.end - 1 - p.start < 200 * DAY_MS);
  // USDⓈ-M has no span cap: one page holds 1000 days.
  assertEquals(planPages(range, { market: "um", interval: "1d" }).length, 1);
});

Deno.test("planPages: 1M uses calendar months", () => {
  const start = Date.UTC(2020, 0, 1);
  const end = Date.UTC(2024, 0, 1);
  assertEquals(planPages({ start, end }, { market: "spot", interval: "1M" }).map((p) => p.limit), [
    48,
  ]);
  const cm = planPages({ start, end }, { market: "cm", interval: "1M" });
  assertEquals(cm.length, 8); // 6 months a page (200 days / 31 days)
  assertEquals(cm[1].start, Date.UTC(2020, 6, 1));
  assertEquals(cm.reduce((s, p) => s + p.limit, 0), 48);
  // Mid-month start: the first month start is the next one.
  const mid = planPages({ start: Date.UTC(2020, 0, 15), end: Date.UTC(2020, 3, 1) }, {
    market: "spot",
    interval: "1M",
  });
  assertEquals(mid.map((p) => p.limit), [2]);
  // Inside one month: no candle can open there, so no request at all.
  assertEquals(
    planPages({ start: Date.UTC(2020, 0, 2), end: Date.UTC(2020, 0, 20) }, {
      market: "spot",
      interval: "1M",
    }),
    [],
  );
});

/** A fake clock whose sleep advances time: no real waiting. */
function fakeTime() {
  let now = 1_000;
  const sleeps: number[] = [];
  return {
    clock: () => now,
    advance: (ms: number) => now += ms,
    sleeps,
    sleep: (ms: number, signal?: AbortSignal) => {
      sleeps.push(ms);
      if (signal?.aborted) return Promise.reject(signal.reason);
      now += ms;
      return Promise.resolve();
    },
  };
}

Deno.test("WeightBudget: grants under the cap at once, then waits for the window to free up", async () => {
  const t = fakeTime();
  const b = new WeightBudget({ limit: 60, windowMs: 1000, safety: 0.9, ...t });
  assertEquals(b.capacity, 54);
  for (let i = 0; i < 27; i++) await b.reserve(2);
  assertEquals(t.sleeps, []);
  assertEquals(b.used(), 54);
  await b.reserve(2);
  assertEquals(t.sleeps, [1000]);
  assertEquals(b.stats.waits, 1);
  assertEquals(b.stats.waitMs, 1000);
  assertEquals(b.stats.reserved, 56);
});

Deno.test("WeightBudget: waits only until enough old weight expires", async () => {
  const t = fakeTime();
  const b = new WeightBudget({ limit: 10, windowMs: 1000, safety: 1, ...t });
  await b.reserve(4);
  t.advance(300);
  await b.reserve(4);
  t.advance(300);
  await b.reserve(4); // 12 > 10: the first 4 must expire, 400 ms from now
  assertEquals(t.sleeps, [400]);
});

Deno.test("WeightBudget: concurrent reservations are FIFO and never exceed the cap", async () => {
  let now = 0;
  const timers: { at: number; fire: () => void }[] = [];
  const b = new WeightBudget({
    limit: 10,
    windowMs: 1000,
    safety: 1,
    clock: () => now,
    sleep: (ms) => new Promise<void>((r) => timers.push({ at: now + ms, fire: r })),
  });
  const order: number[] = [];
  const grants: number[] = [];
  const all = Array.from({ length: 6 }, (_, i) =>
    b.reserve(5).then(() => {
      order.push(i);
      grants.push(now);
    }));
  // Drive the fake timers until every reservation is granted.
  while (order.length < 6) {
    await new Promise((r) => setTimeout(r, 0));
    const next = timers.shift();
    if (next) {
      now = next.at;
      next.fire();
    }
  }
  await Promise.all(all);
  assertEquals(order, [0, 1, 2, 3, 4, 5]);
  assertEquals(grants, [0, 0, 1000, 1000, 2000, 2000]);
});

Deno.test("WeightBudget: an aborted wait rejects with the reason and records nothing", async () => {
  const t = fakeTime();
  const b = new WeightBudget({ limit: 4, windowMs: 1000, safety: 1, ...t });
  await b.reserve(4);
  const ac = new AbortController();
  ac.abort(new Error("stop"));
  await assertRejects(() => b.reserve(1, ac.signal), Error, "stop");
  assertEquals(b.used(), 4);
  await b.reserve(1); // the queue is not wedged by the aborted waiter
  assertEquals(b.used(), 1);
});

Deno.test("WeightBudget: the server's used weight is reconciled; pauseFor holds requests", async () => {
  const t = fakeTime();
  const b = new WeightBudget({ limit: 100, windowMs: 1000, safety: 1, ...t });
  await b.reserve(10);
  b.observe(95); // another client on the IP used 85
  assertEquals(b.used(), 95);
  b.observe(50); // lower than ours: never lowers our count
  assertEquals(b.used(), 95);
  await b.reserve(10);
  assertEquals(t.sleeps, [1000]);
  b.pauseFor(3000);
  await b.reserve(1);
  assertEquals(t.sleeps, [1000, 3000]);
  assertEquals(b.stats.maxObserved, 95);
});

Deno.test("WeightBudget: settle() re-stamps with the answer's time (server counts on arrival)", async () => {
  const t = fakeTime();
  const b = new WeightBudget({ limit: 10, windowMs: 1000, safety: 1, ...t });
  const settle = await b.reserve(10);
  t.advance(400); // the answer took 400 ms: the server may have counted it just now
  settle();
  t.advance(700); // 1100 ms after sending, 700 ms after the answer
  assertEquals(b.used(), 10);
  await b.reserve(1);
  assertEquals(t.sleeps, [300]); // until a full window after the answer
  settle(); // idempotent enough: a second call after expiry is a no-op
});

Deno.test("WeightBudget: a request heavier than the cap runs alone", async () => {
  const t = fakeTime();
  const b = new WeightBudget({ limit: 5, windowMs: 1000, ...t });
  await b.reserve(10);
  await b.reserve(10);
  assertEquals(t.sleeps, [1000]);
  assertThrows(
    () => new WeightBudget({ limit: 0 }),
    InvalidOptionError,
    "weightBudgetPerMinute: 0",
  );
});

Deno.test("decodeKlineRows: mixed numbers and decimal strings, exact, µs normalised", () => {
  const body = JSON.parse(
    `[[1704067200000,"42283.58000000","42298.62000000","42283.57000000","42289.92000000","19.33049000",1704067259999,"817538.45193710",1151,"10.78358000","456060.13573170","0"],` +
      `[1735689600000000,"0.1","0.2","0.05","0.15","1e-8",1735689659999999,"3",7,"0.3","0.00000001","0"]]`,
  );
  const c = decodeKlineRows(body, "u");
  assertEquals(Array.from(c.openTime), [1704067200000, 1735689600000]);
  assertEquals(Array.from(c.closeTime), [1704067259999, 1735689659999]);
  assertEquals(c.open[0], Number("42283.58000000"));
  assertEquals(c.quoteVolume[0], 817538.4519371);
  assertEquals(c.trades[0], 1151);
  assertEquals(c.takerBuyQuoteVolume[1], 1e-8);
  assertEquals(c.volume[1], 1e-8);
  assertEquals(decodeKlineRows([], "u").openTime.length, 0);
});

Deno.test("decodeKlineRows: malformed bodies name the row and field", () => {
  assertThrows(
    () => decodeKlineRows({ code: 1 }, "http://x/k"),
    MalformedResponseError,
    "an object",
  );
  assertThrows(() => decodeKlineRows([[1, 2]], "http://x/k"), MalformedResponseError, "row 0");
  const bad = [[1, "1", "1", "1", "abc", "1", 2, "1", 1, "1", "1", "0"]];
  const e = assertThrows(() => decodeKlineRows(bad, "http://x/k"), MalformedResponseError);
  assertStringIncludes(e.message, 'field close: not a number: "abc"');
  assertStringIncludes(e.message, "http://x/k");
  assertThrows(() => decodeKlineRows([[1, "", "1", "1", "1", "1", 2, "1", 1, "1", "1"]], "u"));
});

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

Deno.test("decodeKlineBody: the byte scanner gives exactly Number(text) for random decimals", () => {
  // Seeded LCG: reproducible, no dependency.
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join("");
  const rows: unknown[][] = [];
  for (let r = 0; r < 2000; r++) {
    const dec = () => {
      const intLen = Math.floor(rnd() * 9);
      const fracLen = Math.floor(rnd() * 12);
      return (intLen ? digits(intLen) : "0") + (fracLen ? "." + digits(fracLen) : "");
    };
    rows.push([
      1_600_000_000_000 + r * 60_000,
      dec(),
      dec(),
      dec(),
      dec(),
      dec(),
      1_600_000_000_000 + r * 60_000 + 59_999,
      dec(),
      Math.floor(rnd() * 1e6),
      dec(),
      rnd() < 0.05 ? "12345678901234567.123" : dec(), // past 15 digits: the slow path
      "0",
    ]);
  }
  const fast = decodeKlineBody(enc(rows), "u", 10); // a small hint: the buffer must grow
  const slow = decodeKlineRows(rows, "u");
  for (const name of Object.keys(slow) as (keyof typeof slow)[]) {
    assertEquals(Array.from(fast[name]), Array.from(slow[name]), name);
  }
  rows.forEach((row, i) => assertEquals(fast.open[i], Number(row[1])));
});

Deno.test("decodeKlineBody: odd but valid JSON falls back; invalid bodies are typed errors", () => {
  const row = [
    1704067200000,
    "1.5",
    "2",
    "1",
    "1.75",
    "10",
    1704067259999,
    "17.5",
    3,
    "5",
    "8.75",
    "0",
  ];
  const spaced = enc(
    JSON.stringify([row, row.map((v, i) => i === 0 ? 1704067260000 : v)], null, 2),
  );
  const c = decodeKlineBody(spaced, "u");
  assertEquals(Array.from(c.openTime), [1704067200000, 1704067260000]);
  assertEquals(c.close[1], 1.75);
  const micros = decodeKlineBody(
    enc([[1735689600000000, "-1e-8", "2", "1", "1", "1", 1735689659999999, "1", 3, "5", "8", 0]]),
    "u",
  );
  assertEquals([micros.openTime[0], micros.closeTime[0], micros.open[0]], [
    1735689600000,
    1735689659999,
    -1e-8,
  ]);
  assertEquals(decodeKlineBody(enc("[]"), "u").openTime.length, 0);
  assertThrows(
    () => decodeKlineBody(enc("[[1,2"), "http://x/k"),
    MalformedResponseError,
    "not JSON",
  );
  assertThrows(
    () => decodeKlineBody(enc([[1, "x", "1", "1", "1", "1", 2, "1", 1, "1", "1", "0"]]), "u"),
    MalformedResponseError,
    'field open: not a number: "x"',
  );
  assertThrows(() => decodeKlineBody(enc({ code: -1 }), "u"), MalformedResponseError, "an object");
});

Deno.test("restErrorFor: 418/429/-1121/-1120/other codes/5xx map to typed errors", () => {
  const ctx = {
    url: "http://x/api/v3/klines",
    market: "spot" as const,
    symbol: "NOPE",
    interval: "1m" as const,
  };
  const h = (v?: string) => new Headers(v === undefined ? {} : { "retry-after": v });
  const ban = restErrorFor(418, "", h("120"), ctx, 1_000);
  assertInstanceOf(ban, IpBannedError);
  assertEquals(ban.until.getTime(), 121_000);
  const rl = restErrorFor(429, '{"code":-1003,"msg":"Too many"}', h("2"), ctx);
  assertInstanceOf(rl, RateLimitError);
  assertEquals(rl.retryAfterMs, 2000);
  const sym = restErrorFor(400, '{"code":-1121,"msg":"Invalid symbol."}', h(), ctx);
  assertInstanceOf(sym, InvalidSymbolError);
  assertEquals(sym.symbol, "NOPE");
  assertStringIncludes(sym.message, "NOPE");
  const iv = restErrorFor(400, '{"code":-1120,"msg":"Invalid interval."}', h(), ctx);
  assertInstanceOf(iv, UnsupportedIntervalError);
  assertEquals(iv.interval, "1m");
  const other = restErrorFor(
    400,
    '{"code":-1130,"msg":"Invalid data sent for a parameter."}',
    h(),
    ctx,
  );
  assertInstanceOf(other, BinanceApiError);
  assertEquals([other.code, other.status], [-1130, 400]);
  assertStringIncludes(other.message, "NOPE");
  const five = restErrorFor(503, "<html>down</html>", h(), ctx);
  assertInstanceOf(five, HttpStatusError);
  assertEquals(five.status, 503);
  assertEquals(retryAfterMs(h(), 5), 5);
  assertEquals(retryAfterMs(h("0.5"), 5), 500);
  assertEquals(retryAfterMs(h(new Date(11_000).toUTCString()), 5, 1_000), 10_000);
});

Deno.test("exchangeInfo: parsed and narrowed; close matches suggested", () => {
  const info = parseExchangeInfo({
    timezone: "UTC",
    serverTime: 5,
    symbols: [
      {
        symbol: "BTCUSD_PERP",
        contractStatus: "TRADING",
        contractType: "PERPETUAL",
        onboardDate: 1,
        x: 1,
      },
    ],
  }, "u");
  assertEquals(info, {
    timezone: "UTC",
    serverTime: 5,
    symbols: [{
      symbol: "BTCUSD_PERP",
      contractStatus: "TRADING",
      contractType: "PERPETUAL",
      onboardDate: 1,
    }],
  });
  assertThrows(
    () => parseExchangeInfo({ symbols: [{}] }, "u"),
    MalformedResponseError,
    "symbols[0]",
  );
  assertEquals(closeSymbolMatches("BTCUSTD", ["ETHUSDT", "BTCUSDT", "BTCUSDC", "XRPBTC"]), [
    "BTCUSDT", // one swap
    "BTCUSDC",
    "ETHUSDT",
  ]);
  assertEquals(closeSymbolMatches("ZZZZZZZZ", ["BTCUSDT"]), []);
});
