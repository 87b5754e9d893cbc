import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { fromFileUrl, join } from "@std/path";
import { tableFromIPC } from "apache-arrow";
import {
  CacheCorruptError,
  CacheDataError,
  InvalidRangeError,
  InvalidSymbolError,
} from "../src/errors.ts";
import { allocateColumns, KLINE_COLUMNS, type KlineColumns } from "../src/klines.ts";
import type { Interval, MarketType } from "../src/market.ts";
import { DAY_MS } from "../src/time.ts";
import { type CacheKey, defaultCacheDir, KlineCache, normalizeCacheKey } from "../src/cache/mod.ts";
import { decodeKlineFile, encodeKlineFile } from "../src/cache/_ipc.ts";
import { key, synthetic, withCache } from "./_cache_helpers.ts";
import { assertColumnsEqual, walk } from "./_helpers.ts";

const FIXTURES = fromFileUrl(new URL("./fixtures/", import.meta.url));

/** The fixture CSV parsed the simplest possible way (split + Number), header skipped. */
function parseFixture(rel: string): KlineColumns {
  const lines = Deno.readTextFileSync(join(FIXTURES, rel)).split("\n").filter((l) => l);
  const rows = lines.filter((l) => /^\d/.test(l)).map((l) => l.split(",").map(Number));
  const c = allocateColumns(rows.length);
  rows.forEach((r, i) => KLINE_COLUMNS.forEach((name, j) => c[name][i] = r[j]));
  return c;
}

Deno.test("round trip of real fixture days is bit-for-bit", async () => {
  await withCache(async (cache) => {
    const cases: [string, MarketType, string][] = [
      ["spot/BTCUSDT-1m-2017-08-17.csv", "spot", "2017-08-17"],
      ["um/BTCUSDT-1m-2024-01-01.csv", "um", "2024-01-01"],
      ["um/BTCUSDT-1m-2025-01-01.csv", "um", "2025-01-01"],
      ["spot/ADABTC-1m-2021-11-27.csv", "spot", "2021-11-27"],
    ];
    for (const [file, marketType, day] of cases) {
      const symbol = file.split("/")[1].split("-")[0];
      const input = parseFixture(file);
      const k = key(day, { marketType, symbol });
      await cache.write(k, input);
      const back = await cache.read(k);
      assert(back, file);
      assertColumnsEqual(back, input);
    }
    assertEquals((await cache.read(key("2017-08-17")))!.openTime.length, 1200);
  });
});

Deno.test("read is zero-copy: every column views the one buffer holding the file", async () => {
  await withCache(async (cache) => {
    const k = key("2024-01-01", { marketType: "um" });
    await cache.write(k, parseFixture("um/BTCUSDT-1m-2024-01-01.csv"));
    const cols = (await cache.read(k))!;
    const { size } = await Deno.stat(cache.pathFor(k));
    const buffer = cols.openTime.buffer;
    assertEquals(buffer.byteLength, size, "the buffer is the file, not a copy");
    for (const name of KLINE_COLUMNS) {
      assertStrictEquals(cols[name].buffer, buffer, name);
      assertEquals(cols[name].byteOffset % 8, 0);
    }
    // Each day is its own allocation, owned by the caller.
    const again = (await cache.read(k))!;
    assert(again.open.buffer !== buffer);
  });
});

Deno.test("a misaligned buffer is decoded by copying, with identical values", () => {
  const cols = synthetic("2024-03-01", 10);
  const bytes = encodeKlineFile(
    { market: "spot", symbol: "BTCUSDT", interval: "1m", day: "2024-03-01" },
    cols,
  );
  const shifted = new Uint8Array(bytes.length + 1).subarray(1);
  shifted.set(bytes);
  const decoded = decodeKlineFile(shifted);
  assertEquals(decoded.copiedColumns, KLINE_COLUMNS.length);
  assertColumnsEqual(decoded.columns, cols);
  assertEquals(decodeKlineFile(bytes.slice()).copiedColumns, 0);
});

Deno.test("layout mirrors the archive paths (1M is 1mo) and the write leaves no temp", async () => {
  await withCache(async (cache, dir) => {
    const cases: [CacheKey, string][] = [
      [key("2024-01-01"), "spot/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-01.arrow"],
      [
        key("2024-01-02", { marketType: "um", interval: "1h" }),
        "futures/um/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01-02.arrow",
      ],
      [
        key("2024-02-01", { marketType: "cm", symbol: "btcusd_perp", interval: "1M" }),
        "futures/cm/klines/BTCUSD_PERP/1mo/BTCUSD_PERP-1mo-2024-02-01.arrow",
      ],
    ];
    for (const [k, rel] of cases) {
      assertEquals(cache.pathFor(k), join(dir, ...rel.split("/")));
      const c = synthetic(k.day, 1, k.interval === "1M" ? 29 * DAY_MS : 60_000);
      await cache.write(k, c);
    }
    assertEquals(
      walk(dir),
      cases.map(([, rel]) => join(dir, ...rel.split("/"))).sort(),
      "exactly the final files: no temp file survives a write",
    );
  });
});

Deno.test("files are plain Arrow IPC: apache-arrow reads the documented schema", async () => {
  await withCache(async (cache) => {
    const k = key("2024-01-01", { marketType: "um" });
    const input = parseFixture("um/BTCUSDT-1m-2024-01-01.csv");
    await cache.write(k, input);
    const table = tableFromIPC(await Deno.readFile(cache.pathFor(k)));
    assertEquals(table.numRows, 1440);
    assertEquals(
      table.schema.fields.map((f) => `${f.name}:${f.type}`),
      [
        "open_time:Timestamp<MILLISECOND, UTC>",
        "open:Float64",
        "high:Float64",
        "low:Float64",
        "close:Float64",
        "volume:Float64",
        "close_time:Timestamp<MILLISECOND, UTC>",
        "quote_volume:Float64",
        "count:Int64",
        "taker_buy_volume:Float64",
        "taker_buy_quote_volume:Float64",
      ],
    );
    const meta = table.schema.metadata;
    assertEquals(meta.get("vision-data.version"), "1");
    assertEquals(meta.get("vision-data.rows"), "1440");
    assertEquals(meta.get("vision-data.market"), "um");
    assertEquals(meta.get("vision-data.symbol"), "BTCUSDT");
    assertEquals(meta.get("vision-data.interval"), "1m");
    assertEquals(meta.get("vision-data.day"), "2024-01-01");
    assert(/^crc32:[0-9a-f]{8}$/.test(meta.get("vision-data.checksum")!));
    assertEquals(Array.from(table.getChild("open")!.toArray() as Float64Array), [...input.open]);
    assertEquals(
      Array.from(table.getChild("open_time")!.toArray() as BigInt64Array, Number),
      [...input.openTime],
    );
    assertEquals(
      Array.from(table.getChild("count")!.toArray() as BigInt64Array, Number),
      [...input.trades],
    );
  });
});

Deno.test("write rejects rows outside the UTC day or out of order, and writes nothing", async () => {
  await withCache(async (cache, dir) => {
    const day = "2024-01-01";
    const start = Date.UTC(2024, 0, 1);
    const bad: [string, (c: KlineColumns) => void, number | undefined][] = [
      ["next day's first minute", (c) => c.openTime[2] = start + DAY_MS, 2],
      ["before the day", (c) => c.openTime[0] = start - 60_000, 0],
      ["duplicate open time", (c) => c.openTime[2] = c.openTime[1], 2],
      ["decreasing", (c) => c.openTime[2] = c.openTime[0], 2],
      ["NaN time", (c) => c.openTime[1] = NaN, 1],
      ["fractional trade count", (c) => c.trades[1] = 1.5, 1],
      ["NaN close time", (c) => c.closeTime[0] = NaN, 0],
    ];
    for (const [what, spoil, row] of bad) {
      const c = synthetic(day, 3);
      spoil(c);
      const err = await assertRejects(() => cache.write(key(day), c), CacheDataError);
      assertEquals((err as CacheDataError).row, row, what);
      assertEquals((err as CacheDataError).day, day);
    }
    const short = synthetic(day, 3);
    short.volume = short.volume.subarray(0, 2);
    await assertRejects(() => cache.write(key(day), short), CacheDataError, "column volume");
    await assertRejects(
      () => cache.write(key("2024-02-30"), synthetic("2024-03-01", 1)),
      InvalidRangeError,
    );
    await assertRejects(
      () => cache.write(key(day, { symbol: "BTC/USDT" }), synthetic(day, 1)),
      InvalidSymbolError,
    );
    assertEquals(walk(dir), [], "nothing written, not even a temp file");
    // The last minute of the day is inside it; an empty day is a valid (cached) day.
    const edge = synthetic(day, 1);
    edge.openTime[0] = start + DAY_MS - 60_000;
    await cache.write(key(day), edge);
    assertEquals([...(await cache.read(key(day)))!.openTime], [start + DAY_MS - 60_000]);
    await cache.write(key("2024-01-05"), allocateColumns(0));
    assertEquals((await cache.read(key("2024-01-05")))!.open.length, 0);
  });
});

/** Writes one day and returns its path and bytes. */
async function writeOne(cache: KlineCache, k: CacheKey): Promise<[string, Uint8Array]> {
  await cache.write(k, synthetic(k.day));
  const path = cache.pathFor(k);
  return [path, await Deno.readFile(path)];
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

Deno.test("corrupt files are detected, deleted and reported as CacheCorruptError", async () => {
  await withCache(async (cache) => {
    const k = key("2024-01-01");
    const spoilers: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
      ["flipped byte in the close column body", (b) => {
        const value = new Uint8Array(new Float64Array([synthetic("2024-01-01").close[700]]).buffer);
        const at = indexOfBytes(b, value);
        assert(at > 0, "the value is in the file");
        const out = b.slice();
        out[at + 3] ^= 0x10;
        return out;
      }, /checksum differs/],
      ["truncated tail", (b) => b.subarray(0, b.length - 100), /magic|footer/],
      ["truncated to half", (b) => b.subarray(0, b.length >> 1), /magic|footer/],
      ["empty file", () => new Uint8Array(0), /too short|magic/],
      ["garbage", () => new TextEncoder().encode("not an arrow file at all, just text\n"), /magic/],
      ["footer length out of range", (b) => {
        const out = b.slice();
        new DataView(out.buffer).setInt32(out.length - 10, out.length * 2, true);
        return out;
      }, /footer/],
    ];
    for (const [what, spoil, reason] of spoilers) {
      const [path, bytes] = await writeOne(cache, k);
      await Deno.writeFile(path, spoil(bytes));
      const err = await assertRejects(() => cache.read(k), CacheCorruptError, undefined, what);
      assertEquals((err as CacheCorruptError).path, path);
      assert(reason.test((err as Error).message), `${what}: ${(err as Error).message}`);
      await assertRejects(() => Deno.stat(path), Deno.errors.NotFound, undefined, what);
      assertEquals(await cache.read(k), null, `${what}: gone, so absent`);
    }
    // A valid file under another day's name (moved by hand) is not trusted either.
    const [, bytes] = await writeOne(cache, key("2024-01-02"));
    await Deno.writeFile(cache.pathFor(k), bytes);
    await assertRejects(
      () => cache.read(k),
      CacheCorruptError,
      "file is for spot BTCUSDT 1m 2024-01-02",
    );
  });
});

Deno.test("readDays and readRange: zero-copy days, one joined range, missing and corrupt days", async () => {
  await withCache(async (cache) => {
    const days = ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05"];
    for (const d of days) await cache.write(key(d), synthetic(d));
    await Deno.writeFile(cache.pathFor(key("2024-01-05")), new Uint8Array([1, 2, 3]));

    const r = await cache.readDays({
      marketType: "spot",
      symbol: "btcusdt",
      interval: "1m",
      startDay: "2024-01-01",
      endDay: "2024-01-05",
    });
    assertEquals(r.parts.map((p) => p.key.day), ["2024-01-01", "2024-01-02", "2024-01-04"]);
    assertEquals(r.missing.map((k) => k.day), ["2024-01-03", "2024-01-05"]);
    assertEquals(r.corrupt.length, 1);
    assertInstanceOf(r.corrupt[0], CacheCorruptError);
    assertColumnsEqual(r.parts[2].columns, synthetic("2024-01-04"));
    assert(r.parts[0].columns.open.buffer !== r.parts[1].columns.open.buffer);

    const start = Date.UTC(2024, 0, 1, 23, 0);
    const end = Date.UTC(2024, 0, 4, 0, 30);
    const range = await cache.readRange({ marketType: "spot", symbol: "BTCUSDT", interval: "1m" }, {
      start,
      end,
    });
    assertEquals(range.days, ["2024-01-01", "2024-01-02", "2024-01-04"]);
    assertEquals(range.missing, ["2024-01-03"]);
    assertEquals(range.corrupt, []);
    const n = 60 + 1440 + 30;
    for (const name of KLINE_COLUMNS) assertEquals(range.columns[name].length, n, name);
    assertEquals(range.columns.openTime[0], start);
    assertEquals(range.columns.openTime[60], Date.UTC(2024, 0, 2));
    assertEquals(range.columns.openTime[n - 1], end - 60_000);
    assertEquals(range.columns.close[61], synthetic("2024-01-02").close[1]);

    // One day: views of that day's file, trimmed.
    const one = await cache.readRange(
      { marketType: "spot", symbol: "BTCUSDT", interval: "1m" },
      { start: Date.UTC(2024, 0, 2, 1), end: Date.UTC(2024, 0, 2, 2) },
    );
    assertEquals(one.columns.openTime.length, 60);
    assertEquals(one.columns.openTime[0], Date.UTC(2024, 0, 2, 1));
  });
});

Deno.test("list, info, verify and clear", async () => {
  await withCache(async (cache, dir) => {
    const keys: CacheKey[] = [
      key("2024-01-01"),
      key("2024-01-02"),
      key("2024-01-01", { symbol: "ETHUSDT" }),
      key("2024-01-01", { marketType: "um", interval: "1h" as Interval }),
      key("2024-02-01", { marketType: "cm", symbol: "BTCUSD_PERP", interval: "1M" }),
    ];
    for (const k of keys) {
      const n = k.interval === "1h" ? 24 : k.interval === "1M" ? 1 : 1440;
      const step = k.interval === "1h" ? 3_600_000 : 60_000;
      await cache.write(k, synthetic(k.day, n, step));
    }
    await Deno.writeTextFile(join(dir, "spot", "klines", "BTCUSDT", "1m", "notes.txt"), "mine");

    const all = await cache.list();
    assertEquals(
      all.map((e) => `${e.key.marketType} ${e.key.symbol} ${e.key.interval} ${e.key.day}`),
      [
        "spot BTCUSDT 1m 2024-01-01",
        "spot BTCUSDT 1m 2024-01-02",
        "spot ETHUSDT 1m 2024-01-01",
        "um BTCUSDT 1h 2024-01-01",
        "cm BTCUSD_PERP 1M 2024-02-01",
      ],
    );
    assertEquals(all.map((e) => e.rows), [1440, 1440, 1440, 24, 1]);
    for (const e of all) {
      assertEquals(e.path, cache.pathFor(e.key));
      assertEquals(e.bytes, (await Deno.stat(e.path)).size);
    }
    assertEquals((await cache.list({ symbol: "ethusdt" })).length, 1);
    assertEquals((await cache.list({ marketType: "spot", startDay: "2024-01-02" })).length, 1);
    assertEquals((await cache.list({ interval: "1M" }))[0].key.symbol, "BTCUSD_PERP");

    const info = await cache.info();
    assertEquals(info.dir, dir);
    assertEquals(info.files, 5);
    assertEquals(info.rows, 1440 * 3 + 24 + 1);
    assertEquals(info.bytes, all.reduce((s, e) => s + e.bytes, 0));
    assertEquals(
      info.groups.map((
        g,
      ) => [g.marketType, g.symbol, g.interval, g.files, g.rows, g.firstDay, g.lastDay]),
      [
        ["spot", "BTCUSDT", "1m", 2, 2880, "2024-01-01", "2024-01-02"],
        ["spot", "ETHUSDT", "1m", 1, 1440, "2024-01-01", "2024-01-01"],
        ["um", "BTCUSDT", "1h", 1, 24, "2024-01-01", "2024-01-01"],
        ["cm", "BTCUSD_PERP", "1M", 1, 1, "2024-02-01", "2024-02-01"],
      ],
    );

    // verify: a flipped byte is found; kept without `remove`, deleted with it.
    const victim = cache.pathFor(keys[1]);
    const bytes = await Deno.readFile(victim);
    bytes[bytes.length >> 1] ^= 0xff;
    await Deno.writeFile(victim, bytes);
    const v1 = await cache.verify();
    assertEquals(v1.checked, 5);
    assertEquals(v1.rows, 1440 * 2 + 24 + 1);
    assertEquals(v1.corrupt.map((e) => e.path), [victim]);
    assertEquals(v1.removed, 0);
    assertEquals((await Deno.stat(victim)).size, bytes.length, "kept without remove");
    const v2 = await cache.verify({ remove: true });
    assertEquals([v2.corrupt.length, v2.removed], [1, 1]);
    await assertRejects(() => Deno.stat(victim), Deno.errors.NotFound);
    assertEquals((await cache.verify()).corrupt, []);

    // clear(filter) removes only matches; clear() the rest and prunes empty dirs.
    const c1 = await cache.clear({ marketType: "spot", symbol: "ETHUSDT" });
    assertEquals(c1.files, 1);
    assertEquals((await cache.list()).length, 3);
    const c2 = await cache.clear();
    assertEquals(c2.files, 3);
    assertEquals(
      c2.bytes,
      all.filter((e) => e.key.symbol !== "ETHUSDT" && e.path !== victim)
        .reduce((s, e) => s + e.bytes, 0),
    );
    assertEquals(await cache.list(), []);
    assertEquals(walk(dir), [
      join(dir, "spot", "klines", "BTCUSDT", "1m", "notes.txt"),
    ]);
    await assertRejects(
      () => Deno.stat(join(dir, "futures", "um", "klines", "BTCUSDT")),
      Deno.errors.NotFound,
    );
  });
});

Deno.test("keys are validated and normalized", () => {
  assertEquals(normalizeCacheKey(key("2024-01-01", { symbol: " ethusdt " })).symbol, "ETHUSDT");
  assertThrows(() => normalizeCacheKey(key("2024-1-01")), InvalidRangeError);
  assertThrows(() => normalizeCacheKey(key("2023-02-29")), InvalidRangeError);
  assertThrows(() => normalizeCacheKey(key("2024-01-01", { interval: "2m" as Interval })));
  assertThrows(() => normalizeCacheKey(key("2024-01-01", { marketType: "xx" as MarketType })));
});

Deno.test("defaultCacheDir honours VISION_DATA_CACHE_DIR, else the platform cache dir", () => {
  const saved = Deno.env.get("VISION_DATA_CACHE_DIR");
  try {
    Deno.env.set("VISION_DATA_CACHE_DIR", "/tmp/vd-cache-override");
    assertEquals(defaultCacheDir(), "/tmp/vd-cache-override");
    assertEquals(new KlineCache().dir, "/tmp/vd-cache-override");
    Deno.env.delete("VISION_DATA_CACHE_DIR");
    assert(defaultCacheDir().endsWith(join("", "vision-data")));
  } finally {
    if (saved === undefined) Deno.env.delete("VISION_DATA_CACHE_DIR");
    else Deno.env.set("VISION_DATA_CACHE_DIR", saved);
  }
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(
    defaultCacheDir({ os: "linux", env: env({ HOME: "/home/u", XDG_CACHE_HOME: "/xdg" }) }),
    join("/xdg", "vision-data"),
  );
  assertEquals(
    defaultCacheDir({ os: "linux", env: env({ HOME: "/home/u", XDG_CACHE_HOME: "rel" }) }),
    join("/home/u", ".cache", "vision-data"),
  );
  assertEquals(
    defaultCacheDir({ os: "darwin", env: env({ HOME: "/Users/u" }) }),
    join("/Users/u", "Library", "Caches", "vision-data"),
  );
  assertEquals(
    defaultCacheDir({ os: "windows", env: env({ LOCALAPPDATA: "/C/Users/u/AppData/Local" }) }),
    join("/C/Users/u/AppData/Local", "vision-data"),
  );
  assertEquals(
    defaultCacheDir({ os: "linux", env: env({ VISION_DATA_CACHE_DIR: "/x", HOME: "/h" }) }),
    "/x",
  );
});
