import { assertEquals, assertStringIncludes } from "@std/assert";
import { cli } from "./_cli_helpers.ts";
import { formatCount } from "../src/cli/_io.ts";
import { cacheCommand } from "../src/cli/cache.ts";
import { demoCommand } from "../src/cli/demo.ts";
import { fetchCommand } from "../src/cli/fetch.ts";
import { replicaCommand } from "../src/cli/replica.ts";
import { syncCommand } from "../src/cli/sync.ts";
import { watchCommand } from "../src/cli/watch.ts";

// main.ts lists commands without loading their modules, so it repeats each name and summary:
// this keeps that listing equal to what every command says about itself.
const ALL = [fetchCommand, cacheCommand, replicaCommand, demoCommand, watchCommand, syncCommand];

Deno.test("the top-level help lists every command, in order, with the command's own summary", async () => {
  const r = await cli("--help");
  assertEquals(r.code, 0);
  const after = r.out.slice(r.out.indexOf("Commands:\n") + "Commands:\n".length);
  const listed = after.slice(0, after.indexOf("\n\n")).split("\n");
  assertEquals(listed, ALL.map((c) => `  ${c.name.padEnd(9)}${c.summary}`));
});

Deno.test("each command, loaded on demand, prints its own usage for --help", async () => {
  for (const c of ALL) {
    const r = await cli(c.name, "--help");
    assertEquals(r.code, 0, c.name);
    assertEquals(r.out, c.usage, c.name);
  }
});

Deno.test("fetch --out with an unknown extension is still a usage error before any fetch", async () => {
  const r = await cli("fetch", "BTCUSDT", "--start", "2024-01-01", "--out", "x.json");
  assertEquals(r.code, 2);
  assertStringIncludes(r.err, 'Unknown output format for --out "x.json"');
  assertStringIncludes(r.err, ".csv, .arrow, .parquet");
  assertStringIncludes(r.err, "see 'vision-data fetch --help'");
});

Deno.test("formatCount groups integers by hand exactly as en-US toLocaleString does", () => {
  for (const n of [0, 7, 999, 1000, 12_345, 527_040, 1_000_000, -1234, -999, 2 ** 53 - 1, 1.5]) {
    assertEquals(formatCount(n), n.toLocaleString("en-US"), String(n));
  }
});
