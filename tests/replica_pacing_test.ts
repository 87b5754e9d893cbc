// Replica wide-area options: latency before every response, bandwidth-paced bodies, their
// validation, and the `replica` command's flags.
import { assert, assertEquals, assertRejects, assertStringIncludes } from "@std/assert";
import { ReplicaOptionError, type RequestLogEntry, startReplica } from "../testing/mod.ts";
import { parseServeArgs } from "../testing/serve.ts";
import { cli } from "./_cli_helpers.ts";

const NOW = Date.UTC(2024, 2, 5, 5, 0);
const DAY = "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-02.zip";

Deno.test("latencyMs holds every response's headers and is recorded in the log", async () => {
  await using replica = await startReplica({ now: NOW, latencyMs: 30 });
  const url = `${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${
    Date.UTC(2024, 0, 1)
  }&limit=2`;
  const pending = fetch(url);
  // On arrival the request is held: no status yet, the latency is recorded.
  const held = await replica.waitFor((e) => e.route === "klines");
  assertEquals(held.status, 0);
  assertEquals(held.latencyMs, 30);
  const res = await pending;
  assertEquals(res.status, 200);
  assertEquals((await res.json()).length, 2);
  const miss = await fetch(`${replica.origin}/nope`);
  await miss.body?.cancel();
  assertEquals(miss.status, 404);
  assertEquals(replica.requests.map((e) => e.latencyMs), [30, 30]);
});

Deno.test("bandwidthMbps sends bodies in paced pieces of ~10 ms each", async () => {
  // 8 Mbit/s = 1 MB/s: pieces of 10 000 bytes.
  await using replica = await startReplica({ now: NOW, bandwidthMbps: 8 });
  const expected = replica.archiveBytes(DAY)!;
  assert(expected.length > 30_000, "the archive spans several pieces");
  const steps: number[] = [];
  const done = replica.waitFor((e: RequestLogEntry) => {
    if (e.path !== DAY) return false;
    if (e.bytes > 0 && steps.at(-1) !== e.bytes) steps.push(e.bytes);
    return e.state === "done";
  });
  const body = new Uint8Array(await (await fetch(replica.visionUrl + DAY)).arrayBuffer());
  const entry = await done;
  assertEquals(body, expected);
  assertEquals(entry.bandwidthMbps, 8);
  assertEquals(steps.at(-1), expected.length);
  assertEquals(steps.length, Math.ceil(expected.length / 10_000));
  for (let i = 1; i < steps.length; i++) assert(steps[i] - steps[i - 1] <= 10_000);
  // Small bodies are paced too (no 64 KiB shortcut): a CHECKSUM is one piece.
  const sum = await fetch(replica.visionUrl + DAY + ".CHECKSUM");
  assertStringIncludes(await sum.text(), "BTCUSDT-1m-2024-01-02.zip");
  assertEquals(replica.requests.at(-1)!.bandwidthMbps, 8);
});

Deno.test("invalid latencyMs / bandwidthMbps are a ReplicaOptionError naming the option", async () => {
  const cases: [Record<string, number>, string][] = [
    [{ latencyMs: -1 }, "latencyMs"],
    [{ latencyMs: NaN }, "latencyMs"],
    [{ bandwidthMbps: 0 }, "bandwidthMbps"],
    [{ bandwidthMbps: -2 }, "bandwidthMbps"],
    [{ bandwidthMbps: Infinity }, "bandwidthMbps"],
  ];
  for (const [options, name] of cases) {
    const e = await assertRejects(() => startReplica(options), ReplicaOptionError);
    assertEquals(e.option, name);
    assertStringIncludes(e.message, `Replica option ${name} must be`);
  }
});

Deno.test("replica command: --latency-ms and --bandwidth-mbps reach the options; bad values exit 2", async () => {
  const { options } = parseServeArgs(["--latency-ms", "50", "--bandwidth-mbps", "2.5"]);
  assertEquals(options.latencyMs, 50);
  assertEquals(options.bandwidthMbps, 2.5);
  for (
    const [args, needle] of [
      [["--latency-ms", "-3"], "--latency-ms"],
      [["--latency-ms", "1.5s"], '--latency-ms "1.5s"'],
      [["--bandwidth-mbps", "0"], '--bandwidth-mbps "0"'],
      [["--bandwidth-mbps", "fast"], '--bandwidth-mbps "fast"'],
    ] as const
  ) {
    const { code, err, out } = await cli("replica", ...args);
    assertEquals(code, 2, args.join(" "));
    assertStringIncludes(err, needle);
    assertEquals(out, "", "nothing was started");
  }
});
