import { assert, assertEquals, assertLessOrEqual, assertRejects } from "@std/assert";
import { UnsupportedDataError } from "../src/data_errors.ts";
import { ChecksumMismatchError, ClientClosedError } from "../src/errors.ts";
import { FundingCache } from "../src/funding/cache.ts";
import type { FundingRates } from "../src/funding/funding_rates.ts";
import { DataSource, SOURCE_CODES } from "../src/klines.ts";
import { RestDataClient } from "../src/rest/client.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { type FundingTruth, type Replica, startReplica } from "../testing/mod.ts";
import { managerFor, NOW, tempCacheDir } from "./_manager_helpers.ts";

const JUN = Date.parse("2026-06-01T00:00:00Z");
const SEP = Date.parse("2026-09-01T00:00:00Z");
const NOV = Date.parse("2026-11-01T00:00:00Z");
const Q = { symbol: "BTCUSDT", start: JUN, end: SEP };

function vision(replica: Replica, marketType: "um" | "cm" | "spot" = "um"): VisionDataClient {
  return new VisionDataClient({
    marketType,
    baseUrl: replica.visionUrl,
    now: () => replica.now(),
    maxAttempts: 2,
    retryMinTimeoutMs: 5,
    retryMaxTimeoutMs: 10,
  });
}

function rest(replica: Replica, marketType: "um" | "cm" | "spot" = "um"): RestDataClient {
  return new RestDataClient({ marketType, baseUrl: replica.restUrl, now: () => replica.now() });
}

type Col = "fundingTime" | "fundingRate" | "markPrice" | "intervalHours";

function assertColumn(f: FundingRates, truth: FundingTruth, name: Col, from = 0): void {
  assertEquals(f.length, truth.fundingTime.length, "row count");
  for (let i = from; i < f.length; i++) {
    if (!Object.is(f[name][i], truth[name][i])) {
      throw new Error(
        `${name}[${i}] (t ${truth.fundingTime[i]}): got ${f[name][i]}, want ${truth[name][i]}`,
      );
    }
  }
}

function sources(f: FundingRates): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of f.sources ?? []) out[SOURCE_CODES[c]] = (out[SOURCE_CODES[c]] ?? 0) + 1;
  return out;
}

Deno.test("funding: archive = REST = truth row for row (um); intervals are not one grid", async () => {
  await using replica = await startReplica({ now: NOW });
  const truth = replica.fundingRates({ marketType: "um", ...Q });
  assert(truth.fundingTime.length > 200);
  // The replica's schedule mixes 8 h, 4 h and 1 h months: no fixed grid to assume.
  assert(new Set(truth.intervalHours).size > 1, "several funding intervals in the range");
  await using v = vision(replica);
  const fromArchive = await v.fetchFundingRates(Q);
  for (const c of ["fundingTime", "fundingRate", "intervalHours"] as const) {
    assertColumn(fromArchive, truth, c);
  }
  assert(fromArchive.markPrice.every(Number.isNaN), "the archive carries no mark price");
  assertEquals(fromArchive.gaps, []);
  assertEquals(replica.requests.filter((r) => r.route === "archive").length, 3);

  await using r = rest(replica);
  const fromRest = await r.fetchFundingRates(Q);
  for (const c of ["fundingTime", "fundingRate", "markPrice"] as const) {
    assertColumn(fromRest, truth, c);
  }
  // Derived from the spacing of the rows: all but the first, which has no predecessor.
  assert(Number.isNaN(fromRest.intervalHours[0]));
  assertColumn(fromRest, truth, "intervalHours", 1);
  // Paged forward by startTime, 1000 rows a page.
  const pages = replica.requests.filter((e) => e.route === "fundingRate");
  assertEquals(pages.length, Math.floor(truth.fundingTime.length / 1000) + 1);
  assert(pages.every((p) => /limit=1000/.test(p.query)));
});

Deno.test("funding: COIN-M archive and REST agree (REST has no mark price there)", async () => {
  await using replica = await startReplica({ now: NOW });
  const q = { symbol: "BTCUSD_PERP", start: JUN, end: Date.parse("2026-07-01T00:00:00Z") };
  const truth = replica.fundingRates({ marketType: "cm", ...q });
  await using v = vision(replica, "cm");
  await using r = rest(replica, "cm");
  const a = await v.fetchFundingRates(q);
  const b = await r.fetchFundingRates(q);
  for (const c of ["fundingTime", "fundingRate"] as const) {
    assertColumn(a, truth, c);
    assertColumn(b, truth, c);
  }
  assertColumn(a, truth, "intervalHours");
  assert(b.markPrice.every(Number.isNaN));
});

Deno.test("funding via the manager: archive months, REST for the unpublished one, then the cache", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  const q = { symbol: "BTCUSDT", start: SEP, end: NOW };
  const truth = replica.fundingRates({ marketType: "um", ...q });
  {
    await using m = managerFor(replica, dir.path, { marketType: "um" });
    const f = await m.getFundingRates(q);
    for (const c of ["fundingTime", "fundingRate", "intervalHours"] as const) {
      assertColumn(f, truth, c);
    }
    // September and October come from their archives, November (not published) from REST.
    const nov = f.between(NOV, NOW);
    assertEquals(sources(f), { vision: f.length - nov.length, rest: nov.length });
    assertColumn(nov, replica.fundingRates({ marketType: "um", ...q, start: NOV }), "markPrice");
    assertEquals(f.gaps, []);
    assertEquals(m.getCacheStats(), { hits: 0, misses: 2, errors: 0, writes: 2 });
  }
  const cache = new FundingCache({ dir: dir.path });
  assert(
    cache.pathFor({ marketType: "um", symbol: "BTCUSDT", month: "2026-09" })
      .endsWith("futures/um/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2026-09.bin"),
  );
  replica.clearLog();
  await using m = managerFor(replica, dir.path, { marketType: "um" });
  const again = await m.getFundingRates(q);
  for (const c of ["fundingTime", "fundingRate", "intervalHours"] as const) {
    assertColumn(again, truth, c);
  }
  assertEquals(m.getCacheStats(), { hits: 2, misses: 0, errors: 0, writes: 0 });
  // Only the open month is asked again, and only of REST.
  assertEquals(replica.requests.filter((r) => r.route === "archive").length, 0);
  assertEquals(replica.requests.filter((r) => r.route === "fundingRate").length, 1);
});

Deno.test("funding gaps are exact: months before listing, whatever sources are asked", async () => {
  await using replica = await startReplica({ now: NOW });
  // ETHUSDT (um) lists 2019-11-27: nothing in September and October, in any source.
  const q = {
    symbol: "ETHUSDT",
    start: Date.parse("2019-09-15T00:00:00Z"),
    end: Date.parse("2019-12-10T00:00:00Z"),
  };
  const truth = replica.fundingRates({ marketType: "um", ...q });
  const gap = [{ start: q.start, end: Date.parse("2019-11-01T00:00:00Z") }];
  for (const enforceSource of [DataSource.AUTO, DataSource.VISION, DataSource.REST]) {
    await using m = managerFor(replica, "", { marketType: "um", useCache: false });
    const f = await m.getFundingRates({ ...q, enforceSource });
    assertColumn(f, truth, "fundingTime");
    assertColumn(f, truth, "fundingRate");
    assertEquals(f.gaps, gap, enforceSource);
  }
  // An unpublished month asked of the archive alone is a gap too.
  await using v = vision(replica);
  const f = await v.fetchFundingRates({ symbol: "BTCUSDT", start: NOV, end: NOW });
  assertEquals(f.length, 0);
  assertEquals(f.gaps, [{ start: NOV, end: NOW }]);
});

Deno.test("funding: a checksum mismatch is a typed error; a corrupt cache file is refetched", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/data/futures/um/monthly/fundingRate/*", kind: "badChecksum" }],
  });
  await using v = vision(replica);
  await assertRejects(() => v.fetchFundingRates(Q), ChecksumMismatchError);
  replica.setFaults([]);
  await using dir = await tempCacheDir();
  await using m = managerFor(replica, dir.path, { marketType: "um" });
  const q = { symbol: "BTCUSDT", start: JUN, end: Date.parse("2026-07-01T00:00:00Z") };
  await m.getFundingRates(q);
  const path = new FundingCache({ dir: dir.path }).pathFor({
    marketType: "um",
    symbol: "BTCUSDT",
    month: "2026-06",
  });
  const bytes = await Deno.readFile(path);
  bytes[bytes.length - 3] ^= 0xff;
  await Deno.writeFile(path, bytes);
  const f = await m.getFundingRates(q);
  assertColumn(f, replica.fundingRates({ marketType: "um", ...q }), "fundingRate");
  assertEquals(m.getCacheStats(), { hits: 0, misses: 1, errors: 1, writes: 2 });
});

Deno.test("funding on spot is a typed error naming what spot offers", async () => {
  await using replica = await startReplica({ now: NOW });
  await using v = vision(replica, "spot");
  await using r = rest(replica, "spot");
  await using m = managerFor(replica, "", { useCache: false });
  for (
    const call of [
      () => v.fetchFundingRates(Q),
      () => r.fetchFundingRates(Q),
      () => m.getFundingRates(Q),
    ]
  ) {
    const err = await assertRejects(call, UnsupportedDataError);
    assertEquals(
      err.message,
      'data type "funding" is not offered on spot; allowed: klines, aggTrades',
    );
  }
  assertEquals(replica.requests.length, 0);
});

Deno.test("dispose during a stalled funding download settles within budget", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{
      match: "/data/futures/um/monthly/fundingRate/*.zip",
      kind: "stallBody",
      afterBytes: 32,
    }],
  });
  await using dir = await tempCacheDir();
  const BUDGET = 500;
  const m = managerFor(replica, dir.path, { marketType: "um", disposeTimeoutMs: BUDGET });
  const pending = assertRejects(() => m.getFundingRates(Q), ClientClosedError);
  await replica.waitFor((e) => e.route === "archive" && e.state === "stalled");
  const t0 = performance.now();
  await m[Symbol.asyncDispose]().catch(() => {});
  assertLessOrEqual(performance.now() - t0, BUDGET + 250);
  await pending;
  await replica.waitFor((e) => e.route === "archive" && e.aborted);
  const left = [...Deno.readDirSync(dir.path)].map((e) => e.name);
  assertEquals(left, [], "nothing half-written in the cache");
});

Deno.test("funding and aggTrades REST: weights accounted, injected 5xx retried", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/fapi/v1/fundingRate", kind: "status", status: 503, times: 1 }],
  });
  await using r = new RestDataClient({
    marketType: "um",
    baseUrl: replica.restUrl,
    now: () => replica.now(),
    retryMinTimeoutMs: 5,
    retryMaxTimeoutMs: 10,
  });
  const q = { symbol: "BTCUSDT", start: JUN, end: Date.parse("2026-06-10T00:00:00Z") };
  const f = await r.fetchFundingRates(q);
  assertColumn(f, replica.fundingRates({ marketType: "um", ...q }), "fundingRate");
  const funding = replica.requests.filter((e) => e.route === "fundingRate");
  assertEquals(funding.map((e) => e.status), [503, 200]);
  assertEquals(funding[1].weight, 1);
  await r.fetchAggTrades({ symbol: "BTCUSDT", start: JUN, end: JUN + 60_000 });
  const agg = replica.requests.filter((e) => e.route === "aggTrades");
  assert(agg.length > 0 && agg.every((e) => e.weight === 20 && e.status === 200));
  assertEquals(r.stats.lastUsedWeight, 1 + 20 * agg.length);
});
