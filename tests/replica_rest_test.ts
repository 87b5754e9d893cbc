// Replica REST API: pagination agrees with the Vision archive row for row; Binance's parameter
// semantics, errors, live candle, exchangeInfo, weights and 429 → 418 rate limiting.
import { assert, assertEquals, assertGreater, assertMatch } from "@std/assert";
import zlib from "node:zlib";
import { parseKlineCsv } from "../src/vision/csv_parser.ts";
import { startReplica } from "../testing/mod.ts";

const decoder = new TextDecoder();
type Row = [
  number,
  string,
  string,
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  string,
  string,
];

function unzipCsv(zip: Uint8Array): string {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const csize = v.getUint32(18, true);
  const start = 30 + v.getUint16(26, true) + v.getUint16(28, true);
  return decoder.decode(zlib.inflateRawSync(zip.subarray(start, start + csize)));
}

async function getJson(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

const NOW = Date.UTC(2024, 2, 1, 12, 30, 30); // 2024-03-01T12:30:30Z
const DAY = Date.UTC(2024, 1, 10);
const DAY_MS = 86_400_000;

Deno.test("REST pagination over a day returns exactly the Vision rows (spot, um forward; cm backward)", async () => {
  await using replica = await startReplica({ now: NOW });
  const cases = [
    { market: "spot", folder: "spot", path: "/api/v3/klines", symbol: "BTCUSDT", limit: 1000 },
    { market: "um", folder: "futures/um", path: "/fapi/v1/klines", symbol: "ETHUSDT", limit: 1500 },
    {
      market: "cm",
      folder: "futures/cm",
      path: "/dapi/v1/klines",
      symbol: "BTCUSD_PERP",
      limit: 1000,
    },
  ] as const;
  for (const c of cases) {
    const name = `${c.symbol}-1m-2024-02-10`;
    const zip = await fetch(
      `${replica.visionUrl}/data/${c.folder}/daily/klines/${c.symbol}/1m/${name}.zip`,
    );
    const lines = unzipCsv(new Uint8Array(await zip.arrayBuffer())).split("\n")
      .filter((l) => /^\d/.test(l));
    assertEquals(lines.length, 1440);
    const rows: Row[] = [];
    if (c.market === "cm") {
      // COIN-M answers the most recent `limit` rows before endTime: walk backwards.
      let end = DAY + DAY_MS - 1;
      while (true) {
        const url =
          `${replica.restUrl}${c.path}?symbol=${c.symbol}&interval=1m&startTime=${DAY}&endTime=${end}&limit=${c.limit}`;
        const page = (await getJson(url)).body as Row[];
        if (page.length === 0) break;
        rows.unshift(...page);
        end = page[0][0] - 1;
        if (end < DAY) break;
      }
    } else {
      let start = DAY;
      while (true) {
        const url =
          `${replica.restUrl}${c.path}?symbol=${c.symbol}&interval=1m&startTime=${start}&endTime=${
            DAY + DAY_MS - 1
          }&limit=${c.limit}`;
        const page = (await getJson(url)).body as Row[];
        if (page.length === 0) break;
        rows.push(...page);
        start = page[page.length - 1][0] + 1;
      }
    }
    assertEquals(rows.length, 1440, c.market);
    assertEquals(rows.map((r) => r.join(",")), lines, c.market);
  }
});

Deno.test("REST (ms) agrees with a 2025 spot archive written in microseconds", async () => {
  await using replica = await startReplica({ now: "2025-02-01T00:00:00Z" });
  const day = Date.UTC(2025, 0, 5);
  const csv = replica.csvFor({
    marketType: "spot",
    symbol: "ETHUSDT",
    interval: "15m",
    period: "2025-01-05",
  })!;
  const vision = parseKlineCsv(csv);
  assertEquals(vision.openTime.length, 96);
  const res = await fetch(
    `${replica.restUrl}/api/v3/klines?symbol=ETHUSDT&interval=15m&startTime=${day}&endTime=${
      day + DAY_MS - 1
    }&limit=1000`,
  );
  const rows = await res.json() as Row[];
  assertEquals(rows.length, 96);
  rows.forEach((r, i) => {
    assertEquals(r[0], vision.openTime[i]);
    assertEquals(r[6], vision.closeTime[i]);
    assertEquals(Number(r[4]), vision.close[i]);
    assertEquals(Number(r[7]), vision.quoteVolume[i]);
  });
  const truth = replica.klines({
    marketType: "spot",
    symbol: "ETHUSDT",
    interval: "15m",
    start: day,
    end: day + DAY_MS,
  });
  assertEquals(truth, vision);
});

Deno.test("REST rows have Binance's mixed string/number shape and microsecond mode", async () => {
  await using replica = await startReplica({ now: NOW });
  const url =
    `${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${DAY}&limit=2`;
  const { body, headers } = await getJson(url);
  assertEquals(headers.get("content-type"), "application/json;charset=UTF-8");
  const rows = body as Row[];
  assertEquals(rows.length, 2);
  for (const r of rows) {
    assertEquals(r.length, 12);
    assertEquals([0, 6, 8].map((i) => typeof r[i]), ["number", "number", "number"]);
    for (const i of [1, 2, 3, 4, 5, 7, 9, 10, 11]) assertEquals(typeof r[i], "string");
    assertMatch(r[1], /^\d+\.\d{8}$/);
    assertEquals(r[6], r[0] + 3_599_999);
  }
  const res = await fetch(url, { headers: { "X-MBX-TIME-UNIT": "MICROSECOND" } });
  const us = await res.json() as Row[];
  assertEquals(us[0][0], rows[0][0] * 1000);
  assertEquals(us[0][6], rows[0][6] * 1000 + 999);
  assertEquals(us[0].slice(1, 6), rows[0].slice(1, 6));
});

Deno.test("REST window semantics: start only, end only, neither, listing date, limits", async () => {
  await using replica = await startReplica({ now: NOW });
  const base = `${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1d`;
  // Start only: oldest first from startTime; default limit 500.
  const fromStart = (await getJson(`${base}&startTime=${DAY}`)).body as Row[];
  assertEquals(fromStart[0][0], DAY);
  // Default limit is 500, but only the days up to now exist (and the live one).
  const daysToNow = Math.floor((NOW - DAY) / DAY_MS) + 1;
  assertEquals(fromStart.length, daysToNow);
  // End only: the most recent `limit` with open time <= endTime.
  const endOnly = (await getJson(`${base}&endTime=${DAY}&limit=3`)).body as Row[];
  assertEquals(endOnly.map((r) => r[0]), [DAY - 2 * DAY_MS, DAY - DAY_MS, DAY]);
  // Neither: the most recent candles, the live one last (close time in the future).
  const latest = (await getJson(`${base}&limit=2`)).body as Row[];
  assertEquals(latest[1][0], Date.UTC(2024, 2, 1));
  assertGreater(latest[1][6], NOW);
  // Before the listing (2017-08-17T04:00Z): rows begin at the listing day's candle.
  const early = (await getJson(`${base}&startTime=0&limit=2`)).body as Row[];
  assertEquals(early[0][0], Date.UTC(2017, 7, 17));
  const early1m = (await getJson(
    `${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=0&limit=1`,
  )).body as Row[];
  assertEquals(early1m[0][0], Date.UTC(2017, 7, 17, 4));
  assertEquals((await getJson(`${base}&endTime=${Date.UTC(2017, 0, 1)}`)).body, []);
  // Limits: spot max 1000, futures 1500.
  const spot1000 = (await getJson(
    `${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${DAY}&limit=1000`,
  )).body as Row[];
  assertEquals(spot1000.length, 1000);
  const um1500 = (await getJson(
    `${replica.restUrl}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${DAY}&limit=1500`,
  )).body as Row[];
  assertEquals(um1500.length, 1500);
  // Monthly candles.
  const months = (await getJson(
    `${replica.restUrl}/fapi/v1/klines?symbol=BTCUSDT&interval=1M&startTime=${
      Date.UTC(2023, 10, 1)
    }&limit=3`,
  )).body as Row[];
  assertEquals(months.map((r) => r[0]), [
    Date.UTC(2023, 10, 1),
    Date.UTC(2023, 11, 1),
    Date.UTC(2024, 0, 1),
  ]);
  assertEquals(months[0][6], Date.UTC(2023, 11, 1) - 1);
});

Deno.test("REST never returns candles after now; the live candle is deterministic and not in the truth", async () => {
  await using replica = await startReplica({ now: NOW });
  const url = `${replica.restUrl}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=${
    NOW - 120_000
  }&endTime=${NOW + 3_600_000}`;
  const a = (await getJson(url)).body as Row[];
  const b = (await getJson(url)).body as Row[];
  assertEquals(a, b);
  // Opens at 12:29 (closed) and 12:30 (live, contains now = 12:30:30).
  assertEquals(a.length, 2);
  const live = a[1];
  assertEquals(live[0], NOW - 30_000);
  assertGreater(live[6], NOW);
  const truth = replica.klines({
    marketType: "um",
    symbol: "BTCUSDT",
    interval: "1m",
    start: NOW - 120_000,
    end: NOW + 3_600_000,
  });
  assertEquals([...truth.openTime], [a[0][0]]);
  // The closed row equals the truth.
  assertEquals(truth.close[0], Number(a[0][4]));
  assertEquals(truth.volume[0], Number(a[0][5]));
  // The live candle's volume is a fraction of a full one; it changes as now moves.
  replica.setNow(NOW + 15_000);
  const later = (await getJson(url)).body as Row[];
  assertEquals(later[0], a[0]);
  assertEquals(later[1][0], live[0]);
  assertGreater(Number(later[1][5]), Number(live[5]));
  // COIN-M: the most recent `limit` between start and end.
  const cm = (await getJson(
    `${replica.restUrl}/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1h&startTime=${DAY}&endTime=${
      DAY + DAY_MS - 1
    }&limit=5`,
  )).body as Row[];
  assertEquals(cm.map((r) => r[0]), [19, 20, 21, 22, 23].map((h) => DAY + h * 3_600_000));
});

Deno.test("REST errors: {code,msg} with HTTP 400", async () => {
  await using replica = await startReplica({ now: NOW });
  const r = replica.restUrl;
  const cases: [string, number][] = [
    [`${r}/api/v3/klines?symbol=NOPEUSDT&interval=1m`, -1121],
    [`${r}/fapi/v1/klines?symbol=ADABTC&interval=1m`, -1121],
    [`${r}/api/v3/klines?symbol=BTCUSDT&interval=2m`, -1120],
    [`${r}/fapi/v1/klines?symbol=BTCUSDT&interval=1s`, -1120],
    [`${r}/api/v3/klines?symbol=BTCUSDT&interval=1mo`, -1120],
    [`${r}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1001`, -1130],
    [`${r}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=1501`, -1130],
    [`${r}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=0`, -1130],
    [`${r}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=abc`, -1130],
    [`${r}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=2&endTime=1`, -1023],
    [
      `${r}/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1d&startTime=0&endTime=${201 * DAY_MS}`,
      -1127,
    ],
    [`${r}/api/v3/klines?interval=1m`, -1102],
    [`${r}/api/v3/klines?symbol=BTCUSDT`, -1102],
  ];
  for (const [url, code] of cases) {
    const { status, body } = await getJson(url);
    assertEquals(status, 400, url);
    assertEquals((body as { code: number }).code, code, url);
    assert(
      typeof (body as { msg: string }).msg === "string" && (body as { msg: string }).msg.length > 0,
    );
  }
  // Spot with start > end answers an empty array.
  assertEquals(
    (await getJson(`${r}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=2&endTime=1`)).body,
    [],
  );
  // 1s exists on spot.
  const s =
    (await getJson(`${r}/api/v3/klines?symbol=BTCUSDT&interval=1s&startTime=${DAY}&limit=3`))
      .body as Row[];
  assertEquals(s.map((x) => x[0]), [DAY, DAY + 1000, DAY + 2000]);
});

Deno.test("exchangeInfo lists the configured symbols with the fields clients validate", async () => {
  await using replica = await startReplica({
    now: NOW,
    symbols: [
      { symbol: "BTCUSDT", marketType: "spot", listedAt: "2017-08-17T04:00:00Z" },
      { symbol: "OLDUSDT", marketType: "spot", listedAt: "2018-01-01", delistedAt: "2020-01-01" },
      { symbol: "BTCUSDT", marketType: "um", listedAt: "2019-09-08" },
      { symbol: "BTCUSD_PERP", marketType: "cm", listedAt: "2020-08-10" },
    ],
  });
  const spot = (await getJson(`${replica.restUrl}/api/v3/exchangeInfo`)).body as {
    symbols: { symbol: string; status: string; baseAsset: string; quoteAsset: string }[];
    rateLimits: { limit: number }[];
  };
  assertEquals(spot.symbols.map((s) => [s.symbol, s.status, s.baseAsset, s.quoteAsset]), [
    ["BTCUSDT", "TRADING", "BTC", "USDT"],
    ["OLDUSDT", "BREAK", "OLD", "USDT"],
  ]);
  assertEquals(spot.rateLimits[0].limit, 6000);
  const one = await getJson(`${replica.restUrl}/api/v3/exchangeInfo?symbol=BTCUSDT`);
  assertEquals((one.body as { symbols: unknown[] }).symbols.length, 1);
  assertEquals((await getJson(`${replica.restUrl}/api/v3/exchangeInfo?symbol=NOPE`)).status, 400);
  const um = (await getJson(`${replica.restUrl}/fapi/v1/exchangeInfo`)).body as {
    symbols: { symbol: string; status: string; contractType: string; onboardDate: number }[];
  };
  assertEquals(um.symbols[0].symbol, "BTCUSDT");
  assertEquals(um.symbols[0].status, "TRADING");
  assertEquals(um.symbols[0].contractType, "PERPETUAL");
  assertEquals(um.symbols[0].onboardDate, Date.UTC(2019, 8, 8));
  const cm = (await getJson(`${replica.restUrl}/dapi/v1/exchangeInfo`)).body as {
    symbols: { symbol: string; contractStatus: string; baseAsset: string; quoteAsset: string }[];
  };
  assertEquals(
    [
      cm.symbols[0].symbol,
      cm.symbols[0].contractStatus,
      cm.symbols[0].baseAsset,
      cm.symbols[0].quoteAsset,
    ],
    ["BTCUSD_PERP", "TRADING", "BTC", "USD"],
  );
});

Deno.test("weight header increments per market weight; over budget 429 + Retry-After, then 418", async () => {
  let t = 0;
  await using replica = await startReplica({
    now: NOW,
    weightLimitPerMinute: { spot: 6, um: 20 },
    rateLimit: { clock: () => t, banMs: 120_000 },
  });
  const spotUrl = `${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1`;
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(spotUrl);
    await res.body?.cancel();
    assertEquals(res.status, 200);
    seen.push(res.headers.get("x-mbx-used-weight-1m")!);
  }
  assertEquals(seen, ["2", "4", "6"]);
  t = 10_000;
  const over = await fetch(spotUrl);
  assertEquals(over.status, 429);
  assertEquals(over.headers.get("retry-after"), "50"); // the first request leaves the window at 60 s
  assertEquals((await over.json()).code, -1003);
  // Still sending inside the 429 window: banned.
  t = 11_000;
  const banned = await fetch(spotUrl);
  assertEquals(banned.status, 418);
  assertEquals(banned.headers.get("retry-after"), "120");
  assertEquals((await banned.json()).code, -1003);
  t = 100_000;
  const stillBanned = await fetch(spotUrl);
  assertEquals(stillBanned.status, 418);
  assertEquals(stillBanned.headers.get("retry-after"), "31");
  await stillBanned.body?.cancel();
  // USD-M weights are tiered by limit and accounted separately from spot.
  const weights: string[] = [];
  for (const limit of [99, 100, 1000, 1001]) {
    const res = await fetch(
      `${replica.restUrl}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=${limit}`,
    );
    await res.body?.cancel();
    weights.push(res.headers.get("x-mbx-used-weight-1m")!);
  }
  assertEquals(weights, ["1", "3", "8", "18"]);
  assertEquals(replica.usedWeight("um"), 18);
  // After the window slides and the ban ends, spot serves again.
  t = 1_000_000;
  const ok = await fetch(spotUrl);
  await ok.body?.cancel();
  assertEquals(ok.status, 200);
  assertEquals(ok.headers.get("x-mbx-used-weight-1m"), "2");
  replica.resetRateLimits();
  assertEquals(replica.usedWeight("spot"), 0);
  assertEquals(
    replica.requests.filter((e) => e.route === "klines").map((e) => e.status).slice(0, 6),
    [
      200,
      200,
      200,
      429,
      418,
      418,
    ],
  );
});
