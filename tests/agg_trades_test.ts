import { assert, assertEquals, assertLessOrEqual, assertRejects, assertThrows } from "@std/assert";
import { join } from "@std/path";
import { tableFromIPC } from "apache-arrow";
import { parquetReadObjects } from "hyparquet";
import { parseAggTradesCsv } from "../src/agg_trades/_csv.ts";
import { AGG_TRADE_NUMERIC, type AggTradeColumns } from "../src/agg_trades/columns.ts";
import { writeAggTrades } from "../src/agg_trades/export.ts";
import { AggTradesTooLargeError } from "../src/agg_trades/options.ts";
import { ArchiveError, ChecksumMismatchError, ClientClosedError } from "../src/errors.ts";
import { RestDataClient } from "../src/rest/client.ts";
import { DAY_MS } from "../src/time.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { extractSingleCsvSync } from "../src/vision/zip.ts";
import { type Replica, startReplica } from "../testing/mod.ts";
import { NOW } from "./_manager_helpers.ts";

const DAY = Date.parse("2026-10-10T00:00:00Z");
const H = 3_600_000;

function vision(replica: Replica, marketType: "spot" | "um" | "cm", budget = 5000) {
  return new VisionDataClient({
    marketType,
    baseUrl: replica.visionUrl,
    now: () => replica.now(),
    maxAttempts: 2,
    retryMinTimeoutMs: 5,
    retryMaxTimeoutMs: 10,
    disposeTimeoutMs: budget,
  });
}

function rest(replica: Replica, marketType: "spot" | "um" | "cm") {
  return new RestDataClient({ marketType, baseUrl: replica.restUrl, now: () => replica.now() });
}

function assertAggEqual(got: AggTradeColumns, want: AggTradeColumns, label: string): void {
  assertEquals(got.aggTradeId.length, want.aggTradeId.length, `${label}: rows`);
  for (const k of AGG_TRADE_NUMERIC) {
    for (let i = 0; i < want[k].length; i++) {
      if (!Object.is(got[k][i], want[k][i])) {
        throw new Error(`${label}: ${k}[${i}]: got ${got[k][i]}, want ${want[k][i]}`);
      }
    }
  }
  assertEquals(got.isBuyerMaker, want.isBuyerMaker, `${label}: isBuyerMaker`);
}

for (
  const [market, symbol] of [["spot", "BTCUSDT"], ["um", "BTCUSDT"], ["cm", "BTCUSD_PERP"]] as const
) {
  Deno.test(`aggTrades ${market}: archive = REST = truth on an overlapping hour`, async () => {
    await using replica = await startReplica({ now: NOW });
    await using v = vision(replica, market);
    await using r = rest(replica, market);
    const day = { symbol, start: DAY, end: DAY + DAY_MS };
    const truth = replica.aggTrades({ marketType: market, ...day });
    assert(truth.aggTradeId.length > 10_000);
    const a = await v.fetchAggTrades(day);
    assertAggEqual(a, truth, "archive");
    const hour = { symbol, start: DAY + 5 * H + 123, end: DAY + 6 * H + 456 };
    const hourTruth = replica.aggTrades({ marketType: market, ...hour });
    const b = await r.fetchAggTrades(hour);
    assertAggEqual(b, hourTruth, "REST");
    // Paged: a one-hour window first, then by fromId.
    const pages = replica.requests.filter((e) => e.route === "aggTrades");
    assertEquals(pages.length, Math.floor(hourTruth.aggTradeId.length / 1000) + 1);
    assert(pages[0].query.includes("startTime=") && pages.at(-1)!.query.includes("fromId="));
  });
}

Deno.test("aggTrades: spot archives from 2025 carry µs, the columns hold ms", async () => {
  await using replica = await startReplica({ now: NOW });
  const path = "data/spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2026-10-10.zip";
  const res = await fetch(`${replica.visionUrl}/${path}`);
  const zip = new Uint8Array(await res.arrayBuffer());
  const csv = new TextDecoder().decode(extractSingleCsvSync(zip));
  const firstTime = Number(csv.split("\n")[0].split(",")[5]);
  assert(firstTime >= 1e15, "µs in the file");
  await using v = vision(replica, "spot");
  const got = await v.fetchAggTrades({ symbol: "BTCUSDT", start: DAY, end: DAY + H });
  assertEquals(got.transactTime[0], Math.floor(firstTime / 1000));
  assert(got.transactTime.every((t) => t < 1e14));
});

Deno.test("aggTrades CSV: header or not, best-match column or not, bad rows name the line", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const spot = parseAggTradesCsv(enc("7,1.5,2,10,11,1735689600123456,True,True\n"), "a.csv");
  assertEquals([spot.aggTradeId[0], spot.price[0], spot.transactTime[0], spot.isBuyerMaker[0]], [
    7,
    1.5,
    1735689600123,
    1,
  ]);
  const fut = parseAggTradesCsv(
    enc(
      "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\r\n" +
        "8,0.1,3,12,12,1704067200000,false\r\n",
    ),
    "b.csv",
  );
  assertEquals([fut.aggTradeId[0], fut.price[0], fut.isBuyerMaker[0]], [8, 0.1, 0]);
  const err = assertThrows(
    () => parseAggTradesCsv(enc("1,1,1,1,1,1,True\n2,x,1,1,1,1,True\n"), "c.csv"),
    ArchiveError,
  );
  assertEquals(err.line, 2);
});

Deno.test("aggTrades: a checksum mismatch is a typed error; fetch past maxRows says stream", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/data/spot/daily/aggTrades/*", kind: "badChecksum" }],
  });
  await using v = vision(replica, "spot");
  const q = { symbol: "BTCUSDT", start: DAY, end: DAY + H };
  await assertRejects(() => v.fetchAggTrades(q), ChecksumMismatchError);
  replica.setFaults([]);
  const err = await assertRejects(
    () => v.fetchAggTrades({ ...q, maxRows: 100 }),
    AggTradesTooLargeError,
  );
  assert(err.message.includes("streamAggTrades"));
});

Deno.test("aggTrades stream to CSV, Arrow and Parquet: every row, one chunk at a time", async () => {
  await using replica = await startReplica({ now: NOW });
  await using v = vision(replica, "um");
  const dir = await Deno.makeTempDir({ prefix: "vd-agg-" });
  try {
    const q = { symbol: "BTCUSDT", start: DAY + 12 * H, end: DAY + 36 * H, chunkRows: 30_000 };
    const truth = replica.aggTrades({ marketType: "um", ...q });
    for (const ext of ["csv", "arrow", "parquet"]) {
      const path = join(dir, `t.${ext}`);
      const { rows } = await writeAggTrades(v.streamAggTrades(q), path);
      assertEquals(rows, truth.aggTradeId.length);
      if (ext === "csv") {
        const lines = (await Deno.readTextFile(path)).trim().split("\n");
        assertEquals(lines.length - 1, rows);
        assertEquals(Number(lines[1].split(",")[1]), truth.price[0]);
      } else if (ext === "arrow") {
        const t = tableFromIPC(await Deno.readFile(path));
        assertEquals(t.numRows, rows);
        assertEquals(t.getChild("price")!.get(rows - 1), truth.price[rows - 1]);
        assertEquals(t.getChild("is_buyer_maker")!.get(3), truth.isBuyerMaker[3] === 1);
      } else {
        const buf = await Deno.readFile(path);
        const objs = await parquetReadObjects({ file: buf.buffer, columns: ["price"] });
        assertEquals(objs.length, rows);
        assertEquals(objs[rows - 1].price, truth.price[rows - 1]);
      }
    }
    assertEquals([...Deno.readDirSync(dir)].length, 3, "no temp files left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dispose mid-stream (next archive stalled) settles within budget; the stream rejects", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "*aggTrades-2026-10-11.zip", kind: "stallBody", afterBytes: 64 }],
  });
  const BUDGET = 500;
  const v = vision(replica, "um", BUDGET);
  const it = v.streamAggTrades({ symbol: "BTCUSDT", start: DAY, end: DAY + 2 * DAY_MS })[
    Symbol.asyncIterator
  ]();
  // Every chunk of the first day's archive (it comes in pieces), then the stalled second one.
  const dayOne = replica.aggTrades({
    marketType: "um",
    symbol: "BTCUSDT",
    start: DAY,
    end: DAY + DAY_MS,
  });
  const lastOfDayOne = dayOne.transactTime[dayOne.transactTime.length - 1];
  let rows = 0;
  for (;;) {
    const r = await it.next();
    assert(!r.done && r.value.aggTradeId.length > 0);
    rows += r.value.aggTradeId.length;
    if (r.value.transactTime[r.value.transactTime.length - 1] === lastOfDayOne) break;
  }
  assertEquals(rows, dayOne.aggTradeId.length);
  const pending = assertRejects(() => it.next(), ClientClosedError);
  await replica.waitFor((e) => e.route === "archive" && e.state === "stalled");
  const t0 = performance.now();
  await v[Symbol.asyncDispose]().catch(() => {});
  assertLessOrEqual(performance.now() - t0, BUDGET + 250);
  await pending;
  await replica.waitFor((e) => e.route === "archive" && e.aborted);
  assertEquals(v.resources.tempDir, undefined);
});

Deno.test("releaseChunks: an archive's columns are freed once its last chunk is done", async () => {
  await using replica = await startReplica({ now: NOW });
  await using v = vision(replica, "cm");
  const q = { symbol: "BTCUSD_PERP", start: DAY + 20 * H, end: DAY + 28 * H };
  const truth = replica.aggTrades({ marketType: "cm", ...q });
  const seen: AggTradeColumns[] = [];
  let rows = 0;
  let firstPrice = NaN;
  for await (const c of v.streamAggTrades({ ...q, releaseChunks: true })) {
    if (seen.length === 0) firstPrice = c.price[0];
    rows += c.aggTradeId.length;
    seen.push(c);
  }
  assertEquals(rows, truth.aggTradeId.length);
  assertEquals(firstPrice, truth.price[0]);
  assert(seen.length >= 2, "chunks of both daily archives");
  assert(seen.every((c) => c.aggTradeId.length === 0 && c.isBuyerMaker.length === 0), "detached");
});
