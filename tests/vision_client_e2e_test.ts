/**
 * VisionDataClient end to end against the replica: real fixture days byte-for-byte,
 * archive planning (monthly for whole months, daily edges, monthly→daily fallback),
 * equality with the replica's truth, exact gaps, validation before any request.
 */
import { assert, assertEquals, assertGreater, assertRejects } from "@std/assert";
import { type MountedFixture, type Replica, startReplica } from "../testing/mod.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { findGaps, KLINE_COLUMNS, type Klines } from "../src/klines.ts";
import type { Interval, MarketType } from "../src/market.ts";
import { type TimeRange, toEpochMs } from "../src/time.ts";
import { InvalidRangeError, InvalidSymbolError, UnsupportedIntervalError } from "../src/errors.ts";
import { assertColumnsEqual } from "./_helpers.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const readFixture = (path: string) => Deno.readFileSync(new URL(path, FIXTURES));

/** An independent reading of a kline CSV (header skipped, µs → ms), for comparisons. */
function parseCsvRows(bytes: Uint8Array): number[][] {
  return new TextDecoder().decode(bytes).split("\n").filter((l) => /^\d/.test(l)).map((line) => {
    const f = line.split(",").slice(0, 11).map(Number);
    if (f[0] >= 1e15) {
      f[0] = Math.floor(f[0] / 1000);
      f[6] = Math.floor(f[6] / 1000);
    }
    return f;
  });
}

function rowsOf(k: Klines): number[][] {
  return k.toRecords().map((r) => KLINE_COLUMNS.map((c) => r[c]));
}

function assertSortedUnique(k: Klines): void {
  for (let i = 1; i < k.length; i++) {
    assert(k.openTime[i] > k.openTime[i - 1], `row ${i} not strictly after row ${i - 1}`);
  }
}

function client(replica: Replica, marketType: MarketType, extra = {}): VisionDataClient {
  return new VisionDataClient({
    marketType,
    baseUrl: replica.visionUrl,
    now: () => replica.now(),
    parseWorkers: 1,
    retryMinTimeoutMs: 1,
    retryMaxTimeoutMs: 5,
    ...extra,
  });
}

const archiveRequests = (replica: Replica) =>
  replica.requests.filter((r) => r.route === "archive").map((r) => ({
    file: r.path.split("/").pop()!,
    monthly: r.path.includes("/monthly/"),
    status: r.status,
  }));

const iso = (ms: number) => new Date(ms).toISOString();
const gapsText = (gaps: readonly TimeRange[]) => gaps.map((g) => `${iso(g.start)}..${iso(g.end)}`);

Deno.test("real fixture days come back exactly: spot 2017 (no header), um 2024 (header), spot 2025 µs", async () => {
  const us = new TextDecoder().decode(readFixture("spot_us/README-rows.csv")).split("\n");
  const enc = new TextEncoder();
  const fixtures: MountedFixture[] = [
    {
      marketType: "spot",
      symbol: "BTCUSDT",
      interval: "1m",
      day: "2017-08-17",
      csv: readFixture("spot/BTCUSDT-1m-2017-08-17.csv"),
    },
    {
      marketType: "um",
      symbol: "BTCUSDT",
      interval: "1m",
      day: "2024-01-01",
      csv: readFixture("um/BTCUSDT-1m-2024-01-01.csv"),
    },
    // The last five rows of 2025-04-10 and the first five of 2025-04-11 (µs timestamps).
    {
      marketType: "spot",
      symbol: "BTCUSDT",
      interval: "1m",
      day: "2025-04-10",
      csv: enc.encode(us.slice(3, 8).join("\n") + "\n"),
    },
    {
      marketType: "spot",
      symbol: "BTCUSDT",
      interval: "1m",
      day: "2025-04-11",
      csv: enc.encode(us.slice(8, 13).join("\n") + "\n"),
    },
  ];
  await using replica = await startReplica({ now: "2025-06-01T00:00:00Z", fixtures });
  await using spot = client(replica, "spot");
  await using um = client(replica, "um");

  const day2017 = await spot.fetchKlines({
    symbol: "btcusdt",
    interval: "1m",
    start: "2017-08-17",
    end: "2017-08-18",
  });
  assertEquals(day2017.length, 1200);
  assertEquals(rowsOf(day2017), parseCsvRows(fixtures[0].csv));
  // Trading began at 04:00: the hours before are a gap, nothing else is.
  assertEquals(gapsText(day2017.gaps), ["2017-08-17T00:00:00.000Z..2017-08-17T04:00:00.000Z"]);
  assertEquals(day2017.symbol, "BTCUSDT");

  const day2024 = await um.fetchKlines({
    symbol: "BTCUSDT",
    interval: "1m",
    start: "2024-01-01",
    end: "2024-01-02",
  });
  assertEquals(day2024.length, 1440);
  assertEquals(rowsOf(day2024), parseCsvRows(fixtures[1].csv));
  assertEquals(day2024.gaps, []);
  assertEquals(day2024.close[0], 42331.9);
  assertEquals(day2024.openTime[1439], 1704153540000);

  const cross = await spot.fetchKlines({
    symbol: "BTCUSDT",
    interval: "1m",
    start: "2025-04-10T23:50:00Z",
    end: "2025-04-11T00:10:00Z",
  });
  assertEquals(rowsOf(cross), parseCsvRows(enc.encode(us.slice(3, 13).join("\n"))));
  assertEquals(cross.openTime[0], 1744329300000); // µs → ms
  assertEquals(cross.closeTime[9], 1744329899999);
  assertEquals(gapsText(cross.gaps), [
    "2025-04-10T23:50:00.000Z..2025-04-10T23:55:00.000Z",
    "2025-04-11T00:05:00.000Z..2025-04-11T00:10:00.000Z",
  ]);
  assertEquals([...cross.sources!], new Array(10).fill(1)); // all from "vision"
});

Deno.test("3-month range: monthly for whole months, daily edges, missing month → days; equals truth", async () => {
  // Now: 2024-04-02 12:00. March ended but its monthly file is not out yet (3-day lag);
  // 04-01 is published (6 h lag); 04-02 has not ended, so it is not even requested.
  await using replica = await startReplica({ now: "2024-04-02T12:00:00Z" });
  await using c = client(replica, "spot", { concurrency: 4 });
  const progress: { done: number; total: number; bytes: number }[] = [];
  const start = toEpochMs("2024-01-10T05:30:00Z");
  const k = await c.fetchKlines({
    symbol: "BTCUSDT",
    interval: "1h",
    start,
    end: "2024-06-01",
    onProgress: (p) => progress.push(p),
  });
  const reqs = archiveRequests(replica);
  const monthly = reqs.filter((r) => r.monthly).map((r) => `${r.file} ${r.status}`).sort();
  assertEquals(monthly, ["BTCUSDT-1h-2024-02.zip 200", "BTCUSDT-1h-2024-03.zip 404"]);
  const daily = reqs.filter((r) => !r.monthly).map((r) => r.file.slice(11, 21));
  assertEquals(daily.length, new Set(daily).size, "each day requested once");
  const expectedDays = [
    ...Array.from({ length: 22 }, (_, i) => `2024-01-${String(10 + i).padStart(2, "0")}`),
    ...Array.from({ length: 31 }, (_, i) => `2024-03-${String(1 + i).padStart(2, "0")}`),
    "2024-04-01",
  ];
  assertEquals(daily.sort(), expectedDays);
  assert(reqs.filter((r) => !r.monthly).every((r) => r.status === 200));

  const lastPublished = toEpochMs("2024-04-02");
  const truth = replica.klines({
    marketType: "spot",
    symbol: "BTCUSDT",
    interval: "1h",
    start,
    end: lastPublished,
  });
  assertColumnsEqual(k, truth);
  assertSortedUnique(k);
  assertEquals(k.openTime[0], toEpochMs("2024-01-10T06:00:00Z"));
  // Only today (not published yet) is missing, up to "now".
  assertEquals(gapsText(k.gaps), ["2024-04-02T00:00:00.000Z..2024-04-02T12:00:00.000Z"]);

  const last = progress.at(-1)!;
  assertEquals(last.done, last.total);
  assertEquals(last.total, 22 + 2 + 31 + 2); // days + months + March's days + 04-01, 04-02
  assertGreater(last.bytes, 0);
  for (let i = 1; i < progress.length; i++) assertEquals(progress[i].done, i + 1);
});

Deno.test("range starting before listing: gap up to listing, rows equal truth", async () => {
  await using replica = await startReplica({ now: "2018-01-01T00:00:00Z" });
  await using c = client(replica, "spot");
  const range = { start: toEpochMs("2017-09-27"), end: toEpochMs("2017-10-03T12:00:00Z") };
  const k = await c.fetchKlines({ symbol: "ADABTC", interval: "1h", ...range });
  const truth = replica.klines({ marketType: "spot", symbol: "ADABTC", interval: "1h", ...range });
  assertColumnsEqual(k, truth);
  assertEquals(k.gaps, findGaps(truth.openTime, "1h", range));
  assertEquals(gapsText(k.gaps)[0], "2017-09-27T00:00:00.000Z..2017-10-01T00:00:00.000Z");
  const statuses = archiveRequests(replica).map((r) => `${r.file.slice(10, 20)} ${r.status}`);
  assert(statuses.includes("2017-09-30 404") && statuses.includes("2017-10-01 200"));
});

Deno.test("preferMonthly false: daily files only; monthly-only 1M uses monthly files", async () => {
  await using replica = await startReplica({ now: "2024-06-01T00:00:00Z" });
  await using c = client(replica, "um");
  const range = { start: toEpochMs("2024-02-01"), end: toEpochMs("2024-03-01") };
  const k = await c.fetchKlines({
    symbol: "BTCUSDT",
    interval: "4h",
    ...range,
    preferMonthly: false,
  });
  const reqs = archiveRequests(replica);
  assertEquals(reqs.length, 29);
  assert(reqs.every((r) => !r.monthly && r.status === 200));
  assertColumnsEqual(
    k,
    replica.klines({ marketType: "um", symbol: "BTCUSDT", interval: "4h", ...range }),
  );
  assertEquals(k.gaps, []);

  replica.clearLog();
  const monthRange = { start: toEpochMs("2024-01-01"), end: toEpochMs("2024-04-01") };
  const m = await c.fetchKlines({ symbol: "BTCUSDT", interval: "1M", ...monthRange });
  assertEquals(archiveRequests(replica).map((r) => r.file).sort(), [
    "BTCUSDT-1mo-2024-01.zip",
    "BTCUSDT-1mo-2024-02.zip",
    "BTCUSDT-1mo-2024-03.zip",
  ]);
  const mTruth = replica.klines({
    marketType: "um",
    symbol: "BTCUSDT",
    interval: "1M",
    ...monthRange,
  });
  assertColumnsEqual(m, mTruth);
  assertEquals(m.length, 3);
  assertEquals(m.gaps, []);
});

Deno.test("validation fails fast with typed errors naming the value, before any request", async () => {
  await using replica = await startReplica({ now: "2024-06-01T00:00:00Z" });
  await using spot = client(replica, "spot");
  await using um = client(replica, "um");
  const base = {
    symbol: "BTCUSDT",
    interval: "1h" as Interval,
    start: "2024-01-01",
    end: "2024-01-02",
  };
  const sym = await assertRejects(
    () => spot.fetchKlines({ ...base, symbol: "BTC-USDT" }),
    InvalidSymbolError,
  );
  assertEquals(sym.symbol, "BTC-USDT");
  const iv = await assertRejects(
    () => um.fetchKlines({ ...base, interval: "1s" }),
    UnsupportedIntervalError,
  );
  assertEquals(iv.interval, "1s");
  await assertRejects(
    () => spot.fetchKlines({ ...base, interval: "7m" as Interval }),
    UnsupportedIntervalError,
    "7m",
  );
  await assertRejects(
    () => spot.fetchKlines({ ...base, start: "2024-01-02", end: "2024-01-01" }),
    InvalidRangeError,
    "2024-01-02",
  );
  await assertRejects(
    () => spot.fetchKlines({ ...base, start: "2024-07-01", end: "2024-08-01" }),
    InvalidRangeError,
    "future",
  );
  await assertRejects(
    () => spot.fetchKlines({ ...base, start: "not a date" }),
    InvalidRangeError,
    "not a date",
  );
  assertEquals(replica.requests.length, 0);
  assertEquals(spot.resources, {
    httpClient: false,
    openResponses: undefined,
    parsePool: false,
    tempDir: undefined,
  });
});

Deno.test("onArchive sees each archive's rows once; kept ones stay usable, others are freed", async () => {
  await using replica = await startReplica({ now: "2024-04-02T12:00:00Z" });
  await using c = client(replica, "spot", { parseWorkers: 2 });
  const seen: { file: string; rows: number; kept: boolean; openTime: Float64Array }[] = [];
  const range = { start: toEpochMs("2024-01-31"), end: toEpochMs("2024-03-01") };
  const k = await c.fetchKlines({
    symbol: "BTCUSDT",
    interval: "1m",
    ...range,
    onArchive: ({ file, columns }) => {
      const kept = seen.length === 0;
      seen.push({ file, rows: columns.openTime.length, kept, openTime: columns.openTime });
      return kept;
    },
  });
  const truth = replica.klines({ marketType: "spot", symbol: "BTCUSDT", interval: "1m", ...range });
  assertColumnsEqual(k, truth);
  // 01-31's daily and February's monthly file, every row of each.
  assertEquals(seen.map((s) => `${s.file} ${s.rows}`).sort(), [
    "BTCUSDT-1m-2024-01-31.zip 1440",
    "BTCUSDT-1m-2024-02.zip 41760",
  ]);
  // The kept archive's columns are still readable; the other's memory was freed.
  const [kept, freed] = seen;
  assertEquals(kept.openTime.length, kept.rows);
  assertEquals(kept.openTime[0], toEpochMs(kept.rows === 1440 ? "2024-01-31" : "2024-02-01"));
  assertEquals(freed.openTime.length, 0);
});
