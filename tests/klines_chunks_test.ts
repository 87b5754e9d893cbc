/**
 * Chunked `Klines`: rows held as chunks (views), exact chunk boundaries, lazy contiguous
 * columns equal to the old copy bit for bit, and one Arrow schema for tables and files.
 */
import { assert, assertEquals, assertStrictEquals, assertThrows } from "@std/assert";
import { tableFromIPC } from "apache-arrow";
import { InvalidRangeError } from "../src/errors.ts";
import {
  allocateColumns,
  KLINE_COLUMNS,
  type KlineColumns,
  Klines,
  type KlinesMeta,
} from "../src/klines.ts";
import { klinesToArrowTable } from "../src/export/arrow.ts";
import { KlineCache } from "../src/cache/mod.ts";
import { assertColumnsEqual } from "./_helpers.ts";
import { tempCacheDir } from "./_manager_helpers.ts";

const META: KlinesMeta = { symbol: "BTCUSDT", interval: "1m", marketType: "spot" };
const T0 = Date.parse("2024-01-01T00:00:00Z");

/** `n` rows of 1m candles from `start`, with values that tell rows apart. */
function rows(start: number, n: number): KlineColumns {
  const c = allocateColumns(n);
  for (let i = 0; i < n; i++) {
    const t = start + i * 60_000;
    c.openTime[i] = t;
    c.closeTime[i] = t + 59_999;
    c.open[i] = 100 + i / 3;
    c.high[i] = 101 + i / 7;
    c.low[i] = 99 - i / 11;
    c.close[i] = 100.5 + i * 0.1;
    c.volume[i] = i * 1.5e-9;
    c.quoteVolume[i] = i * 12.25;
    c.trades[i] = i * 3;
    c.takerBuyBaseVolume[i] = i / 9;
    c.takerBuyQuoteVolume[i] = i / 13;
  }
  return c;
}

/** What `concat` did before chunks: one copy into one buffer. */
function contiguousCopy(parts: KlineColumns[]): KlineColumns {
  const n = parts.reduce((s, p) => s + p.openTime.length, 0);
  const out = allocateColumns(n);
  let at = 0;
  for (const p of parts) {
    for (const name of KLINE_COLUMNS) out[name].set(p[name], at);
    at += p.openTime.length;
  }
  return out;
}

const PARTS = [rows(T0, 5), rows(T0 + 5 * 60_000, 3), rows(T0 + 8 * 60_000, 4)];
function chunked(): Klines {
  return new Klines({
    ...META,
    chunks: PARTS.map((columns, i) => ({
      columns,
      sources: new Uint8Array(columns.openTime.length).fill(i),
    })),
  });
}

Deno.test("chunks: length, chunk boundaries and get(i) across them are exact", () => {
  const k = chunked();
  assertEquals(k.length, 12);
  assertEquals(k.chunks.map((c) => c.length), [5, 3, 4]);
  // The chunks are the arrays given, not copies.
  k.chunks.forEach((c, i) => assertStrictEquals(c.close, PARTS[i].close));
  const whole = contiguousCopy(PARTS);
  for (let i = 0; i < 12; i++) {
    const r = k.get(i)!;
    for (const name of KLINE_COLUMNS) assertEquals(r[name], whole[name][i], `${name}[${i}]`);
  }
  assertEquals(k.get(-1)?.openTime, T0 + 11 * 60_000);
  assertEquals(k.get(12), undefined);
  assertEquals([...k].map((r) => r.openTime), [...whole.openTime]);
});

Deno.test("lazy columns equal the old contiguous copy bit for bit, built once", () => {
  const k = chunked();
  const whole = contiguousCopy(PARTS);
  assertColumnsEqual(k.columns, whole);
  for (const name of KLINE_COLUMNS) {
    assertEquals(
      new Uint8Array(k[name].buffer, k[name].byteOffset, k[name].byteLength),
      new Uint8Array(whole[name].buffer, whole[name].byteOffset, whole[name].byteLength),
    );
    assertStrictEquals(k[name], k[name], `${name} is built once`);
  }
  assertEquals([...k.sources!], [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);
  // One chunk: the arrays are handed out as they are.
  const one = new Klines({ ...META, columns: PARTS[0] });
  assertStrictEquals(one.close, PARTS[0].close);
});

Deno.test("slice and between cut inside chunks without copying", () => {
  const k = chunked();
  const s = k.slice(3, 10);
  assertEquals(s.chunks.map((c) => c.length), [2, 3, 2]);
  assertStrictEquals(s.chunks[0].close.buffer, PARTS[0].close.buffer);
  assertStrictEquals(s.chunks[2].close.buffer, PARTS[2].close.buffer);
  assertEquals([...s.openTime], [...contiguousCopy(PARTS).openTime.subarray(3, 10)]);
  assertEquals(k.slice(-2).length, 2);
  // Every TimeInput: ISO strings used to give 0 rows.
  const b = k.between("2024-01-01T00:04:00Z", "2024-01-01T00:09:00");
  assertEquals(b.length, 5);
  assertEquals(b.openTime[0], T0 + 4 * 60_000);
  assertEquals(k.between(new Date(T0 + 60_000), T0 + 2 * 60_000).length, 1);
  assertThrows(() => k.between("yesterday-ish", T0), InvalidRangeError, "yesterday-ish");
});

Deno.test("concat joins chunks; merge needs no meta and joins disjoint parts without a copy", () => {
  const a = new Klines({ ...META, columns: PARTS[0] });
  const b = new Klines({ ...META, columns: PARTS[1] });
  const c = new Klines({ ...META, columns: PARTS[2] });
  const merged = Klines.merge([c, a, b]);
  assertEquals(merged.chunks.length, 3);
  assertStrictEquals(merged.chunks[0].open, PARTS[0].open);
  assertColumnsEqual(merged.columns, contiguousCopy(PARTS));
  assertEquals(merged.symbol, "BTCUSDT");
  assertEquals(a.concat(b, c).chunks.length, 3);
  // Overlapping parts are still sorted and de-duplicated (the first listed wins).
  const overlap = Klines.merge([a, a.slice(2)]);
  assertEquals(overlap.length, 5);
  assertThrows(() => Klines.merge([]), TypeError, "meta");
});

Deno.test("toArrow: one record batch per chunk, the cache files' schema", async () => {
  const k = chunked();
  const table = k.toArrow();
  assertEquals(table.batches.length, 3);
  assertEquals(table.numRows, 12);
  const fields = (t: { schema: { fields: { name: string; type: unknown }[] } }) =>
    t.schema.fields.map((f) => `${f.name}:${f.type}`);
  assertEquals(fields(table), fields(klinesToArrowTable(PARTS[0])));
  assertEquals(table.getChild("close")!.get(7), PARTS[1].close[2]);
  assertEquals(table.getChild("open_time")!.get(11), T0 + 11 * 60_000);
  await using dir = await tempCacheDir();
  const cache = new KlineCache({ dir: dir.path });
  const key = { ...META, day: "2024-01-01" };
  await cache.write(key, PARTS[0]);
  const path = cache.pathFor(key);
  const file = tableFromIPC(await Deno.readFile(path));
  assertEquals(fields(table), fields(file));
  assert(k.toArrow().batches[0].getChild("close")!.data[0].values.buffer === PARTS[0].close.buffer);
});
