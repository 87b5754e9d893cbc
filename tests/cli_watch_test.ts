/**
 * `vision-data watch` against the replica's fast-forwarded feed: closed candles as CSV or JSON
 * lines, cancellation (in-process and a real SIGINT) exits 130, bad input exits 2.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { fromFileUrl } from "@std/path";
import { main } from "../src/cli/main.ts";
import { startReplica } from "../testing/mod.ts";
import { cli } from "./_cli_helpers.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
const NOW = "2024-03-01T00:00:00Z";
const MIN = 60_000;

Deno.test("watch --format jsonl prints contiguous closed candles; cancelling exits 130", async () => {
  await using replica = await startReplica({ now: NOW, live: { fastForward: true } });
  const controller = new AbortController();
  const lines: string[] = [];
  let err = "";
  const code = await main([
    "watch",
    "BTCUSDT,ETHUSDT",
    "--interval",
    "1m",
    "--format",
    "jsonl",
    "--ws-url",
    replica.live.url,
    "--rest-url",
    replica.restUrl,
  ], {
    signal: controller.signal,
    io: {
      stdout: (s) => {
        lines.push(...s.split("\n").filter(Boolean));
        if (lines.length >= 10) controller.abort();
      },
      stderr: (s) => err += s,
      isTerminal: false,
    },
  });
  assertEquals(code, 130, err);
  assertStringIncludes(err, "connected: BTCUSDT,ETHUSDT 1m");
  assertStringIncludes(err, "Cancelled.");
  const rows = lines.map((l) => JSON.parse(l));
  for (const symbol of ["BTCUSDT", "ETHUSDT"]) {
    const mine = rows.filter((r) => r.symbol === symbol);
    assert(mine.length > 0);
    const truth = replica.klines({
      marketType: "spot",
      symbol,
      interval: "1m",
      start: mine[0].openTime,
      end: mine[0].openTime + mine.length * MIN,
    });
    assertEquals(mine.map((r) => r.openTime), [...truth.openTime]);
    assertEquals(mine.map((r) => r.close), [...truth.close]);
  }
  await replica.live.whenIdle();
});

Deno.test("watch: bad input exits 2 naming the value", async () => {
  const format = await cli("watch", "BTCUSDT", "--format", "xml");
  assertEquals(format.code, 2);
  assertStringIncludes(format.err, '"xml"');
  const symbol = await cli("watch", "BTC-USDT");
  assertEquals(symbol.code, 2);
  assertStringIncludes(symbol.err, "BTC-USDT");
  const url = await cli("watch", "BTCUSDT", "--ws-url", "http://example.com");
  assertEquals(url.code, 2);
  assertStringIncludes(url.err, "wsUrl");
  const iv = await cli("watch", "BTCUSDT", "--market", "um", "--interval", "1s");
  assertEquals(iv.code, 2);
  const help = await cli("watch", "--help");
  assertEquals(help.code, 0);
  assertStringIncludes(help.out, "Usage: vision-data watch");
});

Deno.test({
  name: "watch: SIGINT exits 130 cleanly after printing CSV rows",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using replica = await startReplica({ now: NOW, live: { fastForward: true } });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--import-map=offline/import_map.json",
        "src/cli/main.ts",
        "watch",
        "BTCUSDT",
        "--ws-url",
        replica.live.url,
        "--rest-url",
        replica.restUrl,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let out = "";
    const decoder = new TextDecoder();
    const reader = child.stdout.getReader();
    while (out.split("\n").length < 5) {
      const r = await reader.read();
      if (r.done) break;
      out += decoder.decode(r.value, { stream: true });
    }
    child.kill("SIGINT");
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      out += decoder.decode(r.value, { stream: true });
    }
    const { code } = await child.status;
    const err = await stderr;
    assertEquals(code, 130, err);
    assertStringIncludes(err, "Cancelled.");
    const lines = out.trim().split("\n");
    assertEquals(lines[0].split(",").slice(0, 3), ["symbol", "open_time", "open"]);
    const opens = lines.slice(1).map((l) => Number(l.split(",")[1]));
    assert(opens.length >= 3, out);
    opens.forEach((t, i) => i > 0 && assertEquals(t, opens[i - 1] + MIN));
    await replica.live.whenIdle();
  },
});
