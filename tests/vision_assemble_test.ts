/**
 * PartAssembler (how VisionDataClient merges archive parts as they arrive) against the
 * reference: `Klines.merge` of the parts cut to the range, with `findGaps` over the gap
 * range — for dense, holed, overlapping, off-grid, out-of-range, sparse and ungridded input.
 */
import { assert, assertEquals } from "@std/assert";
import {
  allocateColumns,
  findGaps,
  KLINE_COLUMNS,
  type KlineColumns,
  Klines,
  type KlinesMeta,
  SOURCE_CODES,
} from "../src/klines.ts";
import { firstOpenAtOrAfter, type Interval, intervalMs, nextOpenTime } from "../src/market.ts";
import type { TimeRange } from "../src/time.ts";
import { PartAssembler } from "../src/vision/_assemble.ts";
import { assertColumnsEqual } from "./_helpers.ts";

const VISION = SOURCE_CODES.indexOf("vision");

/** Columns for the given open times; every other field derived from the time (checkable). */
function part(openTimes: readonly number[], interval: Interval = "1m"): KlineColumns {
  const c = allocateColumns(openTimes.length);
  openTimes.forEach((t, i) => {
    c.openTime[i] = t;
    c.closeTime[i] = nextOpenTime(interval, t) - 1;
    c.open[i] = t / 1e6 + 0.01;
    c.high[i] = t / 1e6 + 0.5;
    c.low[i] = t / 1e6 - 0.5;
    c.close[i] = t / 1e6 + 0.02;
    c.volume[i] = (t % 997) / 7;
    c.quoteVolume[i] = (t % 991) * 3.25;
    c.trades[i] = t % 1000;
    c.takerBuyBaseVolume[i] = (t % 983) / 11;
    c.takerBuyQuoteVolume[i] = (t % 977) * 1.5;
  });
  return c;
}

function copyOf(c: KlineColumns): KlineColumns {
  const out = {} as KlineColumns;
  for (const name of KLINE_COLUMNS) out[name] = c[name].slice();
  return out;
}

/** The merge the client did before the assembler: cut to the range, `Klines.merge`. */
function reference(
  parts: KlineColumns[],
  meta: KlinesMeta,
  range: TimeRange,
  gapRange: TimeRange,
): Klines {
  const cut = parts.map((c) => {
    const keep: number[] = [];
    c.openTime.forEach((t, i) => {
      if (t >= range.start && t < range.end) keep.push(i);
    });
    const cols = allocateColumns(keep.length);
    for (const name of KLINE_COLUMNS) keep.forEach((i, j) => cols[name][j] = c[name][i]);
    return new Klines({
      ...meta,
      columns: cols,
      sources: new Uint8Array(keep.length).fill(VISION),
    });
  });
  if (cut.every((k) => k.length === 0)) {
    const gaps = findGaps(new Float64Array(0), meta.interval, gapRange);
    return new Klines({ ...meta, columns: allocateColumns(0), sources: new Uint8Array(0), gaps });
  }
  return Klines.merge(cut, meta, gapRange);
}

function check(
  parts: KlineColumns[],
  interval: Interval,
  range: TimeRange,
  options: { maxGridRows?: number } = {},
): Klines {
  const meta: KlinesMeta = { symbol: "BTCUSDT", interval, marketType: "spot" };
  const gapRange = { start: firstOpenAtOrAfter(interval, range.start), end: range.end };
  const want = reference(parts.map(copyOf), meta, range, gapRange);
  const assembler = new PartAssembler({ meta, range, gapRange, ...options });
  for (const p of parts) assembler.add(p);
  const got = assembler.finish();
  assertColumnsEqual(got, want);
  assertEquals(got.gaps, want.gaps);
  assertEquals([...got.sources!], [...want.sources!]);
  return got;
}

const M = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const times = (from: number, n: number, step = M) =>
  Array.from({ length: n }, (_, i) => from + i * step);

Deno.test("dense parts in any order fill the grid: the result is the grid, no copy", () => {
  const parts = [
    part(times(T0 + 100 * M, 100)),
    part(times(T0, 100)),
    part(times(T0 + 200 * M, 50)),
  ];
  const got = check(parts, "1m", { start: T0, end: T0 + 250 * M });
  assertEquals(got.gaps, []);
  // The columns are the standard layout of one buffer of exactly n rows.
  assertEquals(got.openTime.buffer.byteLength, 250 * 8 * KLINE_COLUMNS.length);
  for (const name of KLINE_COLUMNS) assert(got[name].buffer === got.openTime.buffer);
});

Deno.test("missing rows and a missing part: compacted in place, exact gaps", () => {
  const a = times(T0, 100).filter((t) => t !== T0 + 7 * M && t !== T0 + 8 * M);
  const c = times(T0 + 200 * M, 100).filter((_, i) => i % 10 !== 3);
  check([part(c), part(a)], "1m", { start: T0, end: T0 + 300 * M });
});

Deno.test("a range cutting into parts, starting mid-candle, ending mid-candle", () => {
  const parts = [part(times(T0, 120)), part(times(T0 + 120 * M, 120))];
  check(parts, "1m", { start: T0 + 30 * M + 5, end: T0 + 200 * M + 7 });
});

Deno.test("overlapping parts (duplicate open times) go through Klines.merge: first wins", () => {
  const first = part(times(T0, 100));
  const second = part(times(T0 + 50 * M, 100));
  second.close.fill(-1); // distinguishable: the duplicates must keep the first part's rows
  const got = check([first, second], "1m", { start: T0, end: T0 + 150 * M });
  assertEquals(got.close[60], first.close[60]);
});

Deno.test("off-grid, unsorted and out-of-range rows do not break the merge", () => {
  const offGrid = part([T0 + 5 * M + 1, T0 + 6 * M]);
  const unsorted = part([T0 + 20 * M, T0 + 10 * M, T0 + 30 * M]);
  const outside = part([T0 - 5 * M, T0 + 40 * M, T0 + 10_000 * M]);
  // A row out of the range between two in-range rows that are adjacent on the grid.
  const skipped = part([T0 + 44 * M, T0 - 3 * M, T0 + 45 * M]);
  check([part(times(T0, 5)), offGrid, unsorted, outside, skipped], "1m", {
    start: T0,
    end: T0 + 50 * M,
  });
});

Deno.test("sparse data (a late listing) gets an exact buffer, not the whole grid", () => {
  const got = check([part(times(T0 + 900 * M, 100))], "1m", { start: T0, end: T0 + 1000 * M });
  assertEquals(got.openTime.buffer.byteLength, 100 * 8 * KLINE_COLUMNS.length);
  assertEquals(got.gaps, [{ start: T0, end: T0 + 900 * M }]);
});

Deno.test("no rows at all: the whole range is one gap", () => {
  const got = check([part([]), part([])], "1m", { start: T0, end: T0 + 10 * M });
  assertEquals(got.length, 0);
  assertEquals(got.gaps, [{ start: T0, end: T0 + 10 * M }]);
});

Deno.test("every interval, including 1w (Monday grid), 3d and 1M (no grid)", () => {
  const end = Date.UTC(2024, 6, 1);
  for (const interval of ["1s", "1h", "1d", "3d", "1w"] as Interval[]) {
    const step = intervalMs(interval);
    const start = firstOpenAtOrAfter(interval, T0);
    const n = interval === "1s" ? 5000 : Math.floor((end - start) / step);
    const all = times(start, n, step).filter((_, i) => i % 17 !== 5);
    const cut = Math.floor(all.length / 2);
    check([part(all.slice(cut), interval), part(all.slice(0, cut), interval)], interval, {
      start: T0,
      end: interval === "1s" ? T0 + 5000 * 1000 : end,
    });
  }
  const months = Array.from({ length: 6 }, (_, m) => Date.UTC(2024, m, 1)).filter((_, m) =>
    m !== 2
  );
  check([part(months.slice(2), "1M"), part(months.slice(0, 2), "1M")], "1M", { start: T0, end });
});

Deno.test("a grid too large is not allocated: the parts are merged at the end", () => {
  const parts = [part(times(T0 + 100 * M, 100)), part(times(T0, 90))];
  check(parts, "1m", { start: T0, end: T0 + 200 * M }, { maxGridRows: 10 });
});

Deno.test("random parts against the reference", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let round = 0; round < 40; round++) {
    const slots = 50 + Math.floor(rnd() * 400);
    const parts: KlineColumns[] = [];
    let at = 0;
    while (at < slots) {
      const len = 1 + Math.floor(rnd() * 80);
      const keep = times(T0 + at * M, len).filter(() => rnd() > 0.05);
      if (rnd() > 0.1) parts.push(part(keep));
      at += len;
    }
    if (rnd() < 0.2) parts.push(part(times(T0 + Math.floor(rnd() * slots) * M, 5))); // overlap
    parts.sort(() => rnd() - 0.5);
    const start = T0 + Math.floor(rnd() * 20) * M + (rnd() < 0.3 ? 1234 : 0);
    const end = T0 + (slots - Math.floor(rnd() * 20)) * M;
    check(parts, "1m", { start, end });
  }
});
