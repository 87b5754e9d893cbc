// Replica lifecycle: many start/dispose cycles leave nothing open; dispose is bounded even with
// stalled requests and bodies nobody reads; the log tracks in-flight requests.
import {
  assert,
  assertEquals,
  assertLess,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { startReplica } from "../testing/mod.ts";
import { parseServeArgs, serveReplica } from "../testing/serve.ts";

const NOW = "2024-03-01T00:00:00Z";
const MONTH = "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip";
const DAY = "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-02-10.zip";

Deno.test("starting and disposing 50 replicas leaves nothing open", async () => {
  const ports = new Set<number>();
  for (let i = 0; i < 50; i++) {
    await using replica = await startReplica({ now: NOW });
    ports.add(replica.port);
    const res = await fetch(`${replica.visionUrl}${DAY}.CHECKSUM`);
    assertEquals(res.status, 200);
    await res.text();
    assertEquals(replica.openConnections(), 0);
  }
  assert(ports.size >= 1);
});

Deno.test("dispose is bounded with stalled headers, stalled and endless bodies, and unread bodies", async () => {
  const budget = 1000;
  const replica = await startReplica({
    now: NOW,
    disposeTimeoutMs: budget,
    faults: [
      { match: "*2024-02-11.zip", kind: "stallHeaders" },
      { match: "*2024-02-12.zip", kind: "stallBody", afterBytes: 100 },
      { match: "*2024-02-13.zip", kind: "endless", chunkBytes: 65536, intervalMs: 0 },
    ],
  });
  const url = (day: string) =>
    `${replica.visionUrl}/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-${day}.zip`;
  const headersStall = fetch(url("2024-02-11"));
  const bodyStall = await fetch(url("2024-02-12"));
  const endless = await fetch(url("2024-02-13"));
  const unread = await fetch(replica.visionUrl + MONTH); // 2 MB nobody reads
  await replica.waitFor((e) => e.path.endsWith("2024-02-11.zip") && e.state === "stalled");
  assertEquals(replica.openConnections(), 4);
  const waiter = replica.waitFor(() => false).then(() => "resolved", (e: Error) => e.message);
  const t0 = performance.now();
  const closing = replica.close();
  assertStrictEquals(replica[Symbol.asyncDispose](), closing);
  await closing;
  const elapsed = performance.now() - t0;
  assertLess(elapsed, budget + 250);
  assertEquals(replica.openConnections(), 0);
  assertEquals(replica.closed, true);
  assertEquals(await waiter, "Replica disposed");
  // The client sides end: the connections are cut, so the stalled request and the bodies fail.
  await assertRejects(() => headersStall, TypeError);
  for (const res of [bodyStall, endless, unread]) {
    await res.arrayBuffer().then(() => {}, () => {});
  }
  assert(replica.requests.every((e) => e.state === "done"));
  // A closed replica refuses connections.
  await assertRejects(() => fetch(replica.visionUrl + DAY), TypeError);
});

Deno.test("the request log records method, path, query, status, bytes, route, and in-flight state", async () => {
  await using replica = await startReplica({ now: NOW });
  const res = await fetch(`${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=3`);
  const text = await res.text();
  const zip = await fetch(replica.visionUrl + MONTH);
  const entry = await replica.waitFor((e) => e.path === MONTH);
  assertEquals(entry.route, "archive");
  await zip.arrayBuffer();
  const done = await replica.waitFor((e) => e.path === MONTH && e.state === "done");
  const [k, z] = replica.requests;
  assertEquals([k.method, k.path, k.query, k.status, k.route, k.market], [
    "GET",
    "/api/v3/klines",
    "symbol=BTCUSDT&interval=1m&limit=3",
    200,
    "klines",
    "spot",
  ]);
  assertEquals(k.bytes, new TextEncoder().encode(text).length);
  assertEquals([k.weight, k.usedWeight, k.aborted], [2, 2, false]);
  assertStrictEquals(z, done);
  assertEquals(z.bytes, replica.archiveBytes(MONTH)!.length);
  assertEquals(z.aborted, false);
  assert(z.durationMs >= 0);
  replica.clearLog();
  assertEquals(replica.requests.length, 0);
});

Deno.test("a client abandoning a body mid-stream is logged as aborted", async () => {
  await using replica = await startReplica({ now: NOW, chunkBytes: 16384 });
  const res = await fetch(replica.visionUrl + MONTH);
  const reader = res.body!.getReader();
  await reader.read();
  await reader.cancel();
  const e = await replica.waitFor((x) => x.state === "done");
  assertEquals(e.aborted, true);
  assertLess(e.bytes, replica.archiveBytes(MONTH)!.length);
});

Deno.test("the CLI entry parses its flags and serves until its signal aborts", async () => {
  const { options } = parseServeArgs([
    "--port",
    "0",
    "--now=2026-11-27T00:00:00Z",
    "--symbols",
    "BTCUSDT,ETHUSDT,XYZUSDT",
    "--lag-daily-ms",
    "0",
  ]);
  assertEquals(options.port, 0);
  assertEquals(options.now, "2026-11-27T00:00:00Z");
  assertEquals(options.publicationLagMs, { daily: 0 });
  assertEquals(
    options.symbols!.map((s) => `${s.marketType}:${s.symbol}`),
    ["spot:BTCUSDT", "um:BTCUSDT", "spot:ETHUSDT", "um:ETHUSDT", "spot:XYZUSDT", "um:XYZUSDT"],
  );
  assertThrows(() => parseServeArgs(["--bogus"]), TypeError, "--bogus");
  const ac = new AbortController();
  const lines: string[] = [];
  let ready!: () => void;
  const started = new Promise<void>((r) => ready = r);
  const serving = serveReplica(["--port", "0", "--now", "2024-03-01T00:00:00Z"], {
    signal: ac.signal,
    print: (l) => {
      lines.push(l);
      if (l.startsWith("Press")) ready();
    },
  });
  await started;
  const origin = /http:\/\/127\.0\.0\.1:\d+/.exec(lines.join("\n"))![0];
  const res = await fetch(`${origin}/api/v3/klines?symbol=BTCUSDT&interval=1d&limit=1`);
  assertEquals((await res.json())[0][0], Date.UTC(2024, 2, 1));
  ac.abort();
  await serving;
  await assertRejects(() => fetch(`${origin}/api/v3/exchangeInfo`), TypeError);
});

Deno.test("the CLI entry's rate-limit flags: --weight-limit (all or per market), --weight-window-ms", async () => {
  const parse = (...args: string[]) => parseServeArgs(args).options;
  assertEquals(parse("--weight-limit", "100").weightLimitPerMinute, {
    spot: 100,
    um: 100,
    cm: 100,
  });
  assertEquals(parse("--weight-limit=spot=10, um=20").weightLimitPerMinute, { spot: 10, um: 20 });
  assertEquals(
    parse("--weight-limit", "50", "--weight-limit", "cm=5").weightLimitPerMinute,
    { spot: 50, um: 50, cm: 5 },
  );
  assertEquals(parse("--weight-window-ms", "1000").rateLimit, { windowMs: 1000 });
  assertEquals(
    parse("--lag-daily-ms", "0", "--lag-monthly-ms", "5").publicationLagMs,
    { daily: 0, monthly: 5 },
  );
  for (const bad of ["0", "-1", "x", "eu=5", "spot=", "spot=1.5"]) {
    assertThrows(() => parse("--weight-limit", bad), TypeError, "--weight-limit", bad);
  }
  assertThrows(() => parse("--weight-window-ms", "0"), TypeError, "--weight-window-ms");
  // Served: two spot pages of weight 2 fit a limit of 4, the third is refused with a 429.
  const ac = new AbortController();
  let origin = "";
  let ready!: () => void;
  const started = new Promise<void>((r) => ready = r);
  const serving = serveReplica(
    ["--port", "0", "--now", NOW, "--weight-limit", "spot=4", "--weight-window-ms", "600000"],
    {
      signal: ac.signal,
      print: (l) => {
        origin ||= /http:\/\/127\.0\.0\.1:\d+/.exec(l)?.[0] ?? "";
        if (l.startsWith("Press")) ready();
      },
    },
  );
  await started;
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${origin}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1`);
    statuses.push(res.status);
    await res.body?.cancel();
  }
  assertEquals(statuses, [200, 200, 429]);
  const info = await (await fetch(`${origin}/fapi/v1/exchangeInfo`)).json();
  assertEquals(info.rateLimits[0].limit, 2400); // um keeps Binance's default
  ac.abort();
  await serving;
});
