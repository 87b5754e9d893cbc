import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { KlineCache } from "../src/cache/mod.ts";
import { UnsupportedDataError } from "../src/data_errors.ts";
import { ChecksumMismatchError } from "../src/errors.ts";
import type { KlineKind } from "../src/kline_kind.ts";
import { DataSource } from "../src/klines.ts";
import { RestDataClient } from "../src/rest/client.ts";
import { DAY_MS } from "../src/time.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { type Replica, startReplica } from "../testing/mod.ts";
import { assertColumnsEqual } from "./_helpers.ts";
import { managerFor, NOW, sourceCounts, tempCacheDir } from "./_manager_helpers.ts";

const DAY = Date.parse("2026-10-10T00:00:00Z");
const Q = { interval: "1h" as const, start: DAY, end: DAY + 3 * DAY_MS };

function clients(replica: Replica, marketType: "um" | "cm" | "spot") {
  return {
    vision: new VisionDataClient({
      marketType,
      baseUrl: replica.visionUrl,
      now: () => replica.now(),
      maxAttempts: 2,
      retryMinTimeoutMs: 5,
      retryMaxTimeoutMs: 10,
      parseWorkers: 1,
    }),
    rest: new RestDataClient({ marketType, baseUrl: replica.restUrl, now: () => replica.now() }),
  };
}

const CASES: { market: "um" | "cm"; symbol: string; kind: KlineKind; dir: string; rest: string }[] =
  [
    {
      market: "um",
      symbol: "BTCUSDT",
      kind: "mark",
      dir: "markPriceKlines/BTCUSDT",
      rest: "/fapi/v1/markPriceKlines?symbol=BTCUSDT",
    },
    {
      market: "um",
      symbol: "BTCUSDT",
      kind: "index",
      dir: "indexPriceKlines/BTCUSDT",
      rest: "/fapi/v1/indexPriceKlines?pair=BTCUSDT",
    },
    {
      market: "um",
      symbol: "BTCUSDT",
      kind: "premium",
      dir: "premiumIndexKlines/BTCUSDT",
      rest: "/fapi/v1/premiumIndexKlines?symbol=BTCUSDT",
    },
    // COIN-M index price klines belong to the pair: ETHUSD, not ETHUSD_PERP.
    {
      market: "cm",
      symbol: "ETHUSD_PERP",
      kind: "index",
      dir: "indexPriceKlines/ETHUSD",
      rest: "/dapi/v1/indexPriceKlines?pair=ETHUSD",
    },
    {
      market: "cm",
      symbol: "ETHUSD_PERP",
      kind: "mark",
      dir: "markPriceKlines/ETHUSD_PERP",
      rest: "/dapi/v1/markPriceKlines?symbol=ETHUSD_PERP",
    },
  ];

for (const c of CASES) {
  Deno.test(`${c.market} ${c.kind} klines: archive = REST = truth, from their own paths`, async () => {
    await using replica = await startReplica({ now: NOW });
    const { vision, rest } = clients(replica, c.market);
    await using _v = vision;
    await using _r = rest;
    const q = { ...Q, symbol: c.symbol, kind: c.kind };
    const truth = replica.klines({ marketType: c.market, ...q });
    assertEquals(truth.openTime.length, 72);
    const trades = replica.klines({ marketType: c.market, ...Q, symbol: c.symbol });
    assertNotEquals(truth.close[0], trades.close[0], "the kind is not the trade price");
    const a = await vision.fetchKlines(q);
    assertColumnsEqual(a, truth, "archive");
    assertEquals(a.gaps, []);
    const b = await rest.fetchKlines(q);
    assertColumnsEqual(b, truth, "REST");
    const paths = replica.requests.map((r) => r.path + (r.query ? "?" + r.query : ""));
    assert(paths.some((p) => p.includes(`/daily/${c.dir}/1h/`)), paths.join("\n"));
    assert(paths.some((p) => p.startsWith(c.rest)), paths.join("\n"));
  });
}

Deno.test("kinds through the manager: cached under their own path, a hit the second time", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  const q = { symbol: "BTCUSDT", ...Q, kind: "mark" as const };
  const truth = replica.klines({ marketType: "um", ...q });
  {
    await using m = managerFor(replica, dir.path, { marketType: "um" });
    const k = await m.getData(q);
    assertColumnsEqual(k, truth);
    assertEquals(m.getCacheStats(), { hits: 0, misses: 3, errors: 0, writes: 3 });
    // Trade klines of the same days are a different file: not a hit.
    const t = await m.getData({ ...q, kind: undefined });
    assertColumnsEqual(t, replica.klines({ marketType: "um", ...Q, symbol: "BTCUSDT" }));
    assertEquals(m.getCacheStats(), { hits: 0, misses: 6, errors: 0, writes: 6 });
  }
  const cache = new KlineCache({ dir: dir.path });
  const key = {
    marketType: "um" as const,
    symbol: "BTCUSDT",
    interval: "1h" as const,
    day: "2026-10-10",
  };
  assert(
    cache.pathFor({ ...key, kind: "mark" }).endsWith(
      "futures/um/markPriceKlines/BTCUSDT/1h/BTCUSDT-1h-2026-10-10.arrow",
    ),
  );
  // The trade-kline path is unchanged, with or without an explicit kind.
  assert(cache.pathFor(key).endsWith("futures/um/klines/BTCUSDT/1h/BTCUSDT-1h-2026-10-10.arrow"));
  assertEquals(cache.pathFor({ ...key, kind: "trades" }), cache.pathFor(key));
  replica.clearLog();
  await using m = managerFor(replica, dir.path, { marketType: "um" });
  const k = await m.getData({ ...q, enforceSource: DataSource.AUTO });
  assertColumnsEqual(k, truth);
  assertEquals(sourceCounts(k), { cache: 72 });
  assertEquals(m.getCacheStats(), { hits: 3, misses: 0, errors: 0, writes: 0 });
  assertEquals(replica.requests.length, 0);
});

Deno.test("a kind archive with a bad checksum is a typed error", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/data/futures/um/daily/premiumIndexKlines/*", kind: "badChecksum" }],
  });
  const { vision, rest } = clients(replica, "um");
  await using _v = vision;
  await using _r = rest;
  await assertRejects(
    () => vision.fetchKlines({ ...Q, symbol: "BTCUSDT", kind: "premium" }),
    ChecksumMismatchError,
  );
  // Trade klines of the same days are untouched by the fault.
  const t = await vision.fetchKlines({ ...Q, symbol: "BTCUSDT" });
  assertEquals(t.length, 72);
});

Deno.test("kinds on spot are typed errors naming what is allowed", async () => {
  await using replica = await startReplica({ now: NOW });
  const { vision, rest } = clients(replica, "spot");
  await using _v = vision;
  await using _r = rest;
  await using m = managerFor(replica, "", { useCache: false });
  const q = { ...Q, symbol: "BTCUSDT", kind: "index" as const };
  for (const call of [() => vision.fetchKlines(q), () => rest.fetchKlines(q), () => m.getData(q)]) {
    const err = await assertRejects(call, UnsupportedDataError);
    assertEquals(err.message, 'kline kind "index" is not offered on spot; allowed: trades');
  }
  const bogus = { ...q, kind: "last" as unknown as KlineKind };
  const { vision: v2 } = clients(replica, "um");
  await using _v2 = v2;
  const err = await assertRejects(() => v2.fetchKlines(bogus), UnsupportedDataError);
  assertEquals(
    err.message,
    'kline kind "last" is not offered on um; allowed: trades, mark, index, premium',
  );
  assertEquals(replica.requests.length, 0);
  // The replica, like Binance, has no such archive or endpoint on spot.
  const res = await fetch(
    `${replica.visionUrl}/data/spot/daily/indexPriceKlines/BTCUSDT/1h/BTCUSDT-1h-2026-10-10.zip`,
  );
  await res.body?.cancel();
  assertEquals(res.status, 404);
  const api = await fetch(`${replica.restUrl}/api/v3/markPriceKlines?symbol=BTCUSDT&interval=1h`);
  await api.body?.cancel();
  assertEquals(api.status, 404);
});
