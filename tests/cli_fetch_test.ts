import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { join } from "@std/path";
import { tableFromIPC } from "apache-arrow";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { startReplica } from "../testing/mod.ts";
import { cli } from "./_cli_helpers.ts";
import { walk } from "./_helpers.ts";

const NOW = "2026-11-27T12:00:00Z";
const RANGE = ["--start", "2024-01-01", "--end", "2024-01-04", "--now", NOW];

async function setup() {
  const replica = await startReplica({ now: NOW });
  const dir = await Deno.makeTempDir({ prefix: "vd-cli-test-" });
  const urls = ["--vision-url", replica.visionUrl, "--rest-url", replica.restUrl];
  const cacheDir = join(dir, "cache");
  return {
    replica,
    dir,
    cacheDir,
    fetch: (...extra: string[]) =>
      cli(
        "fetch",
        "BTCUSDT",
        "--interval",
        "1h",
        ...RANGE,
        ...urls,
        "--cache-dir",
        cacheDir,
        ...extra,
      ),
    async [Symbol.asyncDispose]() {
      await replica[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("fetch writes CSV, Arrow and Parquet with the replica's rows", async () => {
  await using t = await setup();
  const truth = t.replica.klines({
    marketType: "spot",
    symbol: "BTCUSDT",
    interval: "1h",
    start: "2024-01-01",
    end: "2024-01-04",
  });
  assertEquals(truth.openTime.length, 72);

  const csv = join(t.dir, "k.csv");
  const first = await t.fetch("--out", csv);
  assertEquals(first.code, 0, first.err);
  assertEquals(first.out, "", "results go to the file, not stdout");
  assertStringIncludes(first.err, "BTCUSDT spot 1h: 72 rows (vision 72)");
  assertStringIncludes(first.err, "gaps: none");
  assertMatch(first.err, /wrote .*k\.csv \([\d.]+ kB\)/);
  assertStringIncludes(first.err, "cache: 0 day hits, 3 misses, 3 days written");
  const lines = (await Deno.readTextFile(csv)).trimEnd().split("\n");
  assertEquals(lines.length, 1 + 72);
  assertEquals(lines[0].split(",")[8], "count");
  lines.slice(1).forEach((line, i) => {
    const f = line.split(",").map(Number);
    assertEquals([f[0], f[4], f[8]], [truth.openTime[i], truth.close[i], truth.trades[i]]);
  });

  // Second and third fetch: served by the cache (the first one wrote the three days).
  const arrow = join(t.dir, "k.arrow");
  const second = await t.fetch("--out", arrow);
  assertEquals(second.code, 0, second.err);
  assertStringIncludes(second.err, "72 rows (cache 72)");
  assertStringIncludes(second.err, "cache: 3 day hits");
  const table = tableFromIPC(await Deno.readFile(arrow));
  assertEquals(table.numRows, 72);
  assertEquals(Number(table.getChild("open_time")!.get(71)), truth.openTime[71]);

  const parquet = join(t.dir, "k.parquet");
  assertEquals((await t.fetch("--out", parquet, "--quiet")).code, 0);
  const file = (await Deno.readFile(parquet)).buffer;
  assertEquals(parquetMetadata(file).num_rows, 72n);
  const rows = await parquetReadObjects({ file, columns: ["close"] });
  assertEquals(rows.map((r) => r.close), Array.from(truth.close));

  assertEquals(
    walk(t.dir).filter((p) => p.includes(".tmp-")),
    [],
    "no temp file left next to outputs or in the cache",
  );
});

Deno.test("fetch without --out prints the first and last rows; --quiet prints no summary", async () => {
  await using t = await setup();
  const r = await t.fetch("--quiet", "--source", "rest", "--no-cache");
  assertEquals(r.code, 0, r.err);
  assertEquals(r.err, "");
  const lines = r.out.trimEnd().split("\n");
  assertEquals(lines.length, 1 + 5 + 1 + 5, "header, head, ellipsis, tail");
  assertMatch(lines[0], /^open_time\s+open\s+high\s+low\s+close\s+volume\s+trades\s+source$/);
  assertMatch(lines[1], /^2024-01-01 00:00:00Z .* rest$/);
  assertEquals(lines[6].trim(), "…");
  assertMatch(lines[11], /^2024-01-03 23:00:00Z .* rest$/);
});

Deno.test("a gap in the result is exit 3, the file is still written, the gap is named", async () => {
  await using t = await setup();
  t.replica.setFaults([{ match: "*/BTCUSDT-1h-2024-01-02.zip", kind: "status", status: 404 }]);
  const csv = join(t.dir, "gappy.csv");
  const r = await t.fetch("--source", "vision", "--out", csv);
  assertEquals(r.code, 3, r.err);
  assertStringIncludes(r.err, "48 rows (vision 48)");
  assertStringIncludes(
    r.err,
    "gaps: 1 (24h 0m missing): 2024-01-02T00:00:00.000Z → 2024-01-03T00:00:00.000Z",
  );
  assertEquals((await Deno.readTextFile(csv)).trimEnd().split("\n").length, 1 + 48);
});

Deno.test("cache info, verify (corrupt file → exit 1) and clear", async () => {
  await using t = await setup();
  const cacheArgs = ["--cache-dir", t.cacheDir];
  const empty = await cli("cache", "info", ...cacheArgs);
  assertEquals(empty.code, 0);
  assertStringIncludes(empty.out, "No cached files.");

  assertEquals((await t.fetch("--quiet")).code, 0);
  assertEquals((await t.fetch("--quiet", "--market", "um")).code, 0);
  const info = await cli("cache", "info", ...cacheArgs);
  assertEquals(info.code, 0);
  assertStringIncludes(info.out, `Cache: ${t.cacheDir}`);
  assertMatch(info.out, /\nspot\s+BTCUSDT\s+1h\s+3\s+72\s+[\d.]+ kB\s+2024-01-01 … 2024-01-03\n/);
  assertMatch(info.out, /\num\s+BTCUSDT\s+1h\s+3\s+72\s/);
  assertMatch(info.out, /\ntotal\s+6\s+144\s/);
  const onlyUm = await cli("cache", "info", ...cacheArgs, "--market", "um");
  assert(!onlyUm.out.includes("spot"));

  const ok = await cli("cache", "verify", ...cacheArgs);
  assertEquals(ok.code, 0);
  assertStringIncludes(ok.out, "Checked 6 files");
  assertStringIncludes(ok.out, "6 ok (144 rows), 0 corrupt");

  const victim = walk(t.cacheDir).find((p) =>
    p.endsWith("BTCUSDT-1h-2024-01-02.arrow") && p.includes("spot")
  )!;
  const bytes = await Deno.readFile(victim);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await Deno.writeFile(victim, bytes);
  const bad = await cli("cache", "verify", ...cacheArgs);
  assertEquals(bad.code, 1);
  assertStringIncludes(bad.out, "5 ok (120 rows), 1 corrupt");
  assertStringIncludes(bad.out, `corrupt: ${victim}`);
  const removed = await cli("cache", "verify", ...cacheArgs, "--remove");
  assertEquals(removed.code, 1, "corrupt files were found, even though they are now removed");
  assertStringIncludes(removed.out, "Removed 1 corrupt files.");
  assertEquals((await cli("cache", "verify", ...cacheArgs)).code, 0);

  const cleared = await cli(
    "cache",
    "clear",
    ...cacheArgs,
    "--market",
    "um",
    "--symbol",
    "btcusdt",
  );
  assertEquals(cleared.code, 0);
  assertStringIncludes(cleared.out, "Removed 3 files");
  const after = await cli("cache", "info", ...cacheArgs);
  assertMatch(after.out, /\ntotal\s+2\s+48\s/);
  assertEquals((await cli("cache", "clear", ...cacheArgs)).code, 0);
  assertStringIncludes((await cli("cache", "info", ...cacheArgs)).out, "No cached files.");
});
