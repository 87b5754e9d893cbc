import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { join } from "@std/path";
import { tableFromIPC } from "apache-arrow";
import { parquetReadObjects } from "hyparquet";
import { startReplica } from "../testing/mod.ts";
import { cli } from "./_cli_helpers.ts";

const NOW = "2026-11-27T12:00:00Z";

async function setup() {
  const replica = await startReplica({ now: NOW });
  const dir = await Deno.makeTempDir({ prefix: "vd-cli-more-" });
  const urls = ["--vision-url", replica.visionUrl, "--rest-url", replica.restUrl, "--now", NOW];
  return {
    replica,
    dir,
    run: (...args: string[]) =>
      cli("fetch", ...args, ...urls, "--cache-dir", join(dir, "cache"), "--quiet"),
    async [Symbol.asyncDispose]() {
      await replica[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("fetch --data funding writes CSV, Arrow and Parquet of the replica's rows", async () => {
  await using t = await setup();
  const q = {
    marketType: "um" as const,
    symbol: "BTCUSDT",
    start: "2026-06-01",
    end: "2026-08-01",
  };
  const truth = t.replica.fundingRates(q);
  const range = ["--market", "um", "--start", q.start, "--end", q.end, "--data", "funding"];
  const csv = join(t.dir, "f.csv");
  assertEquals((await t.run("BTCUSDT", ...range, "--out", csv)).code, 0);
  const lines = (await Deno.readTextFile(csv)).trim().split("\n");
  assertEquals(lines[0], "funding_time,funding_rate,mark_price,interval_hours");
  assertEquals(lines.length - 1, truth.fundingTime.length);
  const [t0, r0, m0, h0] = lines[1].split(",");
  assertEquals([Number(t0), Number(r0), m0, Number(h0)], [
    truth.fundingTime[0],
    truth.fundingRate[0],
    "", // from the archive: no mark price
    truth.intervalHours[0],
  ]);
  const arrow = join(t.dir, "f.arrow");
  assertEquals((await t.run("BTCUSDT", ...range, "--out", arrow)).code, 0);
  const table = tableFromIPC(await Deno.readFile(arrow));
  assertEquals(table.numRows, truth.fundingTime.length);
  assertEquals(table.getChild("funding_rate")!.get(3), truth.fundingRate[3]);
  const pq = join(t.dir, "f.parquet");
  assertEquals((await t.run("BTCUSDT", ...range, "--out", pq)).code, 0);
  const buf = await Deno.readFile(pq);
  const rows = await parquetReadObjects({ file: buf.buffer });
  assertEquals(rows.length, truth.fundingTime.length);
  assertEquals(rows[5].funding_rate, truth.fundingRate[5]);
});

Deno.test("fetch --kind mark previews mark price klines; gaps exit 3", async () => {
  await using t = await setup();
  const r = await t.run(
    "BTCUSDT",
    "--market",
    "um",
    "--interval",
    "1h",
    "--kind",
    "mark",
    "--start",
    "2026-10-10",
    "--end",
    "2026-10-11",
  );
  assertEquals(r.code, 0, r.err);
  const truth = t.replica.klines({
    marketType: "um",
    symbol: "BTCUSDT",
    interval: "1h",
    start: "2026-10-10",
    end: "2026-10-11",
    kind: "mark",
  });
  assertStringIncludes(r.out, String(truth.open[0]));
  // Funding before listing: gaps, exit 3.
  const g = await t.run(
    "ETHUSDT",
    "--market",
    "um",
    "--data",
    "funding",
    "--start",
    "2019-09-01",
    "--end",
    "2019-12-01",
  );
  assertEquals(g.code, 3);
});

Deno.test("bad --data and --kind are usage errors (exit 2) naming what is allowed", async () => {
  await using t = await setup();
  const base = ["--start", "2026-10-10", "--end", "2026-10-11"];
  const cases: [string[], string][] = [
    [["--kind", "index"], 'kline kind "index" is not offered on spot; allowed: trades'],
    [
      ["--data", "funding"],
      'data type "funding" is not offered on spot; allowed: klines, aggTrades',
    ],
    [
      ["--market", "um", "--data", "trades"],
      'data type "trades" is not offered on um; allowed: klines, funding, aggTrades',
    ],
  ];
  for (const [args, message] of cases) {
    const r = await cli("fetch", "BTCUSDT", ...base, ...args);
    assertEquals(r.code, 2, args.join(" "));
    assertStringIncludes(r.err, message);
  }
  assert(t.replica.requests.length === 0);
});

Deno.test("fetch --data aggTrades streams the archive, then REST for the unpublished edge", async () => {
  await using t = await setup();
  const out = join(t.dir, "agg.csv");
  // The last hour of the 26th comes from its archive, the 27th (not over yet) from REST.
  const q = {
    marketType: "um" as const,
    symbol: "BTCUSDT",
    start: "2026-11-26T23:00:00Z",
    end: "2026-11-27T00:30:00Z",
  };
  const r = await t.run(
    "BTCUSDT",
    "--market",
    "um",
    "--data",
    "aggTrades",
    "--start",
    q.start,
    "--end",
    q.end,
    "--out",
    out,
  );
  assertEquals(r.code, 0, r.err);
  const truth = t.replica.aggTrades(q);
  const lines = (await Deno.readTextFile(out)).trim().split("\n");
  assertEquals(lines.length - 1, truth.aggTradeId.length);
  assertEquals(Number(lines.at(-1)!.split(",")[0]), truth.aggTradeId.at(-1));
  assert(t.replica.requests.some((e) => e.route === "aggTrades"));
  assert(t.replica.requests.some((e) => e.path.includes("/aggTrades/")));
});
