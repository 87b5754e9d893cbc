import { assert, assertEquals, assertRejects } from "@std/assert";
import { AGG_TRADE_NUMERIC, type AggTradeColumns } from "../src/agg_trades/columns.ts";
import { collectAggTrades } from "../src/agg_trades/options.ts";
import { ClientClosedError } from "../src/errors.ts";
import type { TimeRange } from "../src/time.ts";
import { startReplica } from "../testing/mod.ts";
import { managerFor, NOW, requestsOf, tempCacheDir } from "./_manager_helpers.ts";

const H = 3_600_000;

function assertAggEqual(got: AggTradeColumns, want: AggTradeColumns): void {
  assertEquals(got.aggTradeId.length, want.aggTradeId.length, "rows");
  for (const k of AGG_TRADE_NUMERIC) {
    for (let i = 0; i < want[k].length; i++) {
      if (got[k][i] !== want[k][i]) throw new Error(`${k}[${i}]: ${got[k][i]} != ${want[k][i]}`);
    }
  }
  assertEquals(Array.from(got.isBuyerMaker), Array.from(want.isBuyerMaker));
}

Deno.test("manager.streamAggTrades: archives, then REST for the days not published yet = truth", async () => {
  await using replica = await startReplica({ now: NOW });
  await using cache = await tempCacheDir();
  await using m = managerFor(replica, cache.path, { marketType: "um" });
  // Two days back from NOW (10:30Z): the day before yesterday is archived, yesterday and
  // today are not published yet (the replica's daily lag), so REST serves them.
  const q = { symbol: "BTCUSDT", start: NOW - 40 * H, end: NOW - H };
  const gaps: TimeRange[] = [];
  const got = await collectAggTrades(m.streamAggTrades({ ...q, onGap: (g) => gaps.push(g) }));
  assertAggEqual(got, replica.aggTrades({ marketType: "um", ...q }));
  assert(replica.requests.some((r) => r.route === "archive" && r.path.includes("aggTrades")));
  assert(requestsOf(replica, "aggTrades") > 0, "REST asked for the recent edge");
  assertEquals(gaps, [], "every span had rows");
  // Ids strictly increase across the archive/REST seam.
  for (let i = 1; i < got.aggTradeId.length; i++) assert(got.aggTradeId[i] > got.aggTradeId[i - 1]);
});

Deno.test("manager.streamAggTrades: a closed manager refuses; disposing mid-stream rejects the iteration", async () => {
  await using replica = await startReplica({ now: NOW });
  await using cache = await tempCacheDir();
  const m = managerFor(replica, cache.path, { marketType: "um" });
  const q = { symbol: "BTCUSDT", start: NOW - 70 * H, end: NOW - H, chunkRows: 1000 };
  const it = m.streamAggTrades(q)[Symbol.asyncIterator]();
  const first = await it.next();
  assert(!first.done && first.value.aggTradeId.length > 0);
  await m[Symbol.asyncDispose]();
  await assertRejects(async () => {
    while (!(await it.next()).done) { /* drain */ }
  }, ClientClosedError);
  assertEquals(m.lastDisposeReport?.errors.length ?? 0, 0);
  await assertRejects(async () => {
    await m.streamAggTrades(q).next();
  }, ClientClosedError);
});
