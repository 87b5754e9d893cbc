// Replica monthly archives: a candle belongs to the file of the month its OPEN time falls in
// (binance-public-data#134/#298), so 3d/1w candles straddling a month end are in exactly one
// file, and that file is published once its last candle has closed.
import { assert, assertEquals } from "@std/assert";
import { parseKlineCsv } from "../src/vision/csv_parser.ts";
import { extractSingleCsv } from "../src/vision/zip.ts";
import {
  type Interval,
  KLINE_COLUMNS,
  type KlineColumns,
  type MarketType,
  type Replica,
  startReplica,
} from "../testing/mod.ts";

const DAY = 86_400_000;
const YEAR_START = Date.UTC(2024, 0, 1);
const YEAR_END = Date.UTC(2025, 0, 1);
const MONTHS = Array.from({ length: 12 }, (_, i) => `2024-${String(i + 1).padStart(2, "0")}`);

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.body?.cancel();
  return res.status;
}

/** Downloads the monthly files of 2024 over HTTP and parses them; checks each file's months. */
async function yearFromMonthlyFiles(
  replica: Replica,
  q: { marketType: MarketType; symbol: string; interval: Interval },
): Promise<Record<(typeof KLINE_COLUMNS)[number], number[]>> {
  const out = Object.fromEntries(KLINE_COLUMNS.map((c) => [c, [] as number[]])) as Record<
    (typeof KLINE_COLUMNS)[number],
    number[]
  >;
  for (const period of MONTHS) {
    const url = replica.archiveUrl({ ...q, period });
    const res = await fetch(url);
    assertEquals(res.status, 200, url);
    const zip = new Uint8Array(await res.arrayBuffer());
    const cols = parseKlineCsv(await extractSingleCsv(zip), { file: url });
    const monthStart = Date.parse(`${period}-01T00:00:00Z`);
    const next = new Date(monthStart);
    next.setUTCMonth(next.getUTCMonth() + 1);
    assert(cols.openTime.length > 0, url);
    for (const t of cols.openTime) {
      assert(
        t >= monthStart && t < next.getTime(),
        `${url}: a row opens at ${t}, not in ${period}`,
      );
    }
    for (const c of KLINE_COLUMNS) out[c].push(...cols[c]);
  }
  return out;
}

function assertSameColumns(
  got: Record<(typeof KLINE_COLUMNS)[number], number[]>,
  truth: KlineColumns,
  what: string,
): void {
  for (const c of KLINE_COLUMNS) assertEquals(got[c], Array.from(truth[c]), `${what}: ${c}`);
}

Deno.test("1w: a year through the monthly archives equals the truth, no week missing or doubled", async () => {
  await using replica = await startReplica({ now: "2025-03-01T00:00:00Z" });
  for (
    const [marketType, symbol] of [
      ["spot", "BTCUSDT"],
      ["um", "BTCUSDT"],
      ["cm", "BTCUSD_PERP"],
    ] as const
  ) {
    const q = { marketType, symbol, interval: "1w" } as const;
    const got = await yearFromMonthlyFiles(replica, q);
    const truth = replica.klines({ ...q, start: YEAR_START, end: YEAR_END });
    // 2024 opens on a Monday: 53 weeks, 01-01 … 12-30, seven days apart.
    assertEquals(truth.openTime.length, 53);
    assertEquals(got.openTime[0], YEAR_START);
    assertEquals(got.openTime.at(-1), Date.UTC(2024, 11, 30));
    assert(got.openTime.every((t, i) => i === 0 || t - got.openTime[i - 1] === 7 * DAY));
    assertSameColumns(got, truth, `${marketType} ${symbol} 1w`);
    // The week of 01-29 closes in February yet is January's (open-time rule).
    const jan = parseKlineCsv(
      await extractSingleCsv(replica.archiveBytes({ ...q, period: "2024-01" })!),
    );
    assertEquals(jan.openTime.at(-1), Date.UTC(2024, 0, 29));
    assertEquals(jan.closeTime.at(-1), Date.UTC(2024, 1, 5) - 1);
  }
});

Deno.test("3d, 1w and 1M: monthly archives equal the truth and the REST endpoint", async () => {
  await using replica = await startReplica({ now: "2025-03-01T00:00:00Z" });
  for (const interval of ["3d", "1w", "1M"] as const) {
    const q = { marketType: "spot", symbol: "BTCUSDT", interval } as const;
    const got = await yearFromMonthlyFiles(replica, q);
    const truth = replica.klines({ ...q, start: YEAR_START, end: YEAR_END });
    assertSameColumns(got, truth, interval);
    // REST serves the same closed candles.
    const params = new URLSearchParams({
      symbol: "BTCUSDT",
      interval,
      startTime: String(YEAR_START),
      endTime: String(YEAR_END - 1),
      limit: "1000",
    });
    const rows: unknown[][] = await (await fetch(`${replica.restUrl}/api/v3/klines?${params}`))
      .json();
    assertEquals(rows.map((r) => Number(r[0])), got.openTime, `${interval} REST open times`);
    assertEquals(rows.map((r) => Number(r[4])), got.close, `${interval} REST closes`);
    assertEquals(rows.map((r) => Number(r[5])), got.volume, `${interval} REST volumes`);
  }
  // 3d candles are epoch-aligned: 122 of them open in 2024.
  const threeDay = replica.klines({
    marketType: "spot",
    symbol: "BTCUSDT",
    interval: "3d",
    start: YEAR_START,
    end: YEAR_END,
  });
  assertEquals(threeDay.openTime.length, 122);
  assert(threeDay.openTime.every((t) => t % (3 * DAY) === 0));
});

Deno.test("a monthly file is published once its last candle has closed, plus the lag", async () => {
  await using replica = await startReplica({ now: "2024-02-20T00:00:00Z" });
  const jan = (interval: Interval) => ({
    marketType: "spot" as const,
    symbol: "BTCUSDT",
    interval,
    period: "2024-01",
  });
  const lag = 3 * DAY;
  // 1d/1M end with the month; the 3d candle of 01-30 closes 02-02; the week of 01-29 on 02-05.
  assertEquals(replica.publishedAt(jan("1d")), Date.UTC(2024, 1, 1) + lag);
  assertEquals(replica.publishedAt(jan("1M")), Date.UTC(2024, 1, 1) + lag);
  assertEquals(replica.publishedAt(jan("3d")), Date.UTC(2024, 1, 2) + lag);
  assertEquals(replica.publishedAt(jan("1w")), Date.UTC(2024, 1, 5) + lag);
  const weekly = jan("1w");
  const prefix = "data/spot/monthly/klines/BTCUSDT/1w/";
  const listed = async () => {
    const xml = await (await fetch(`${replica.listingUrl}?prefix=${prefix}&delimiter=/`)).text();
    return [...xml.matchAll(/<Key>([^<]*)<\/Key><LastModified>([^<]*)</g)]
      .filter((m) => m[1].endsWith("2024-01.zip"))
      .map((m) => m[2]);
  };
  replica.setNow(Date.UTC(2024, 1, 8) - 1);
  assertEquals(await status(replica.archiveUrl(weekly)), 404);
  assertEquals(await status(replica.archiveUrl(jan("1d"))), 200);
  assertEquals(await listed(), []);
  // Meanwhile the truth already holds that week: it is closed.
  const truth = replica.klines({ ...weekly, start: Date.UTC(2024, 0, 29), end: Date.UTC(2024, 1) });
  assertEquals(Array.from(truth.openTime), [Date.UTC(2024, 0, 29)]);
  replica.setNow(Date.UTC(2024, 1, 8));
  assertEquals(await status(replica.archiveUrl(weekly)), 200);
  assertEquals(await listed(), ["2024-02-08T00:00:00.000Z"]);
  const csv = parseKlineCsv(await extractSingleCsv(replica.archiveBytes(weekly)!));
  assertEquals(csv.openTime.at(-1), truth.openTime[0]);
  assertEquals(csv.close.at(-1), truth.close[0]);
});
