import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { cli } from "./_cli_helpers.ts";

const FETCH = ["fetch", "BTCUSDT", "--start", "2024-01-01", "--end", "2024-01-02"];

Deno.test("--help at the top and for every command exits 0 with usage on stdout", async () => {
  for (const args of [["--help"], ["-h"], ["help"]]) {
    const r = await cli(...args);
    assertEquals(r.code, 0);
    assertStringIncludes(r.out, "Usage: vision-data <command>");
    for (const c of ["fetch", "cache", "replica", "demo"]) assertStringIncludes(r.out, `  ${c} `);
    assertEquals(r.err, "");
  }
  for (const c of ["fetch", "cache", "replica", "demo"]) {
    const r = await cli(c, "--help");
    assertEquals(r.code, 0, c);
    assertStringIncludes(r.out, `Usage: vision-data ${c}`);
    assertStringIncludes(r.out, "--help");
  }
  // --help wins over otherwise bad arguments.
  assertEquals((await cli("fetch", "--market", "xx", "-h")).code, 0);
  assertEquals((await cli("fetch", "--bogus", "-h")).code, 2, "an unknown option is still bad");
});

/** A parse error is one line, then where to look: never the whole usage. */
function assertOneLineAndHint(err: string, hint: string): void {
  const lines = err.trimEnd().split("\n");
  assertEquals(lines.length, 2, err);
  assert(lines[0].startsWith("error: "), err);
  assertEquals(lines[1], hint);
  assertEquals(err.includes("Usage:"), false, "no usage dump");
}

Deno.test("no or unknown command: exit 2, one line plus see --help", async () => {
  for (const args of [[], ["fecth"]]) {
    const r = await cli(...args);
    assertEquals(r.code, 2);
    assertEquals(r.out, "");
    assertStringIncludes(r.err, "allowed fetch, cache, replica, demo");
    assertOneLineAndHint(r.err, "see 'vision-data --help'");
  }
  assertStringIncludes((await cli("fecth")).err, 'Unknown command "fecth"');
});

Deno.test("bad fetch arguments: exit 2, the message names the bad value", async () => {
  const cases: [string[], string[]][] = [
    [[...FETCH, "--market", "xx"], ['Unknown market "xx"', "allowed spot, um, cm"]],
    [[...FETCH, "--interval", "7m"], ['Bad interval "7m"', "1s, 1m, 3m"]],
    [["fetch", "BTCUSDT", "--start", "2024-13-45"], ['--start "2024-13-45"', "YYYY-MM-DD"]],
    [["fetch", "BTCUSDT", "--start", "2024-02-30"], ['--start "2024-02-30"']],
    [["fetch", "BTCUSDT", "--start", "2024-01-01", "--end", "soon"], ['--end "soon"']],
    [[...FETCH, "--source", "ftp"], ['Unknown source "ftp"', "auto, cache, vision, rest"]],
    [[...FETCH, "--out", "k.json"], ['--out "k.json"', ".csv, .arrow, .parquet"]],
    [[...FETCH, "--concurrency", "0"], ['--concurrency "0"']],
    [[...FETCH, "--vision-url", "ftp://x"], ['--vision-url "ftp://x"']],
    [[...FETCH, "--bogus"], ["Unknown option '--bogus'"]],
    [[...FETCH, "ETHUSDT"], ['Unexpected argument "ETHUSDT"']],
    [["fetch", "--start", "2024-01-01"], ["Missing SYMBOL"]],
    [["fetch", "BTCUSDT"], ["Missing --start"]],
  ];
  for (const [args, needles] of cases) {
    const r = await cli(...args);
    assertEquals(r.code, 2, args.join(" "));
    for (const n of needles) assertStringIncludes(r.err, n);
    assertOneLineAndHint(r.err, "see 'vision-data fetch --help'");
    assertEquals(r.out, "");
  }
});

Deno.test("input the library rejects is exit 2 too, without network", async () => {
  const cases: [string[], string][] = [
    [["fetch", "btc-usdt", "--start", "2024-01-01"], 'Invalid symbol "btc-usdt"'],
    [[...FETCH, "--market", "um", "--interval", "1s", "--no-cache"], 'Interval "1s"'],
    [["fetch", "BTCUSDT", "--start", "2024-02-01", "--end", "2024-01-01"], "must be before"],
    [[...FETCH, "--now", "2023-06-01"], "in the future"],
  ];
  for (const [args, needle] of cases) {
    const r = await cli(
      ...args,
      "--vision-url",
      "http://127.0.0.1:9",
      "--rest-url",
      "http://127.0.0.1:9",
    );
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assertStringIncludes(r.err, needle);
    assert(/--help/.test(r.err), "points at --help");
  }
});

Deno.test("bad cache arguments: exit 2", async () => {
  const cases: [string[], string][] = [
    [["cache"], "Missing action"],
    [["cache", "wipe"], 'Unknown action "wipe"'],
    [["cache", "info", "--market", "xx"], 'Unknown market "xx"'],
    [["cache", "clear", "--interval", "2m"], 'Bad interval "2m"'],
    [["cache", "info", "--remove"], "--remove is for 'cache verify'"],
  ];
  for (const [args, needle] of cases) {
    const r = await cli(...args, "--cache-dir", "/nonexistent/vision-data-test");
    assertEquals(r.code, 2, args.join(" "));
    assertStringIncludes(r.err, needle);
    assertOneLineAndHint(r.err, "see 'vision-data cache --help'");
  }
});

Deno.test("bad replica arguments: exit 2 before anything listens, naming the bad value", async () => {
  const cases: [string[], string][] = [
    [["replica", "--weight-limit", "spot=abc"], 'got "spot=abc"'],
    [["replica", "--weight-window-ms", "-5"], "--weight-window-ms"],
    [["replica", "--port", "70000"], "--port"],
  ];
  for (const [args, needle] of cases) {
    const r = await cli(...args);
    assertEquals(r.code, 2, args.join(" "));
    assertStringIncludes(r.err, needle);
    assertEquals(r.out, "", "no URLs printed: nothing was started");
  }
});

Deno.test("--version prints the package version (the one in deno.json)", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  for (const flag of ["--version", "-V"]) {
    const r = await cli(flag);
    assertEquals([r.code, r.out, r.err], [0, `vision-data ${config.version}\n`, ""]);
  }
});
