// Bounds on user input and headers, as pure functions: times (Date range, impossible dates,
// epoch seconds, relative times, days, first-data clamp), symbols (validated before
// upper-casing; COIN-M hint), options (typed, never clamped), Retry-After (capped), REST
// decoding (fast path and JSON fallback agree on overflowing numbers), the row rule.
import { assertEquals, assertInstanceOf, assertMatch, assertThrows } from "@std/assert";
import {
  CorruptRowError,
  InvalidOptionError,
  InvalidTimeError,
  LimitExceededError,
} from "../src/limit_errors.ts";
import { InvalidRangeError, InvalidSymbolError, IpBannedError } from "../src/errors.ts";
import { LIMITS, MARKET_FIRST_DATA } from "../src/limits.ts";
import { normalizeSymbol } from "../src/market.ts";
import { resolveRange, toEpochMs } from "../src/time.ts";
import { restErrorFor, retryAfterMs } from "../src/rest/_errors.ts";
import { decodeKlineBody } from "../src/rest/_decode.ts";
import { checkKlineRows } from "../src/_row_check.ts";
import { allocateColumns } from "../src/columns.ts";
import { RestDataClient } from "../src/rest/client.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { DataSourceManager } from "../src/manager/mod.ts";
import { hostileRow } from "../testing/mod.ts";

const NOW = Date.UTC(2024, 5, 1, 12);
const DAY = 86_400_000;

Deno.test("toEpochMs: past the JS Date range → InvalidTimeError naming value and range", () => {
  for (const v of [8.64e15 + 1, -8.64e15 - 1, 9e15]) {
    const e = assertThrows(() => toEpochMs(v, "start"), InvalidTimeError);
    assertMatch(e.message, /Invalid start ".*": outside the JS Date range of ±8640000000000000 ms/);
    assertInstanceOf(e, InvalidRangeError); // bad input: CLI exit 2
  }
  const e = assertThrows(() => toEpochMs("99999999999999999", "end"), InvalidTimeError);
  assertMatch(e.message, /99999999999999999/);
  assertThrows(() => toEpochMs("+275760-09-14", "end"), InvalidTimeError);
});

Deno.test("toEpochMs: impossible calendar dates are rejected, real ones (leap days) accepted", () => {
  for (const v of ["2024-02-30", "2023-02-29", "2024-04-31", "2024-13-01", "2024-00-10"]) {
    const e = assertThrows(() => toEpochMs(v, "start"), InvalidTimeError);
    assertMatch(e.message, new RegExp(`Invalid start "${v}": no such calendar date`));
  }
  assertEquals(toEpochMs("2024-02-29"), Date.UTC(2024, 1, 29));
  assertEquals(toEpochMs("2000-02-29T12:00:00"), Date.UTC(2000, 1, 29, 12));
  assertThrows(() => toEpochMs("1900-02-29"), InvalidTimeError);
});

Deno.test("toEpochMs: numbers that look like epoch seconds are an error suggesting ms", () => {
  const e = assertThrows(() => toEpochMs(1_704_067_200, "start"), InvalidTimeError);
  assertMatch(
    e.message,
    /looks like epoch seconds \(2024-01-01T00:00:00.000Z\).*pass 1704067200000/,
  );
  assertThrows(() => toEpochMs("1704067200", "start"), InvalidTimeError);
  assertEquals(toEpochMs(1_704_067_200_000), 1_704_067_200_000);
  assertEquals(toEpochMs("1704067200000"), 1_704_067_200_000);
  assertEquals(toEpochMs(0), 0); // the epoch itself is no mistake (clamped by the ranges)
});

Deno.test("toEpochMs: now and relative times (-7d, now-12h, -30m, +1h) against the given now", () => {
  const o = { now: NOW };
  assertEquals(toEpochMs("now", "end", o), NOW);
  assertEquals(toEpochMs("-7d", "start", o), NOW - 7 * DAY);
  assertEquals(toEpochMs("now-12h", "start", o), NOW - 12 * 3600_000);
  assertEquals(toEpochMs("-30m", "start", o), NOW - 30 * 60_000);
  assertEquals(toEpochMs("-2w", "start", o), NOW - 14 * DAY);
  assertEquals(toEpochMs("+1h", "end", o), NOW + 3600_000);
  for (const bad of ["-7y", "-d", "7d", "now-", "-1.5d"]) {
    assertThrows(() => toEpochMs(bad, "start", o), InvalidTimeError);
  }
});

Deno.test("resolveRange: days back from end or now; days with start → InvalidRangeError", () => {
  assertEquals(resolveRange({ days: 7 }, { now: NOW }), { start: NOW - 7 * DAY, end: NOW });
  assertEquals(
    resolveRange({ days: 1, end: "2024-03-02" }, { now: NOW }),
    { start: Date.UTC(2024, 2, 1), end: Date.UTC(2024, 2, 2) },
  );
  const e = assertThrows(
    () => resolveRange({ start: "2024-01-01", days: 3 }, { now: NOW }),
    InvalidRangeError,
  );
  assertMatch(e.message, /days 3 conflicts with start "2024-01-01"/);
  for (const days of [0, -1, NaN, 1e9]) {
    assertThrows(() => resolveRange({ days }, { now: NOW }), InvalidRangeError);
  }
  assertThrows(() => resolveRange({ end: "2024-01-01" }, { now: NOW }), InvalidRangeError);
  assertEquals(resolveRange({ start: "-1d" }, { now: NOW }), { start: NOW - DAY, end: NOW });
});

Deno.test("resolveRange: a start before the market's first data is clamped to it; a range wholly before it is an error", () => {
  for (const market of ["spot", "um", "cm"] as const) {
    const r = resolveRange({ start: "0001-01-01", end: "2024-01-01" }, { now: NOW, market });
    assertEquals(r, { start: MARKET_FIRST_DATA[market], end: Date.UTC(2024, 0, 1) });
  }
  assertEquals(MARKET_FIRST_DATA.spot, Date.UTC(2017, 7, 17));
  const e = assertThrows(
    () => resolveRange({ start: 0, end: "2019-01-01" }, { now: NOW, market: "um" }),
    InvalidRangeError,
  );
  assertMatch(e.message, /before the first um klines \(2019-09-08T00:00:00.000Z\)/);
});

Deno.test("normalizeSymbol: validated before upper-casing (ſ, ı, ß never become ASCII)", () => {
  for (const s of ["btcuſdt", "ıcpusdt", "straßeusdt", "ＢＴＣ", "btc usdt", "btc-usdt"]) {
    const e = assertThrows(() => normalizeSymbol(s), InvalidSymbolError);
    assertEquals(e.symbol, s);
    assertMatch(e.message, /ASCII letters and digits/);
  }
  assertEquals(normalizeSymbol(" btcusdt "), "BTCUSDT");
});

Deno.test("normalizeSymbol: a COIN-M kline symbol without contract suffix suggests _PERP", () => {
  const e = assertThrows(() => normalizeSymbol("btcusd", "cm"), InvalidSymbolError);
  assertMatch(e.message, /"btcusd".*use BTCUSD_PERP/);
  assertEquals(normalizeSymbol("btcusd_perp", "cm"), "BTCUSD_PERP");
  assertEquals(normalizeSymbol("BTCUSD_240628", "cm"), "BTCUSD_240628");
  assertEquals(normalizeSymbol("BTCUSDT", "um"), "BTCUSDT");
});

Deno.test("clients: a COIN-M symbol without _PERP fails before any request", async () => {
  await using rest = new RestDataClient({ marketType: "cm", baseUrl: "http://127.0.0.1:9" });
  const e = await rest.fetchKlines({ symbol: "BTCUSD", interval: "1h", days: 1 }).then(
    () => undefined,
    (err) => err,
  );
  assertInstanceOf(e, InvalidSymbolError);
  assertMatch(e.message, /BTCUSD_PERP/);
});

Deno.test("options: invalid limits are typed errors naming the option, never clamped", () => {
  const cases: [string, () => unknown][] = [
    ["maxPageBytes", () => new RestDataClient({ marketType: "spot", maxPageBytes: -1 })],
    ["maxPageBytes", () => new RestDataClient({ marketType: "spot", maxPageBytes: 1.5 })],
    [
      "maxRateLimitWaitMs",
      () => new RestDataClient({ marketType: "spot", maxRateLimitWaitMs: 1e12 }),
    ],
    ["maxArchiveBytes", () => new VisionDataClient({ marketType: "spot", maxArchiveBytes: 0 })],
    ["parseWorkers", () => new VisionDataClient({ marketType: "spot", parseWorkers: 0 })],
    ["sourceTimeoutMs", () => new DataSourceManager({ marketType: "spot", sourceTimeoutMs: 0 })],
  ];
  for (const [option, make] of cases) {
    const e = assertThrows(make, InvalidOptionError);
    assertEquals(e.option, option);
    assertMatch(e.message, new RegExp(`Invalid option ${option}: .*; allowed: an integer`));
  }
});

Deno.test("Retry-After: absurd or unreadable values are capped at LIMITS.maxRetryAfterMs", () => {
  const h = (v: string) => new Headers({ "retry-after": v });
  assertEquals(retryAfterMs(h("2"), 60_000), 2000);
  assertEquals(retryAfterMs(h("1e400"), 60_000), 60_000); // not delta-seconds: fallback
  assertEquals(retryAfterMs(h("99999999999999999999"), 60_000), LIMITS.maxRetryAfterMs);
  assertEquals(retryAfterMs(h("Fri, 31 Dec 9999 23:59:59 GMT"), 0, NOW), LIMITS.maxRetryAfterMs);
  const ban = restErrorFor(418, "", h("99999999999999999999"), { url: "u", market: "spot" }, NOW);
  assertInstanceOf(ban, IpBannedError);
  assertEquals(ban.until.getTime(), NOW + LIMITS.maxRetryAfterMs);
});

const ROW = [0, "1.5", "2", "1", "1.75", "10", 59_999, "17.5", 3, "5", "8.75", "0"];
const body = (rows: unknown[][], spaced = false) =>
  new TextEncoder().encode(spaced ? JSON.stringify(rows, null, 1) : JSON.stringify(rows));

Deno.test("REST decode: an overflowing number is a CorruptRowError on the fast path and the JSON fallback alike", () => {
  const rows = [ROW, hostileRow(ROW, "overflow")];
  for (const spaced of [false, true]) { // spaced: not the compact shape → JSON fallback
    const e = assertThrows(
      () => decodeKlineBody(body(rows, spaced), "https://x/k"),
      CorruptRowError,
    );
    assertEquals(e.message, "page https://x/k row 2: corrupt high: 1e400 overflows");
    assertEquals(e.line, 2);
  }
  // A raw JSON number too.
  const raw = new TextEncoder().encode(`[[0,"1",1e400,"1","1","1",59999,"1",1,"1","1","0"]]`);
  assertThrows(() => decodeKlineBody(raw, "https://x/k"), CorruptRowError);
});

Deno.test("row rule: negative volume, high < low, off-grid and fractional open times → CorruptRowError", () => {
  const kinds = [
    ["negativeVolume", /row 2: corrupt volume: -10 is not a finite number >= 0/],
    ["highBelowLow", /row 2: corrupt high: high 2 is below low 3/],
    ["offGrid", /row 2: corrupt openTime: 60001 .* is not on the 1m candle grid/],
    ["fractionalTime", /row 2: corrupt openTime: 60000.5 is not an integer/],
  ] as const;
  for (const [kind, re] of kinds) {
    const second = [60_000, ...ROW.slice(1, 6), 119_999, ...ROW.slice(7)];
    const cols = decodeKlineBody(body([ROW, hostileRow(second, kind)]), "u");
    const e = assertThrows(() => checkKlineRows(cols, "1m", "page u"), CorruptRowError);
    assertMatch(e.message, re);
    assertEquals(e.file, "page u");
  }
  const ok = allocateColumns(1);
  checkKlineRows(ok, "1m", "x"); // zeros are a valid (empty) candle
  const inf = allocateColumns(1);
  inf.quoteVolume[0] = Infinity;
  assertThrows(() => checkKlineRows(inf, "1m", "x"), CorruptRowError, "quoteVolume");
});

Deno.test("LimitExceededError names the value, the limit and the option", () => {
  const e = new LimitExceededError("x", 5, 4, "maxX", "bytes");
  assertEquals(e.message, "x: 5 bytes exceeds the limit of 4 bytes (option maxX)");
});
