import { assertEquals, assertThrows } from "@std/assert";
import {
  allowedSources,
  cacheDaysOf,
  candleCeil,
  candleFloor,
  candleRange,
  clipRanges,
  CODE,
  completeDaysOf,
  daysToCache,
  isClosedDay,
  splitForRetry,
  splitMissing,
  subtractRanges,
  visionHorizon,
} from "../src/manager/_plan.ts";
import { UnsupportedIntervalError } from "../src/errors.ts";
import { allocateColumns, DataSource, Klines } from "../src/klines.ts";
import type { Interval } from "../src/market.ts";
import { DAY_MS } from "../src/time.ts";

const H = 3_600_000;
const M = 60_000;
const D0 = Date.UTC(2024, 0, 10); // a Wednesday

/** Klines of `interval` opening at each of `opens`, all from `source`. */
function rows(interval: Interval, opens: number[], source: number, lastIsOpen = false): Klines {
  const columns = allocateColumns(opens.length);
  const iv = interval === "1h" ? H : interval === "1d" ? DAY_MS : M;
  opens.forEach((t, i) => {
    columns.openTime[i] = t;
    columns.closeTime[i] = t + iv - 1;
  });
  return new Klines({
    symbol: "BTCUSDT",
    interval,
    marketType: "spot",
    columns,
    sources: new Uint8Array(opens.length).fill(source),
    lastIsOpen,
  });
}

function hours(from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += H) out.push(t);
  return out;
}

Deno.test("candleFloor/candleCeil align to the interval's grid", () => {
  assertEquals(candleFloor("1m", D0 + 90_500), D0 + M);
  assertEquals(candleCeil("1m", D0 + 90_500), D0 + 2 * M);
  assertEquals(candleCeil("1m", D0 + M), D0 + M);
  assertEquals(candleFloor("1h", D0 + 5 * H + 1), D0 + 5 * H);
  assertEquals(candleFloor("1d", D0 + 5 * H), D0);
  // 2024-01-10 is a Wednesday: its week opened Monday 2024-01-08.
  assertEquals(candleFloor("1w", D0 + H), Date.UTC(2024, 0, 8));
  assertEquals(candleCeil("1w", D0), Date.UTC(2024, 0, 15));
  assertEquals(candleFloor("1M", D0), Date.UTC(2024, 0, 1));
  assertEquals(candleCeil("1M", D0), Date.UTC(2024, 1, 1));
  assertEquals(candleCeil("1s", D0 + 1500), D0 + 2000);
});

Deno.test("candleRange starts at the first whole candle and stops before the open one", () => {
  const now = D0 + 10 * H + 30 * M + 15_000;
  const range = { start: D0 + 30_000, end: now };
  assertEquals(candleRange(range, "1m", now, false), { start: D0 + M, end: D0 + 10 * H + 30 * M });
  assertEquals(candleRange(range, "1m", now, true), { start: D0 + M, end: now });
  assertEquals(candleRange(range, "1h", now, false), { start: D0 + H, end: D0 + 10 * H });
  // No candle opens inside: an empty span, not an inverted one.
  const tiny = { start: D0 + 1000, end: D0 + 2000 };
  assertEquals(candleRange(tiny, "1m", now, false), { start: D0 + M, end: D0 + M });
});

Deno.test("subtractRanges and clipRanges", () => {
  const r = (start: number, end: number) => ({ start, end });
  assertEquals(subtractRanges([r(0, 100)], [r(10, 20), r(50, 60)]), [
    r(0, 10),
    r(20, 50),
    r(60, 100),
  ]);
  assertEquals(subtractRanges([r(0, 100)], [r(-5, 200)]), []);
  assertEquals(subtractRanges([r(0, 10), r(20, 30)], [r(5, 25)]), [r(0, 5), r(25, 30)]);
  assertEquals(subtractRanges([r(0, 10)], []), [r(0, 10)]);
  assertEquals(subtractRanges([r(0, 10)], [r(0, 10)]), []);
  assertEquals(clipRanges([r(0, 10), r(20, 30)], 5, 25), [r(5, 10), r(20, 25)]);
});

Deno.test("cacheDaysOf lists closed days only, and nothing for 3d/1w/1M", () => {
  const now = D0 + 3 * DAY_MS + 2 * H;
  const range = { start: D0 + 5 * H, end: now };
  assertEquals(cacheDaysOf(range, "1m", now).map((d) => d.day), [
    "2024-01-10",
    "2024-01-11",
    "2024-01-12",
  ]);
  // With 1h candles the last day is closed only an hour after midnight... plus one interval.
  assertEquals(isClosedDay(D0 + 2 * DAY_MS, "1h", D0 + 3 * DAY_MS + H), true);
  assertEquals(isClosedDay(D0 + 2 * DAY_MS, "1h", D0 + 3 * DAY_MS + H - 1), false);
  assertEquals(cacheDaysOf(range, "1w", now), []);
  assertEquals(cacheDaysOf(range, "1M", now), []);
});

Deno.test("visionHorizon: today for daily files, this month for monthly-only intervals", () => {
  const now = D0 + 7 * H;
  assertEquals(visionHorizon("1m", now), D0);
  assertEquals(visionHorizon("1s", now), D0);
  assertEquals(visionHorizon("1w", now), Date.UTC(2024, 0, 1));
});

Deno.test("splitMissing: AUTO sends archived days to Vision, the newest hours to REST", () => {
  const horizon = D0 + 2 * DAY_MS;
  const missing = [{ start: D0 + 5 * H, end: D0 + 2 * DAY_MS + 3 * H }];
  const both = { vision: true, rest: true, horizon };
  assertEquals(splitMissing(missing, { ...both, widenToDays: false }), {
    vision: [{ start: D0 + 5 * H, end: horizon }],
    rest: [{ start: horizon, end: horizon + 3 * H }],
  });
  // Widened to whole days so the first day can be cached; never past the horizon.
  assertEquals(splitMissing(missing, { ...both, widenToDays: true }), {
    vision: [{ start: D0, end: horizon }],
    rest: [{ start: horizon, end: horizon + 3 * H }],
  });
});

Deno.test("splitMissing: an enforced source gets everything", () => {
  const horizon = D0 + DAY_MS;
  const missing = [{ start: D0 + H, end: D0 + 2 * H }, {
    start: D0 + DAY_MS + H,
    end: D0 + 2 * DAY_MS,
  }];
  assertEquals(
    splitMissing(missing, { vision: true, rest: false, horizon, widenToDays: false }),
    { vision: missing, rest: [] },
  );
  assertEquals(
    splitMissing(missing, { vision: true, rest: false, horizon, widenToDays: true }).vision,
    [{ start: D0, end: D0 + 2 * DAY_MS }],
  );
  assertEquals(
    splitMissing(missing, { vision: false, rest: true, horizon, widenToDays: true }),
    { vision: [], rest: missing },
  );
  assertEquals(
    splitMissing(missing, { vision: false, rest: false, horizon, widenToDays: true }),
    { vision: [], rest: [] },
  );
});

Deno.test("daysToCache caches complete closed days fetched in full", () => {
  const now = D0 + 3 * DAY_MS + 2 * H;
  const all = rows("1h", hours(D0, D0 + 3 * DAY_MS + 2 * H), CODE.vision);
  const fetched = [{ start: D0, end: D0 + 3 * DAY_MS + 2 * H }];
  assertEquals(
    daysToCache(all, { interval: "1h", now, fetched }).map((d) => d.day),
    ["2024-01-10", "2024-01-11", "2024-01-12"],
  );
  // A day asked only in part is not cached, even if the rows happen to be there.
  assertEquals(
    daysToCache(all, { interval: "1h", now, fetched: [{ start: D0 + H, end: D0 + DAY_MS }] }),
    [],
  );
});

Deno.test("daysToCache never caches a partial day, a hole or REST's open candle", () => {
  const now = D0 + 2 * DAY_MS + 2 * H;
  const fetched = [{ start: D0, end: D0 + 2 * DAY_MS }];
  const holey = hours(D0, D0 + 2 * DAY_MS).filter((t) => t !== D0 + 5 * H);
  // The hole in day 1 comes from Vision: still not cached (could be a truncated file).
  assertEquals(
    daysToCache(rows("1h", holey, CODE.vision), { interval: "1h", now, fetched }).map((d) => d.day),
    ["2024-01-11"],
  );
  // A delisting-shaped day (rows stop early) is not cached.
  const truncated = hours(D0, D0 + 20 * H);
  assertEquals(
    daysToCache(rows("1h", truncated, CODE.vision), { interval: "1h", now, fetched }),
    [],
  );
  // A day not yet closed (plus one interval) is never cached, whatever its rows.
  const young = D0 + 2 * DAY_MS + H - 1;
  assertEquals(
    daysToCache(rows("1h", hours(D0 + DAY_MS, D0 + 2 * DAY_MS), CODE.rest, true), {
      interval: "1h",
      now: young,
      fetched,
    }),
    [],
  );
});

Deno.test("daysToCache caches a listing day only when Vision served it", () => {
  const now = D0 + 2 * DAY_MS;
  const fetched = [{ start: D0, end: D0 + DAY_MS }];
  const listing = hours(D0 + 6 * H, D0 + DAY_MS);
  assertEquals(
    daysToCache(rows("1h", listing, CODE.vision), { interval: "1h", now, fetched }).map((d) =>
      d.day
    ),
    ["2024-01-10"],
  );
  assertEquals(daysToCache(rows("1h", listing, CODE.rest), { interval: "1h", now, fetched }), []);
});

Deno.test("daysToCache: 1d candles are one row a day; longer intervals are never cached", () => {
  const now = D0 + 3 * DAY_MS;
  const fetched = [{ start: D0, end: D0 + 2 * DAY_MS }];
  const daily = rows("1d", [D0, D0 + DAY_MS], CODE.rest);
  assertEquals(daysToCache(daily, { interval: "1d", now, fetched }).map((d) => d.day), [
    "2024-01-10",
    "2024-01-11",
  ]);
  const weekly = new Klines({ ...daily.meta, interval: "1w", columns: daily.columns });
  assertEquals(daysToCache(weekly, { interval: "1w", now, fetched }), []);
});

Deno.test("allowedSources validates the interval against the sources the mode may use", () => {
  assertEquals(allowedSources("spot", "1s", DataSource.AUTO, true), {
    cache: true,
    vision: true,
    rest: true,
  });
  assertEquals(allowedSources("spot", "1m", DataSource.AUTO, false).cache, false);
  assertEquals(allowedSources("spot", "1m", DataSource.VISION, true), {
    cache: true,
    vision: true,
    rest: false,
  });
  assertEquals(allowedSources("um", "1h", DataSource.REST, true), {
    cache: true,
    vision: false,
    rest: true,
  });
  assertEquals(allowedSources("um", "1h", DataSource.CACHE, true), {
    cache: true,
    vision: false,
    rest: false,
  });
  const e = assertThrows(
    () => allowedSources("um", "1s", DataSource.AUTO, true),
    UnsupportedIntervalError,
  );
  assertEquals(e.interval, "1s");
  assertThrows(() => allowedSources("um", "1s", DataSource.VISION, true), UnsupportedIntervalError);
  assertThrows(() => allowedSources("um", "1s", DataSource.REST, true), UnsupportedIntervalError);
  assertThrows(
    () => allowedSources("spot", "1m", "bogus" as DataSource, true),
    TypeError,
  );
});

Deno.test("splitForRetry: archive periods, then a month's days, then nothing", () => {
  const jan = Date.UTC(2024, 0, 1);
  const feb = Date.UTC(2024, 1, 1);
  const mar = Date.UTC(2024, 2, 1);
  const span = { start: Date.UTC(2023, 11, 31), end: feb + DAY_MS };
  assertEquals(splitForRetry(span, "1m"), [
    { start: span.start, end: jan },
    { start: jan, end: feb },
    { start: feb, end: feb + DAY_MS },
  ]);
  assertEquals(splitForRetry({ start: feb, end: mar }, "1h").length, 29);
  assertEquals(splitForRetry({ start: feb, end: feb + DAY_MS }, "1h"), []);
  // Partial edge days are clipped to the span.
  assertEquals(splitForRetry({ start: jan + H, end: jan + DAY_MS + H }, "1m"), [
    { start: jan + H, end: jan + DAY_MS },
    { start: jan + DAY_MS, end: jan + DAY_MS + H },
  ]);
  // Monthly-only intervals: a single month is one file.
  assertEquals(splitForRetry({ start: jan, end: feb }, "1w"), []);
  assertEquals(splitForRetry({ start: jan, end: mar }, "1w").length, 2);
});

Deno.test("completeDaysOf: only closed days on the full grid inside the span, as row ranges", () => {
  // An archive of 3 days and 2 hours (a monthly file overhanging the span).
  const part = rows("1h", hours(D0 - 2 * H, D0 + 3 * DAY_MS), CODE.vision).columns;
  const span = { start: D0, end: D0 + 3 * DAY_MS };
  const now = D0 + 2 * DAY_MS + H; // day 3 is not closed yet
  assertEquals(completeDaysOf(part, { interval: "1h", now, span }), [
    { day: "2024-01-10", start: D0, end: D0 + DAY_MS, lo: 2, hi: 26 },
    { day: "2024-01-11", start: D0 + DAY_MS, end: D0 + 2 * DAY_MS, lo: 26, hi: 50 },
  ]);
  // A day asked only in part is left to daysToCache (which does not cache it either).
  assertEquals(
    completeDaysOf(part, { interval: "1h", now, span: { start: D0 + H, end: span.end } }).map((
      d,
    ) => d.day),
    ["2024-01-11"],
  );
  // A hole, a listing day (rows from 06:00) and an off-grid row: not complete.
  const holey = hours(D0, D0 + 2 * DAY_MS).filter((t) => t !== D0 + 5 * H);
  const listing = hours(D0 + 6 * H, D0 + 2 * DAY_MS);
  const offGrid = hours(D0, D0 + 2 * DAY_MS).map((t) => t === D0 + 5 * H ? t + 1 : t);
  for (const opens of [holey, listing, offGrid]) {
    assertEquals(
      completeDaysOf(rows("1h", opens, CODE.vision).columns, { interval: "1h", now, span })
        .map((d) => d.day),
      ["2024-01-11"],
    );
  }
  // Rows out of order: nothing early (the final pass merges them first).
  const swapped = hours(D0, D0 + 2 * DAY_MS);
  [swapped[30], swapped[31]] = [swapped[31], swapped[30]];
  assertEquals(
    completeDaysOf(rows("1h", swapped, CODE.vision).columns, { interval: "1h", now, span }),
    [],
  );
  // 1w and 1M are never cached.
  assertEquals(completeDaysOf(part, { interval: "1w", now, span }), []);
});
