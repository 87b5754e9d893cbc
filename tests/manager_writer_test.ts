import { assertEquals, assertRejects } from "@std/assert";
import { dirname } from "@std/path";
import { KlineCache } from "../src/cache/mod.ts";
import { allocateColumns, type KlineColumns, type KlinesMeta } from "../src/klines.ts";
import { DAY_MS, utcDay } from "../src/time.ts";
import { DayWriter } from "../src/manager/_writer.ts";
import { tempCacheDir } from "./_manager_helpers.ts";

const META: KlinesMeta = { symbol: "BTCUSDT", interval: "1h", marketType: "spot" };
const D0 = Date.UTC(2024, 0, 10);

function day(i: number): { day: string; columns: KlineColumns } {
  const start = D0 + i * DAY_MS;
  const columns = allocateColumns(24);
  for (let h = 0; h < 24; h++) {
    columns.openTime[h] = start + h * 3_600_000;
    columns.closeTime[h] = start + (h + 1) * 3_600_000 - 1;
    columns.close[h] = i * 100 + h;
  }
  return { day: utcDay(start), columns };
}

/** File names in `dir` (none when it does not exist). */
async function namesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names;
}

function counters() {
  const c = { written: 0, failed: 0 };
  return { c, onWritten: () => c.written++, onFailed: () => c.failed++ };
}

Deno.test("DayWriter writes each day once, a few at a time, and flush waits for all", async () => {
  await using dir = await tempCacheDir();
  const cache = new KlineCache({ dir: dir.path });
  const { c, onWritten, onFailed } = counters();
  const writer = new DayWriter({
    cache,
    meta: META,
    concurrency: 2,
    signal: new AbortController().signal,
    onWritten,
    onFailed,
  });
  for (let i = 0; i < 5; i++) writer.write(day(i).day, day(i).columns);
  writer.write(day(0).day, day(9).columns); // already scheduled: ignored
  assertEquals(writer.has(day(4).day), true);
  await writer.flush();
  assertEquals(c, { written: 5, failed: 0 });
  const back = await cache.read({ ...META, day: day(0).day });
  assertEquals(back?.close, day(0).columns.close);
  assertEquals((await cache.list()).length, 5);
});

Deno.test("DayWriter counts a failed write and goes on; flush does not throw for it", async () => {
  await using dir = await tempCacheDir();
  const cache = new KlineCache({ dir: dir.path });
  const { c, onWritten, onFailed } = counters();
  const writer = new DayWriter({
    cache,
    meta: META,
    concurrency: 4,
    signal: new AbortController().signal,
    onWritten,
    onFailed,
  });
  writer.write(day(1).day, day(0).columns); // rows outside the day: rejected by the cache
  writer.write(day(2).day, day(2).columns);
  await writer.flush();
  assertEquals(c, { written: 1, failed: 1 });
  assertEquals((await cache.list()).map((e) => e.key.day), [day(2).day]);
});

Deno.test("DayWriter: an abort drops queued writes, leaves no partial file, flush rejects", async () => {
  await using dir = await tempCacheDir();
  const cache = new KlineCache({ dir: dir.path });
  const { c, onWritten, onFailed } = counters();
  const call = new AbortController();
  const writer = new DayWriter({
    cache,
    meta: META,
    concurrency: 1,
    signal: call.signal,
    onWritten,
    onFailed,
  });
  for (let i = 0; i < 20; i++) writer.write(day(i).day, day(i).columns);
  // The first write is in flight (its temp file being opened), the other 19 queued.
  call.abort(new Error("call aborted"));
  await assertRejects(() => writer.flush(), Error, "call aborted");
  await writer.abort();
  // The write in flight stopped before its rename, and removed its temp file.
  assertEquals(c, { written: 0, failed: 0 });
  assertEquals(await cache.list(), []);
  assertEquals((await cache.verify({ remove: true })).sweptTemps, []);
  assertEquals(await namesIn(dirname(cache.pathFor({ ...META, day: day(0).day }))), []);
});
