import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { main } from "../src/cli/main.ts";
import { cli } from "./_cli_helpers.ts";

Deno.test("demo runs offline end to end, prints its table, leaves no temp dir", async () => {
  const { code, out, err } = await cli("demo", "--now", "2026-11-27T12:00:00Z");
  assertEquals(code, 0, err + out);
  assertMatch(out, /^Offline: Binance replica at http:\/\/127\.0\.0\.1:\d+ \(now 2026-11-27T12:00/);
  assertMatch(out, /historical: 1s.*\s3,600\s+cache 3,600\s+0\s/);
  assertMatch(out, /recent: 1m.*\s2,880\s+vision [\d,]+, rest [\d,]+\s+0\s/);
  assertMatch(out, /cache: 3 day files, [\d,]+ rows/);
  assertMatch(
    out,
    /dispose while a download is stalled: \d+ ms \(budget 5\.00 s; the pending call got ClientClosedError\)/,
  );
  assertStringIncludes(out, "temp dirs left: none");
  const cacheDir = /Cache: (\S+) \(temporary\)/.exec(out)![1];
  assert(!(await Deno.stat(cacheDir).then(() => true, () => false)), "temp cache removed");
});

Deno.test("replica serves until its signal aborts, then closes and exits 0", async () => {
  let out = "";
  const stop = new AbortController();
  let probed: Promise<number> | undefined;
  const code = await main([
    "replica",
    "--port",
    "0",
    "--now",
    "2026-11-27T12:00:00Z",
    "--symbols",
    "BTCUSDT",
  ], {
    signal: stop.signal,
    io: {
      stdout: (s) => {
        out += s;
        if (!s.startsWith("Press Ctrl-C")) return;
        const rest = /rest:\s+(\S+)\/api\/v3\/klines/.exec(out)![1];
        probed = fetch(`${rest}/api/v3/klines?symbol=BTCUSDT&interval=1d&limit=3`)
          .then((r) => r.json()).then((rows: unknown[]) => rows.length)
          .finally(() => stop.abort());
      },
      stderr: () => {},
      isTerminal: false,
    },
  });
  assertEquals(code, 0);
  assertEquals(await probed, 3);
  assertStringIncludes(out, "vision-data replica (now 2026-11-27T12:00:00.000Z)");
  assertMatch(out, /Replica stopped; closed in \d+ ms\.\n$/);
});

Deno.test("replica rejects bad arguments with exit 2", async () => {
  for (
    const [args, needle] of [
      [["--port", "70000"], '--port "70000"'],
      [["--now", "yesterday"], '--now "yesterday"'],
      [["--symbols", "btc-usd"], 'Invalid symbol "btc-usd"'],
    ] as const
  ) {
    const { code, err } = await cli("replica", ...args);
    assertEquals(code, 2);
    assertStringIncludes(err, needle);
  }
});
