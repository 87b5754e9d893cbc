/**
 * `syncDataset({ data: "aggTrades" })` and `vision-data sync --data aggTrades` against the
 * replica: daily partitions equal the replica's truth row for row, a re-run downloads
 * nothing, `--verify` finds a flipped byte, a day not published yet is left for later, and
 * an unknown data type is a typed error naming what is allowed.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "@std/path";
import { parquetReadObjects } from "hyparquet";
import { startReplica } from "../testing/mod.ts";
import { syncDataset, verifyDataset } from "../src/dataset/mod.ts";
import { type AggTradeColumns, allocateAggTradeColumns } from "../src/agg_trades/columns.ts";
import type { AGG_TRADES_EXPORT_COLUMNS } from "../src/agg_trades/export.ts";
import { UnsupportedDataError } from "../src/data_errors.ts";
import { DAY_MS } from "../src/time.ts";
import { datasetFiles, manifestOf } from "./_dataset_helpers.ts";
import { NOW } from "./_manager_helpers.ts";
import { cli } from "./_cli_helpers.ts";

const DAY = Date.parse("2026-10-10T00:00:00Z");
const SYMBOLS = ["BTCUSDT", "ETHUSDT"];

const FIELDS: Record<(typeof AGG_TRADES_EXPORT_COLUMNS)[number], keyof AggTradeColumns> = {
  agg_trade_id: "aggTradeId",
  price: "price",
  quantity: "quantity",
  first_trade_id: "firstTradeId",
  last_trade_id: "lastTradeId",
  transact_time: "transactTime",
  is_buyer_maker: "isBuyerMaker",
};

/** A partition's Parquet file read back into columns. */
async function readAggPartition(path: string): Promise<AggTradeColumns> {
  const rows = await parquetReadObjects({ file: (await Deno.readFile(path)).buffer, utf8: false });
  const c = allocateAggTradeColumns(rows.length);
  for (const [name, field] of Object.entries(FIELDS)) {
    const out = c[field];
    for (let i = 0; i < rows.length; i++) {
      const v = rows[i][name];
      out[i] = v instanceof Date ? v.getTime() : typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
    }
  }
  return c;
}

function assertAggEqual(got: AggTradeColumns, want: AggTradeColumns, label: string): void {
  assertEquals(got.aggTradeId.length, want.aggTradeId.length, `${label}: rows`);
  for (const field of Object.values(FIELDS)) {
    for (let i = 0; i < want[field].length; i++) {
      if (!Object.is(got[field][i], want[field][i])) {
        throw new Error(`${label}: ${field}[${i}]: got ${got[field][i]}, want ${want[field][i]}`);
      }
    }
  }
}

async function withDir(fn: (out: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "vd-dataset-agg-test-" });
  try {
    await fn(join(base, "d"));
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test("aggTrades sync: 2 symbols x 2 days equal the truth row for row; a re-run downloads nothing; verify finds a flipped byte", async () => {
  await using replica = await startReplica({ now: NOW });
  await withDir(async (out) => {
    const args = [
      "sync",
      "--out",
      out,
      "--data",
      "aggTrades",
      "--symbols",
      SYMBOLS.join(","),
      "--start",
      "2026-10-10",
      "--end",
      "2026-10-12",
      "--vision-url",
      replica.visionUrl,
      "--rest-url",
      replica.restUrl,
      "--now",
      new Date(NOW).toISOString(),
      "--quiet",
    ];
    const first = await cli(...args);
    assertEquals(first.code, 0, first.err);
    const files = datasetFiles(out).filter((f) => f.endsWith(".parquet"));
    assertEquals(files, [
      "market=spot/data=aggTrades/symbol=BTCUSDT/year=2026/month=10/day=10/BTCUSDT-aggTrades-2026-10-10.parquet",
      "market=spot/data=aggTrades/symbol=BTCUSDT/year=2026/month=10/day=11/BTCUSDT-aggTrades-2026-10-11.parquet",
      "market=spot/data=aggTrades/symbol=ETHUSDT/year=2026/month=10/day=10/ETHUSDT-aggTrades-2026-10-10.parquet",
      "market=spot/data=aggTrades/symbol=ETHUSDT/year=2026/month=10/day=11/ETHUSDT-aggTrades-2026-10-11.parquet",
    ]);
    let rows = 0;
    for (const f of files) {
      const [, symbol, day] = /symbol=(\w+)\/.*-aggTrades-(\d{4}-\d\d-\d\d)\.parquet$/.exec(f)!;
      const start = Date.parse(`${day}T00:00:00Z`);
      const truth = replica.aggTrades({ marketType: "spot", symbol, start, end: start + DAY_MS });
      assert(truth.aggTradeId.length > 1000, `${f}: the replica has trades that day`);
      assertAggEqual(await readAggPartition(join(out, f)), truth, f);
      const m = manifestOf(out, join(f, "..", "_manifest.json"));
      const n = truth.transactTime.length;
      assertEquals(m.data, "aggTrades");
      assertEquals(m.rows, n);
      assertEquals(m.firstTransactTime, new Date(truth.transactTime[0]).toISOString());
      assertEquals(m.lastTransactTime, new Date(truth.transactTime[n - 1]).toISOString());
      assertEquals(m.gaps, []);
      const sources = m.sources as { archive: string; sha256: string }[];
      assertEquals(sources.map((s) => s.archive), [`${symbol}-aggTrades-${day}.zip`]);
      assertEquals(sources[0].sha256.length, 64);
      rows += n;
    }

    replica.clearLog();
    const again = await syncDataset({
      out,
      marketType: "spot",
      data: "aggTrades",
      symbols: SYMBOLS,
      start: DAY,
      end: DAY + 2 * DAY_MS,
      visionUrl: replica.visionUrl,
      restUrl: replica.restUrl,
      now: () => replica.now(),
    });
    assertEquals(again.data, "aggTrades");
    assertEquals(again.totals.unchanged, 4);
    assertEquals(again.totals.newRows, 0);
    assertEquals(again.totals.rows, rows);
    assertEquals(
      replica.requests.filter((e) => e.route === "archive" || e.route === "checksum"),
      [],
      "a re-run downloads no archive",
    );

    assertEquals((await verifyDataset({ out })).problems, []);
    const bytes = Deno.readFileSync(join(out, files[1]));
    bytes[bytes.length >> 1] ^= 0x01;
    Deno.writeFileSync(join(out, files[1]), bytes);
    const verify = await cli("sync", "--out", out, "--verify");
    assertEquals(verify.code, 1);
    assertStringIncludes(verify.out, files[1]);
    assertStringIncludes(verify.out, "SHA-256");
  });
});

Deno.test("aggTrades sync: a day not published yet is left pending (no manifest), a later run writes it", async () => {
  // Yesterday's daily archive appears a day after its end: at NOW it is not out yet.
  await using replica = await startReplica({ now: NOW, publicationLagMs: { daily: DAY_MS } });
  await withDir(async (out) => {
    const today = Math.floor(NOW / DAY_MS) * DAY_MS;
    const opts = {
      out,
      marketType: "spot" as const,
      data: "aggTrades" as const,
      symbols: "BTCUSDT",
      start: today - 2 * DAY_MS,
      visionUrl: replica.visionUrl,
      restUrl: replica.restUrl,
    };
    const r = await syncDataset({ ...opts, now: () => replica.now() });
    assertEquals([r.totals.units, r.totals.written, r.totals.pending, r.totals.gaps], [2, 1, 1, 0]);
    const manifests = datasetFiles(out).filter((f) => f.endsWith("_manifest.json"));
    assertEquals(manifests.map((f) => /day=(\d\d)/.exec(f)![1]), [
      new Date(today - 2 * DAY_MS).toISOString().slice(8, 10),
    ]);
    // A day later the archive is out: only the pending day is downloaded.
    replica.clearLog();
    replica.setNow(NOW + DAY_MS);
    const later = await syncDataset({ ...opts, end: today, now: () => replica.now() });
    assertEquals([
      later.totals.written,
      later.totals.unchanged,
      later.totals.pending,
      later.totals.gaps,
    ], [1, 1, 0, 0]);
    assertEquals(
      replica.requests.filter((e) => e.route === "archive").map((e) => e.path.split("/").at(-1)),
      [`BTCUSDT-aggTrades-${new Date(today - DAY_MS).toISOString().slice(0, 10)}.zip`],
    );
  });
});

Deno.test("aggTrades sync: shards 1/2 and 2/2 running concurrently equal one process", async () => {
  await using replica = await startReplica({ now: NOW });
  await withDir(async (base) => {
    const run = (out: string, shard?: string) =>
      syncDataset({
        out,
        marketType: "spot",
        data: "aggTrades",
        symbols: SYMBOLS,
        start: DAY,
        end: DAY + 2 * DAY_MS,
        shard,
        visionUrl: replica.visionUrl,
        restUrl: replica.restUrl,
        now: () => replica.now(),
      });
    const single = join(base, "single");
    const sharded = join(base, "sharded");
    const one = await run(single);
    assertEquals([one.unitsAll, one.totals.written], [4, 4]);
    const [a, b] = await Promise.all([run(sharded, "1/2"), run(sharded, "2/2")]);
    assert(a.totals.units > 0 && b.totals.units > 0, "both shards own work");
    assertEquals(a.totals.units + b.totals.units, 4, "every unit is owned by exactly one shard");
    const files = datasetFiles(single);
    assertEquals(datasetFiles(sharded), files);
    // Manifests carry each file's SHA-256, so equal manifests mean byte-identical files.
    for (const f of files.filter((f) => f.endsWith(".json"))) {
      assertEquals(manifestOf(sharded, f), manifestOf(single, f), f);
    }
  });
});

Deno.test("sync: an unknown data type is a typed error naming what is allowed", async () => {
  const err = await assertRejects(
    () =>
      syncDataset({
        out: "unused",
        marketType: "spot",
        data: "trades" as "klines",
        start: "2024-01-01",
      }),
    UnsupportedDataError,
  );
  assertStringIncludes(err.message, "trades");
  assertStringIncludes(err.message, "aggTrades");
});
