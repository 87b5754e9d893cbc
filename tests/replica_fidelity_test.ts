// Replica fidelity: its CSV writer reproduces real Binance Vision bytes, mounted real days are
// served byte-for-byte, and its CHECKSUM files verify like `sha256sum -c`.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import { parseKlineCsv } from "../src/vision/csv_parser.ts";
import { extractSingleCsv } from "../src/vision/zip.ts";
import { formatKlineCsv, KLINE_CSV_HEADER, startReplica } from "../testing/mod.ts";
import type { KlineColumns } from "../src/klines.ts";

const fixture = (p: string) => Deno.readFile(new URL(`./fixtures/${p}`, import.meta.url));
const decoder = new TextDecoder();

/** Minimal reader of a single-entry zip (independent of the library's reader). */
function unzip(zip: Uint8Array): { name: string; data: Uint8Array; method: number } {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  assertEquals(v.getUint32(0, true), 0x04034b50);
  const method = v.getUint16(8, true);
  const csize = v.getUint32(18, true);
  const nameLen = v.getUint16(26, true);
  const extraLen = v.getUint16(28, true);
  const name = decoder.decode(zip.subarray(30, 30 + nameLen));
  const start = 30 + nameLen + extraLen;
  const raw = zip.subarray(start, start + csize);
  const data = method === 8 ? new Uint8Array(zlib.inflateRawSync(raw)) : raw;
  assertEquals(zlib.crc32(data) >>> 0, v.getUint32(14, true), "CRC-32 of the entry");
  return { name, data, method };
}

function slice(c: KlineColumns, from: number, to: number): KlineColumns {
  const out = {} as KlineColumns;
  for (const [k, v] of Object.entries(c)) out[k as keyof KlineColumns] = v.slice(from, to);
  return out;
}

Deno.test("writer reproduces the real spot 2017 day (ms, no header) byte for byte", async () => {
  const bytes = await fixture("spot/BTCUSDT-1m-2017-08-17.csv");
  const cols = parseKlineCsv(bytes, { file: "BTCUSDT-1m-2017-08-17.csv" });
  assertEquals(cols.openTime.length, 1200);
  const out = formatKlineCsv(cols, { marketType: "spot" });
  assertEquals(out.length, bytes.length);
  assertEquals(decoder.decode(out), decoder.decode(bytes));
});

Deno.test("writer reproduces the real spot ADABTC days (tiny prices) byte for byte", async () => {
  for (const day of ["2021-11-27", "2021-11-28"]) {
    const bytes = await fixture(`spot/ADABTC-1m-${day}.csv`);
    const out = formatKlineCsv(parseKlineCsv(bytes), { marketType: "spot" });
    assertEquals(decoder.decode(out), decoder.decode(bytes));
  }
});

Deno.test("writer reproduces the real USD-M 2024 and 2025 days (header, ms) byte for byte", async () => {
  for (const day of ["2024-01-01", "2025-01-01"]) {
    const bytes = await fixture(`um/BTCUSDT-1m-${day}.csv`);
    assert(decoder.decode(bytes).startsWith(KLINE_CSV_HEADER + "\n"));
    const cols = parseKlineCsv(bytes);
    assertEquals(cols.openTime.length, 1440);
    const out = formatKlineCsv(cols, { marketType: "um", header: true });
    assertEquals(out.length, bytes.length);
    assertEquals(decoder.decode(out), decoder.decode(bytes));
  }
});

Deno.test("writer reproduces the real 2025 microsecond spot rows, row by row (mixed intervals)", async () => {
  const bytes = await fixture("spot_us/README-rows.csv");
  const cols = parseKlineCsv(bytes);
  const lines = decoder.decode(bytes).split("\n").filter((l) => l !== "");
  assertEquals(cols.openTime.length, 33);
  assertEquals(lines.length, 33);
  for (let i = 0; i < lines.length; i++) {
    const row = formatKlineCsv(slice(cols, i, i + 1), { marketType: "spot", timeUnit: "us" });
    assertEquals(decoder.decode(row), lines[i] + "\n", `line ${i + 1}`);
  }
  // And the whole file at once.
  assertEquals(
    decoder.decode(formatKlineCsv(cols, { marketType: "spot", timeUnit: "us" })),
    decoder.decode(bytes),
  );
});

Deno.test("mounted real days are served byte-identical inside the zip, and feed REST", async () => {
  const spot = await fixture("spot/BTCUSDT-1m-2017-08-17.csv");
  const um = await fixture("um/BTCUSDT-1m-2024-01-01.csv");
  await using replica = await startReplica({
    now: "2024-03-01T00:00:00Z",
    fixtures: [
      { marketType: "spot", symbol: "BTCUSDT", interval: "1m", day: "2017-08-17", csv: spot },
      { marketType: "um", symbol: "BTCUSDT", interval: "1m", day: "2024-01-01", csv: um },
    ],
  });
  const cases = [
    ["spot", "BTCUSDT-1m-2017-08-17", spot],
    ["futures/um", "BTCUSDT-1m-2024-01-01", um],
  ] as const;
  for (const [folder, name, bytes] of cases) {
    const url = `${replica.visionUrl}/data/${folder}/daily/klines/BTCUSDT/1m/${name}.zip`;
    const res = await fetch(url);
    assertEquals(res.status, 200);
    assertEquals(res.headers.get("content-type"), "application/zip");
    const zip = new Uint8Array(await res.arrayBuffer());
    const entry = unzip(zip);
    assertEquals(entry.name, `${name}.csv`);
    assertEquals(entry.method, 8, "DEFLATE");
    assertEquals(entry.data, bytes);
    // The library's zip reader agrees.
    assertEquals(await extractSingleCsv(zip, { file: `${name}.zip` }), bytes);
  }
  // The monthly file splices the real day's rows in verbatim, after the header.
  const month = replica.csvFor({
    marketType: "um",
    symbol: "BTCUSDT",
    interval: "1m",
    period: "2024-01",
  })!;
  assertEquals(decoder.decode(month.subarray(0, um.length)), decoder.decode(um));
  assertEquals(parseKlineCsv(month).openTime.length, 31 * 1440);
  // REST serves the real rows for that day, with the same decimal strings.
  const res = await fetch(
    `${replica.restUrl}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime=1704067200000&limit=3`,
  );
  const rows = await res.json() as (string | number)[][];
  const csvRows = decoder.decode(um).split("\n").slice(1, 4).map((l) => l.split(","));
  assertEquals(rows.map((r) => r.map(String)), csvRows);
  // The truth accessor reports the real rows too.
  const truth = replica.klines({
    marketType: "spot",
    symbol: "BTCUSDT",
    interval: "1m",
    start: "2017-08-17",
    end: "2017-08-18",
  });
  assertEquals(truth.close, parseKlineCsv(spot).close);
});

Deno.test("CHECKSUM verifies the served zip (sha256sum -c semantics) and has the exact format", async () => {
  await using replica = await startReplica({ now: "2024-03-01T00:00:00Z" });
  for (const market of ["spot", "futures/um", "futures/cm"]) {
    const sym = market === "futures/cm" ? "BTCUSD_PERP" : "BTCUSDT";
    for (const [kind, label] of [["daily", "2024-02-10"], ["monthly", "2024-01"]]) {
      const name = `${sym}-1h-${label}.zip`;
      const url = `${replica.visionUrl}/data/${market}/${kind}/klines/${sym}/1h/${name}`;
      const zip = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const text = await (await fetch(url + ".CHECKSUM")).text();
      assertMatch(text, /^[0-9a-f]{64} {2}\S+\n$/);
      const [hash, file] = text.trimEnd().split(/\s+/);
      assertEquals(file, name);
      assertEquals(hash, createHash("sha256").update(zip).digest("hex"));
    }
  }
});

Deno.test("the real CHECKSUM fixture has the shape the replica emits (minus the newline)", async () => {
  const real = decoder.decode(await fixture("checksum/BTCUSDT-1m-2025-04-11.zip.CHECKSUM"));
  assertMatch(real, /^[0-9a-f]{64} {2}BTCUSDT-1m-2025-04-11\.zip$/);
  await using replica = await startReplica({ now: "2025-05-01T00:00:00Z" });
  const ours = await (await fetch(
    `${replica.visionUrl}/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-04-11.zip.CHECKSUM`,
  )).text();
  assertEquals(ours.length, real.length + 1);
  assertEquals(ours.slice(64), real.slice(64) + "\n");
});

Deno.test("synthetic archives follow the real layout rules (µs spot from 2025, futures header from 2022)", async () => {
  await using replica = await startReplica({ now: "2025-03-01T00:00:00Z" });
  const first = (market: "spot" | "um" | "cm", period: string) => {
    const symbol = market === "cm" ? "BTCUSD_PERP" : "BTCUSDT";
    const csv = replica.csvFor({ marketType: market, symbol, interval: "1m", period })!;
    return decoder.decode(csv.subarray(0, 400)).split("\n")[0];
  };
  assertMatch(first("spot", "2024-12-31"), /^1735603200000,\d+\.\d{8},/);
  assertMatch(first("spot", "2025-01-01"), /^1735689600000000,\d+\.\d{8},.*,1735689659999999,/);
  assertMatch(first("spot", "2025-01"), /^1735689600000000,/);
  assertEquals(first("um", "2022-01-01"), KLINE_CSV_HEADER);
  assertMatch(first("um", "2021-12-31"), /^1640908800000,\d+\.\d\d,/);
  assertEquals(first("cm", "2024-05-05"), KLINE_CSV_HEADER);
  // Every synthetic value round-trips through the writer (decimals are exact).
  for (const period of ["2024-12-31", "2025-01-01"]) {
    const csv = replica.csvFor({ marketType: "spot", symbol: "ETHUSDT", interval: "5m", period })!;
    const cols = parseKlineCsv(csv);
    const unit = period.startsWith("2025") ? "us" : "ms";
    assertEquals(formatKlineCsv(cols, { marketType: "spot", timeUnit: unit }), csv);
  }
  const cm = replica.csvFor({
    marketType: "cm",
    symbol: "BTCUSD_PERP",
    interval: "1m",
    period: "2024-05-05",
  })!;
  assertEquals(formatKlineCsv(parseKlineCsv(cm), { marketType: "cm", header: true }), cm);
});

Deno.test("synthetic candles are internally consistent", async () => {
  await using replica = await startReplica({ now: "2024-03-01T00:00:00Z" });
  for (
    const [marketType, symbol] of [["spot", "ADABTC"], ["um", "ETHUSDT"], [
      "cm",
      "BTCUSD_PERP",
    ]] as const
  ) {
    for (const interval of ["1m", "1h", "1d"] as const) {
      const k = replica.klines({
        marketType,
        symbol,
        interval,
        start: "2024-01-01",
        end: "2024-02-01",
      });
      assert(k.openTime.length > 0);
      const len = interval === "1m" ? 60_000 : interval === "1h" ? 3_600_000 : 86_400_000;
      assertEquals(k.openTime.length, (31 * 86_400_000) / len);
      for (let i = 0; i < k.openTime.length; i++) {
        const ctx = `${marketType} ${symbol} ${interval} row ${i}`;
        assertEquals(k.closeTime[i], k.openTime[i] + len - 1, ctx);
        if (i > 0) assertEquals(k.openTime[i] - k.openTime[i - 1], len, ctx);
        assert(k.high[i] >= Math.max(k.open[i], k.close[i]), ctx);
        assert(k.low[i] <= Math.min(k.open[i], k.close[i]) && k.low[i] > 0, ctx);
        assert(k.takerBuyBaseVolume[i] <= k.volume[i], ctx);
        assert(k.takerBuyQuoteVolume[i] <= k.quoteVolume[i], ctx);
        assert(Number.isInteger(k.trades[i]) && k.trades[i] >= 0, ctx);
        assertEquals(k.volume[i] === 0, k.trades[i] === 0, ctx);
      }
    }
  }
});
