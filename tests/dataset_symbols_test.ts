/**
 * Symbol discovery through the replica's S3 listing (paginated like S3: 1000 entries a page,
 * IsTruncated, NextMarker, max-keys) and exchangeInfo; and the dataset's bad-input errors.
 */
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { join } from "@std/path";
import { type ReplicaSymbol, startReplica } from "../testing/mod.ts";
import {
  DatasetDirError,
  DiskFullError,
  InvalidShardError,
  listSymbols,
  SymbolSelectionError,
  UnknownMarketError,
  verifyDataset,
} from "../src/dataset/mod.ts";
import { listLevel } from "../src/dataset/_s3_listing.ts";
import { parseShard, shardFromEnv } from "../src/dataset/_shard.ts";
import { runSync } from "../src/dataset/_sync.ts";
import { writePartitionParquet } from "../src/dataset/_unit.ts";
import type { MarketType } from "../src/market.ts";
import { cli } from "./_cli_helpers.ts";
import { main } from "../src/cli/main.ts";
import { datasetFiles, NOW, replicaSync } from "./_dataset_helpers.ts";

const MANY: ReplicaSymbol[] = Array.from({ length: 1205 }, (_, i) => ({
  symbol: `S${String(i).padStart(4, "0")}${i % 5 === 0 ? "BTC" : "USDT"}`,
  marketType: "spot",
  listedAt: "2024-01-01T00:00:00Z",
  ...(i === 7 ? { delistedAt: "2024-02-01T00:00:00Z" } : {}),
}));

Deno.test("listSymbols follows S3 pagination over 1205 symbols and filters by glob, quote and status", async () => {
  await using replica = await startReplica({ now: "2024-03-01T12:00:00Z", symbols: MANY });
  const base = {
    marketType: "spot" as const,
    visionUrl: replica.visionUrl,
    restUrl: replica.restUrl,
  };
  const all = await listSymbols({ ...base, exchangeInfo: false });
  assertEquals(all.length, 1205);
  assertEquals(all.map((s) => s.symbol), MANY.map((s) => s.symbol).sort());
  const pages = replica.requests.filter((e) => e.route === "listing");
  assertEquals(pages.length, 4, "two pages for daily/, two for monthly/");
  assert(
    pages.some((e) => new URLSearchParams(e.query).get("marker")),
    "the second page asks from the marker",
  );

  const level = await listLevel(replica.listingUrl, "data/spot/daily/klines/", {
    signal: new AbortController().signal,
    maxKeys: 100,
  });
  assertEquals(level.pages, 13);
  assertEquals(level.prefixes.length, 1205);
  assertEquals(new Set(level.prefixes).size, 1205, "no entry twice across pages");

  const usdt = await listSymbols({
    ...base,
    symbols: "S00*",
    quoteAsset: "USDT",
    status: "TRADING",
  });
  // S0000 … S0099: 100 names, 20 quoted in BTC, S0007 delisted (BREAK).
  assertEquals(usdt.length, 79);
  assert(usdt.every((s) => s.quoteAsset === "USDT" && s.status === "TRADING"));
  const broken = await listSymbols({ ...base, symbols: "S0007USDT", status: "BREAK" });
  assertEquals(broken.map((s) => [s.symbol, s.status, s.baseAsset]), [[
    "S0007USDT",
    "BREAK",
    "S0007",
  ]]);
  const withIv = await listSymbols({
    ...base,
    symbols: ["S0001USDT", "S0002USDT"],
    interval: "1h",
    exchangeInfo: false,
  });
  assertEquals(withIv.map((s) => s.symbol), ["S0001USDT", "S0002USDT"]);

  const e = await assertRejects(
    () => listSymbols({ ...base, symbols: "*XYZ" }),
    SymbolSelectionError,
  );
  assertStringIncludes(e.message, `"*XYZ"`);
  assertStringIncludes(e.message, "listed (1205): S0000BTC, S0001USDT");
  assertStringIncludes(e.message, "… 1185 more");
  const typo = await assertRejects(
    () => listSymbols({ ...base, symbols: "S0001USTD" }),
    SymbolSelectionError,
  );
  assertStringIncludes(typo.message, "did you mean S0001USDT");
});

Deno.test("bad input: unknown market, glob matching nothing, --shard 3/2, foreign output dir", async () => {
  await using replica = await startReplica({ now: NOW });
  const base = await Deno.makeTempDir({ prefix: "vd-dataset-bad-" });
  try {
    const out = join(base, "ds");
    const urls = ["--vision-url", replica.visionUrl, "--rest-url", replica.restUrl, "--now", NOW];
    const args = ["sync", "--out", out, "--start", "2024-01-01", "--end", "2024-01-02", ...urls];
    await assertRejects(
      () => replicaSync(replica, out, { marketType: "spott" as MarketType }),
      UnknownMarketError,
      `Unknown market "spott": allowed spot, um, cm`,
    );
    let r = await cli(...args, "--market", "spott");
    assertEquals(r.code, 2);
    assertStringIncludes(r.err, `Unknown market "spott"`);
    r = await cli(...args, "--symbols", "*XYZ");
    assertEquals(r.code, 2);
    assertStringIncludes(
      r.err,
      `No spot symbol matches "*XYZ"; listed (3): ADABTC, BTCUSDT, ETHUSDT`,
    );
    r = await cli(...args, "--shard", "3/2");
    assertEquals(r.code, 2);
    assertStringIncludes(r.err, `Invalid shard "3/2": expected K/N with 1 ≤ K ≤ N`);
    for (const bad of ["0/2", "1/0", "a/b", "2"]) {
      const e = (() => {
        try {
          parseShard(bad);
        } catch (err) {
          return err;
        }
      })();
      assert(e instanceof InvalidShardError, bad);
    }
    assertEquals(
      replica.requests.filter((e) => e.route === "archive").length,
      0,
      "nothing fetched",
    );
    await assertRejects(() => verifyDataset({ out }), DatasetDirError);

    const foreign = join(base, "home");
    await Deno.mkdir(foreign);
    await Deno.writeTextFile(join(foreign, "notes.txt"), "mine");
    r = await cli(
      "sync",
      "--out",
      foreign,
      "--start",
      "2024-01-01",
      "--end",
      "2024-01-02",
      "--symbols",
      "BTCUSDT",
      ...urls,
    );
    assertEquals(r.code, 2);
    assertStringIncludes(
      r.err,
      `Refusing to write a dataset into "${foreign}": it holds other files (notes.txt)`,
    );
    assertEquals(datasetFiles(foreign), ["notes.txt"], "the foreign dir is untouched");
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});

Deno.test("K/N from a Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0-based) and VISION_DATA_SHARD_COUNT", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(shardFromEnv(env({ JOB_COMPLETION_INDEX: "0", VISION_DATA_SHARD_COUNT: "4" })), {
    index: 1,
    count: 4,
  });
  assertEquals(shardFromEnv(env({ JOB_COMPLETION_INDEX: "3", VISION_DATA_SHARD_COUNT: "4" })), {
    index: 4,
    count: 4,
  });
  assertEquals(shardFromEnv(env({})), undefined);
  let err: unknown;
  try {
    shardFromEnv(env({ JOB_COMPLETION_INDEX: "4", VISION_DATA_SHARD_COUNT: "4" }));
  } catch (e) {
    err = e;
  }
  assert(err instanceof InvalidShardError);
  assertStringIncludes(err.message, "JOB_COMPLETION_INDEX=4");
});

Deno.test("disk full: a typed error, no partial file, the dataset written so far stays valid", async () => {
  await using replica = await startReplica({ now: NOW });
  const out = await Deno.makeTempDir({ prefix: "vd-dataset-full-" });
  try {
    let writes = 0;
    const err = await assertRejects(
      () =>
        runSync({
          out,
          marketType: "spot",
          symbols: "BTCUSDT",
          start: "2024-01-01",
          end: "2024-03-01",
          visionUrl: replica.visionUrl,
          now: () => replica.now(),
          concurrency: 1,
        }, {
          // The second partition's write runs out of space half-way, as a full disk would.
          writeData: async (columns, path) => {
            if (++writes === 1) return await writePartitionParquet(columns, path);
            const temp = `${path}.tmp-${Deno.pid}-full`;
            await Deno.writeFile(temp, new Uint8Array(10));
            await Deno.remove(temp);
            throw Object.assign(new Error("No space left on device (os error 28)"), {
              code: "ENOSPC",
            });
          },
        }),
      DiskFullError,
    );
    assertStringIncludes(err.message, "No space left on the device while writing");
    assertStringIncludes(err.message, "BTCUSDT-1m-2024-02.parquet");
    const files = datasetFiles(out);
    assertEquals(files.filter((f) => f.includes(".tmp-")), []);
    assertEquals(files.filter((f) => f.endsWith(".parquet")).length, 1);
    assertEquals((await verifyDataset({ out })).problems, [], "what was written is intact");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("CLI sync: plain progress lines when piped, a bar with rows/s and ETA on a terminal, a summary per symbol", async () => {
  await using replica = await startReplica({ now: NOW });
  const base = await Deno.makeTempDir({ prefix: "vd-dataset-cli-" });
  try {
    const args = (out: string) => [
      "sync",
      "--out",
      out,
      "--symbols",
      "BTCUSDT,ETHUSDT",
      "--interval",
      "1h",
      "--start",
      "2024-01-01",
      "--end",
      "2024-03-01",
      "--now",
      NOW,
      "--vision-url",
      replica.visionUrl,
      "--rest-url",
      replica.restUrl,
    ];
    const piped = await cli(...args(join(base, "a")));
    assertEquals(piped.code, 0, piped.err);
    assert(!piped.err.includes("\x1b["), "no control characters when piped");
    assertStringIncludes(piped.err, "sync 4/4 100%");
    assert(/BTCUSDT\s+2\s+2\s+0\s+0\s+1,440\s+1,440\s+2\s+0/.test(piped.err), piped.err);
    assertStringIncludes(piped.err, "shard 1/1: 4 of 4 units (4 written, 0 unchanged, 0 pending)");
    let err = "";
    const code = await main(args(join(base, "b")), {
      io: { stdout: () => {}, stderr: (s) => err += s, isTerminal: true },
    });
    assertEquals(code, 0);
    // deno-lint-ignore no-control-regex -- the TTY bar redraws with ESC[K
    assert(/\r\x1b\[Ksync\s+█+ 4\/4 100% [\d.]+ [kM]B [\d,]+ rows\/s, ETA 0 ms/.test(err), err);
    const again = await cli(...args(join(base, "a")), "--quiet");
    assertEquals([again.code, again.err], [0, ""]);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
