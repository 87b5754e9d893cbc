/**
 * `syncDataset` against the replica: sharded runs equal a single run and the replica's
 * truth; a re-run downloads nothing; a later end downloads only the new days; DuckDB reads
 * the dataset with Hive partitioning; `verifyDataset` finds a flipped byte and a lost file.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { join } from "@std/path";
import { DuckDBInstance } from "npm:@duckdb/node-api@1.5.6-r.1";
import { DEFAULT_SYMBOLS, startReplica } from "../testing/mod.ts";
import { verifyDataset } from "../src/dataset/mod.ts";
import {
  assertDatasetMatchesTruth,
  datasetFiles,
  manifestOf,
  NOW,
  replicaSync,
} from "./_dataset_helpers.ts";
import { cli } from "./_cli_helpers.ts";

const ROWS = { jan: 31 * 1440, feb: 29 * 1440 };

async function withDirs(n: number, fn: (...dirs: string[]) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "vd-dataset-test-" });
  try {
    await fn(...Array.from({ length: n }, (_, i) => join(base, `d${i}`)));
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test("shards 1/2 and 2/2 running concurrently equal one process and the replica's truth; a re-run downloads nothing", async () => {
  await using replica = await startReplica({ now: NOW });
  await withDirs(2, async (single, sharded) => {
    const one = await replicaSync(replica, single);
    assertEquals(one.unitsAll, 6);
    assertEquals(one.totals.newRows, 3 * (ROWS.jan + ROWS.feb));
    const [a, b] = await Promise.all([
      replicaSync(replica, sharded, { shard: "1/2" }),
      replicaSync(replica, sharded, { shard: "2/2" }),
    ]);
    assert(a.totals.units > 0 && b.totals.units > 0, "both shards own work");
    assertEquals(a.totals.units + b.totals.units, 6, "every unit is owned by exactly one shard");
    const files = datasetFiles(single);
    assertEquals(datasetFiles(sharded), files);
    assertEquals(files.filter((f) => f.endsWith(".parquet")).length, 6);
    assert(
      files.includes(
        "market=spot/symbol=BTCUSDT/interval=1m/year=2024/month=01/BTCUSDT-1m-2024-01.parquet",
      ),
    );
    for (const f of files.filter((f) => f.endsWith(".json"))) {
      assertEquals(manifestOf(sharded, f), manifestOf(single, f), f);
    }
    // Manifests carry each file's SHA-256, so equal manifests mean byte-identical files.
    assertEquals(await assertDatasetMatchesTruth(replica, sharded), 3 * (ROWS.jan + ROWS.feb));

    replica.clearLog();
    const again = await replicaSync(replica, sharded);
    assertEquals(again.totals.unchanged, 6);
    assertEquals(again.totals.newRows, 0);
    assertEquals(
      replica.requests.filter((e) => e.route === "archive" || e.route === "checksum").map((e) =>
        e.path
      ),
      [],
      "a re-run downloads no archive",
    );
  });
});

Deno.test("moving end forward downloads only the new days; the month file is rewritten with them", async () => {
  await using replica = await startReplica({ now: NOW });
  await withDirs(1, async (out) => {
    const opts = { symbols: "BTCUSDT", start: "2024-03-01" };
    await replicaSync(replica, out, { ...opts, end: "2024-03-04" });
    replica.clearLog();
    const r = await replicaSync(replica, out, { ...opts, end: "2024-03-06" });
    assertEquals(
      replica.requests.filter((e) => e.route === "archive").map((e) => e.path.split("/").at(-1))
        .sort(),
      ["BTCUSDT-1m-2024-03-04.zip", "BTCUSDT-1m-2024-03-05.zip"],
    );
    assertEquals(r.totals.newRows, 2 * 1440);
    const m = manifestOf(
      out,
      "market=spot/symbol=BTCUSDT/interval=1m/year=2024/month=03/_manifest.json",
    );
    assertEquals(m.rows, 5 * 1440);
    assertEquals(m.coverage, {
      start: "2024-03-01T00:00:00.000Z",
      end: "2024-03-06T00:00:00.000Z",
    });
    assertEquals(m.lastOpenTime, "2024-03-05T23:59:00.000Z");
    assertEquals((m.sources as unknown[]).length, 5, "one checksum per source archive");
    const truth = replica.klines({
      marketType: "spot",
      symbol: "BTCUSDT",
      interval: "1m",
      start: "2024-03-01",
      end: "2024-03-06",
    });
    const { readPartition } = await import("../src/dataset/_unit.ts");
    const got = await readPartition(
      join(
        out,
        "market=spot/symbol=BTCUSDT/interval=1m/year=2024/month=03/BTCUSDT-1m-2024-03.parquet",
      ),
    );
    assertEquals(Array.from(got.openTime), Array.from(truth.openTime));
    assertEquals(Array.from(got.close), Array.from(truth.close));
  });
});

Deno.test("days not published yet are left for the next run, not recorded as gaps", async () => {
  let clock = Date.parse("2024-03-04T03:00:00Z"); // 03-03 is published at 06:00
  await using replica = await startReplica({ now: () => clock });
  await withDirs(1, async (out) => {
    const opts = { symbols: "BTCUSDT", start: "2024-03-01", end: undefined };
    const first = await replicaSync(replica, out, opts);
    assertEquals(
      first.range.end,
      "2024-03-04T00:00:00.000Z",
      "end defaults to the last complete day",
    );
    const path = "market=spot/symbol=BTCUSDT/interval=1m/year=2024/month=03/_manifest.json";
    let m = manifestOf(out, path);
    assertEquals(m.coverage, {
      start: "2024-03-01T00:00:00.000Z",
      end: "2024-03-03T00:00:00.000Z",
    });
    assertEquals(m.gaps, []);
    clock = Date.parse("2024-03-04T12:00:00Z");
    replica.clearLog();
    await replicaSync(replica, out, opts);
    assertEquals(
      replica.requests.filter((e) => e.route === "archive").map((e) => e.path.split("/").at(-1)),
      ["BTCUSDT-1m-2024-03-03.zip"],
    );
    m = manifestOf(out, path);
    assertEquals(m.rows, 3 * 1440);
    assertEquals(m.gaps, []);
  });
});

Deno.test("DuckDB reads the dataset with hive_partitioning: the right counts per symbol and month", async () => {
  await using replica = await startReplica({ now: NOW });
  await withDirs(1, async (out) => {
    await replicaSync(replica, out);
    const instance = await DuckDBInstance.create(":memory:");
    const con = await instance.connect();
    try {
      const rows = (await con.runAndReadAll(
        `SELECT symbol, month::INTEGER AS month, count(*)::INTEGER AS n,
                epoch_ms(min(open_time)) AS first
         FROM read_parquet('${out}/**/*.parquet', hive_partitioning = true)
         WHERE market = 'spot' AND interval = '1m'
         GROUP BY ALL ORDER BY symbol, month`,
      )).getRowObjectsJS();
      const want = ["ADABTC", "BTCUSDT", "ETHUSDT"].flatMap((symbol) => [
        { symbol, month: 1, n: ROWS.jan, first: 1704067200000n },
        { symbol, month: 2, n: ROWS.feb, first: 1706745600000n },
      ]);
      assertEquals(rows, want);
    } finally {
      con.closeSync();
      instance.closeSync();
    }
  });
});

Deno.test("verify: a flipped byte and a deleted file are found offline; sync repairs both", async () => {
  await using replica = await startReplica({ now: NOW });
  await withDirs(1, async (out) => {
    await replicaSync(replica, out);
    assertEquals((await verifyDataset({ out })).problems, []);
    const p =
      "market=spot/symbol=ETHUSDT/interval=1m/year=2024/month=02/ETHUSDT-1m-2024-02.parquet";
    const gone =
      "market=spot/symbol=ADABTC/interval=1m/year=2024/month=01/ADABTC-1m-2024-01.parquet";
    const bytes = Deno.readFileSync(join(out, p));
    bytes[bytes.length >> 1] ^= 0x01;
    Deno.writeFileSync(join(out, p), bytes);
    Deno.removeSync(join(out, gone));
    replica.clearLog();
    const report = await verifyDataset({ out });
    assertEquals(report.problems.map((x) => x.path), [gone, p]);
    assertStringIncludes(report.problems[0].problem, "missing");
    assertStringIncludes(report.problems[1].problem, "SHA-256");
    const { code, out: stdout } = await cli("sync", "--out", out, "--verify");
    assertEquals(code, 1);
    assertStringIncludes(stdout, gone);
    assertEquals(replica.requests.length, 0, "verify downloads nothing");
    // The lost file's partition no longer matches its manifest: the next sync redoes it.
    await replicaSync(replica, out);
    assertEquals(
      replica.requests.filter((e) => e.route === "archive").map((e) => e.path.split("/").at(-1)),
      ["ADABTC-1m-2024-01.zip"],
    );
  });
});

Deno.test("gaps before listing and after delisting are recorded in the manifests, never filled", async () => {
  await using replica = await startReplica({
    now: NOW,
    symbols: [
      ...DEFAULT_SYMBOLS,
      {
        symbol: "GONEUSDT",
        marketType: "spot",
        listedAt: "2024-01-10T00:00:00Z",
        delistedAt: "2024-01-20T00:00:00Z",
      },
    ],
  });
  await withDirs(1, async (out) => {
    const opts = { symbols: "GONE*", start: "2023-11-01" };
    const r = await replicaSync(replica, out, opts);
    assertEquals(r.symbols, ["GONEUSDT"]);
    assertEquals(r.totals.written, 4);
    assertEquals(
      replica.requests.filter((e) => e.route === "archive" && e.path.includes("-2023-")).length,
      0,
      "months before the first archive are known from the listing: no request",
    );
    const dec = manifestOf(
      out,
      "market=spot/symbol=GONEUSDT/interval=1m/year=2023/month=12/_manifest.json",
    );
    assertEquals([dec.rows, dec.file], [0, null]);
    assertEquals(dec.gaps, [{
      start: "2023-12-01T00:00:00.000Z",
      end: "2024-01-01T00:00:00.000Z",
    }]);
    const dir = "market=spot/symbol=GONEUSDT/interval=1m/year=2024";
    const jan = manifestOf(out, `${dir}/month=01/_manifest.json`);
    assertEquals(jan.rows, 10 * 1440);
    assertEquals(jan.firstOpenTime, "2024-01-10T00:00:00.000Z");
    assertEquals(jan.lastOpenTime, "2024-01-19T23:59:00.000Z");
    assertEquals(jan.gaps, [
      { start: "2024-01-01T00:00:00.000Z", end: "2024-01-10T00:00:00.000Z" },
      { start: "2024-01-20T00:00:00.000Z", end: "2024-02-01T00:00:00.000Z" },
    ]);
    const feb = manifestOf(out, `${dir}/month=02/_manifest.json`);
    assertEquals([feb.rows, feb.file], [0, null], "no rows: no file, not an empty one");
    assertEquals(feb.gaps, [{
      start: "2024-02-01T00:00:00.000Z",
      end: "2024-03-01T00:00:00.000Z",
    }]);
    assertEquals(await assertDatasetMatchesTruth(replica, out), 10 * 1440);
    replica.clearLog();
    assertEquals((await replicaSync(replica, out, opts)).totals.unchanged, 4);
    assertEquals(replica.requests.filter((e) => e.route === "archive").length, 0);
  });
});
