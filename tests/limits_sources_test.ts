// Hostile servers against the clients and the manager: bodies without end or size, rows no
// kline can hold, lying headers, a stalling source. Each ends in a typed VisionDataError
// naming the value and the bound, promptly, with nothing cached.
import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertInstanceOf,
  assertLessOrEqual,
  assertMatch,
} from "@std/assert";
import { createHash } from "node:crypto";
import {
  createZip,
  type FaultRule,
  hostileCsv,
  type HostileRow,
  startReplica,
} from "../testing/mod.ts";
import { VisionDataClient, type VisionDataClientOptions } from "../src/vision/client.ts";
import { RestDataClient } from "../src/rest/client.ts";
import {
  BodyTooLargeError,
  ContentLengthError,
  CorruptRowError,
  LimitExceededError,
  TempDirError,
} from "../src/limit_errors.ts";
import { ArchiveError, IpBannedError, MalformedResponseError } from "../src/errors.ts";
import { LIMITS } from "../src/limits.ts";
import { DataSource } from "../src/klines.ts";
import { assertTruth, managerFor, sourceCounts, tempCacheDir } from "./_manager_helpers.ts";
import { walk } from "./_helpers.ts";

const NOW = "2024-04-10T00:00:00Z";
const DAY = { symbol: "BTCUSDT", interval: "1h" as const, start: "2024-03-05", end: "2024-03-06" };
const DAY_ZIP = "*/BTCUSDT-1h-2024-03-05.zip";
const FAST = { retryMinTimeoutMs: 1, retryMaxTimeoutMs: 5, parseWorkers: 1 };

function outcome<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return p.then((value) => ({ value }), (error) => ({ error }));
}

function vision(url: string, options: Partial<VisionDataClientOptions> = {}) {
  return new VisionDataClient({
    marketType: "spot",
    baseUrl: url,
    now: () => Date.parse(NOW),
    ...FAST,
    ...options,
  });
}

const arrowFiles = (dir: string) => walk(dir).filter((p) => p.endsWith(".arrow"));

Deno.test("archive without Content-Length: ContentLengthError before a byte is stored", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: DAY_ZIP, kind: "endless" }],
  });
  await using client = vision(replica.visionUrl);
  const { error } = await outcome(client.fetchKlines(DAY));
  assertInstanceOf(error, ContentLengthError);
  assertMatch(error.message, /BTCUSDT-1h-2024-03-05\.zip answered without a Content-Length/);
  assertEquals(client.resources.tempDir, undefined, "nothing was spilled to disk");
  // Not a transient failure: asked once, not retried.
  assertEquals(replica.requests.filter((e) => e.path.endsWith(".zip")).length, 1);
});

Deno.test("archive declared over maxArchiveBytes: BodyTooLargeError naming size, limit and option", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: DAY_ZIP, kind: "endless", contentLength: 5_000_000_000 }],
  });
  await using client = vision(replica.visionUrl);
  const { error } = await outcome(client.fetchKlines(DAY));
  assertInstanceOf(error, BodyTooLargeError);
  assertEquals([error.value, error.limit, error.option], [
    5e9,
    LIMITS.maxArchiveBytes,
    "maxArchiveBytes",
  ]);
  assertMatch(
    error.message,
    /5000000000 bytes exceeds the limit of 4294967296 bytes \(option maxArchiveBytes\)/,
  );
  assertEquals(client.resources.tempDir, undefined);
});

Deno.test("a missing temp dir: in-memory archives do not need it; a spilled one is TempDirError naming it", async () => {
  await using replica = await startReplica({ now: NOW });
  const missing = `${await Deno.makeTempDir()}/gone`;
  await Deno.remove(missing.slice(0, -5), { recursive: true });
  const before = Deno.env.get("TMPDIR");
  Deno.env.set("TMPDIR", missing);
  try {
    await using client = vision(replica.visionUrl);
    const k = await client.fetchKlines(DAY);
    assertEquals(k.length, 24);
    replica.setFaults([{ match: "*2024-03-06.zip", kind: "endless", contentLength: 20_000_000 }]);
    const { error } = await outcome(
      client.fetchKlines({ ...DAY, start: "2024-03-06", end: "2024-03-07" }),
    );
    assertInstanceOf(error, TempDirError);
    assertEquals(error.dir, missing);
  } finally {
    if (before === undefined) Deno.env.delete("TMPDIR");
    else Deno.env.set("TMPDIR", before);
  }
});

Deno.test("REST body without end: cut at maxPageBytes with BodyTooLargeError", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/api/v3/klines", kind: "endless", chunkBytes: 4096, intervalMs: 0 }],
  });
  await using rest = new RestDataClient({
    marketType: "spot",
    baseUrl: replica.restUrl,
    maxPageBytes: 65_536,
  });
  const { error } = await outcome(rest.fetchKlines(DAY));
  assertInstanceOf(error, BodyTooLargeError);
  assertEquals([error.limit, error.option], [65_536, "maxPageBytes"]);
  assertGreaterOrEqual(error.value, 65_537);
  assertLessOrEqual(error.value, 65_536 + 64 * 1024, "cut within one chunk of the bound");
  assertMatch(
    error.message,
    /body of .*\/api\/v3\/klines.* bytes exceeds the limit of 65536 bytes \(option maxPageBytes\)/,
  );
});

Deno.test("REST body declared over maxPageBytes: refused unread", async () => {
  let cancelled!: () => void;
  const bodyCancelled = new Promise<void>((r) => cancelled = r);
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response(
        new ReadableStream({
          pull: (c) => c.enqueue(new Uint8Array(1024)),
          cancel: () => cancelled(),
        }),
        { headers: { "content-length": String(10 * 1024 * 1024) } },
      ),
  );
  await using rest = new RestDataClient({
    marketType: "spot",
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    maxPageBytes: 1024 * 1024,
  });
  const { error } = await outcome(rest.fetchKlines(DAY));
  assertInstanceOf(error, BodyTooLargeError);
  assertEquals([error.value, error.limit], [10 * 1024 * 1024, 1024 * 1024]);
  await bodyCancelled;
});

// ---- hostile rows ----

const HOSTILE: readonly [HostileRow, RegExp][] = [
  ["overflow", /corrupt high: (1e400 overflows|Infinity is not a finite number >= 0)/],
  ["negativeVolume", /corrupt volume: -\d+(\.\d+)? is not a finite number >= 0/],
  ["highBelowLow", /corrupt high: high .* is below low/],
  ["offGrid", /corrupt openTime: \d+ .* is not on the 1h candle grid/],
  ["fractionalTime", /corrupt openTime: \d+\.5 is not an integer/],
];

Deno.test("REST hostile rows (replica fault): CorruptRowError naming page and row; nothing cached", async () => {
  for (const [row, re] of HOSTILE) {
    await using replica = await startReplica({
      now: NOW,
      faults: [{ match: "/api/v3/klines", kind: "hostileRows", row, at: 3 }],
    });
    await using cache = await tempCacheDir();
    await using manager = managerFor(replica, cache.path);
    const { error } = await outcome(manager.getData({ ...DAY, enforceSource: DataSource.REST }));
    assertInstanceOf(error, CorruptRowError, row);
    assertMatch(error.message, /^page http:\/\/127\.0\.0\.1:\d+\/api\/v3\/klines\?.* row 4: /);
    assertMatch(error.message, re);
    assertEquals(arrowFiles(cache.path), [], `${row}: nothing cached`);
  }
});

/** A Vision-like server: one daily 1h archive per day, the CSV passed through `edit`. */
function archiveServer(edit: (csv: string) => string) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const m = /\/(BTCUSDT-1h-(\d{4}-\d\d-\d\d))\.zip(\.CHECKSUM)?$/.exec(new URL(req.url).pathname);
    if (!m) return new Response("no", { status: 404 });
    const day = Date.parse(m[2]);
    let csv = "";
    for (let h = 0; h < 24; h++) {
      const t = day + h * 3600_000;
      csv += `${t},1.5,2,1,1.75,10,${t + 3599_999},17.5,3,5,8.75,0\n`;
    }
    const zip = createZip(`${m[1]}.csv`, new TextEncoder().encode(edit(csv)));
    if (m[3]) {
      const hash = createHash("sha256").update(zip).digest("hex");
      return new Response(`${hash}  ${m[1]}.zip\n`);
    }
    return new Response(zip, { headers: { "content-length": String(zip.length) } });
  });
}

Deno.test("archive hostile rows (own server): CorruptRowError naming file and row; nothing cached", async () => {
  for (const [row, re] of HOSTILE) {
    await using server = archiveServer((csv) => hostileCsv(csv, row, 6));
    const url = `http://127.0.0.1:${server.addr.port}`;
    await using client = vision(url);
    const { error } = await outcome(client.fetchKlines(DAY));
    assertInstanceOf(error, CorruptRowError, row);
    assertEquals([error.file, error.line], ["BTCUSDT-1h-2024-03-05.csv", 7]);
    assertMatch(error.message, re);
    // Through a caching manager limited to Vision: the error, and no day file.
    await using cache = await tempCacheDir();
    await using manager = managerFor(
      { visionUrl: url, restUrl: url, now: () => Date.parse(NOW) } as never,
      cache.path,
    );
    const m = await outcome(manager.getData({ ...DAY, enforceSource: DataSource.VISION }));
    assertInstanceOf(m.error, CorruptRowError);
    assertEquals(arrowFiles(cache.path), []);
  }
});

// ---- AUTO treats every bound like a source failure ----

Deno.test("AUTO: a Vision body without Content-Length, a bad checksum, a stalling host → REST, counted", async () => {
  const cases: [FaultRule, "other" | "checksum" | "timeout"][] = [
    [{ match: DAY_ZIP, kind: "endless" }, "other"],
    [{ match: DAY_ZIP, kind: "badChecksum" }, "checksum"],
    [{ match: DAY_ZIP, kind: "stallHeaders" }, "timeout"],
  ];
  for (const [fault, kind] of cases) {
    await using replica = await startReplica({ now: NOW, faults: [fault] });
    await using cache = await tempCacheDir();
    await using manager = managerFor(replica, cache.path, {
      sourceTimeoutMs: 300,
      vision: { ...FAST, maxAttempts: 2, headersTimeoutMs: 60_000 },
    });
    const k = await manager.getData(DAY);
    assertTruth(replica, k, DAY);
    assertEquals(sourceCounts(k), { rest: 24 }, kind);
    assertEquals(manager.getFailoverStats()[kind], 1, kind);
  }
});

// ---- lying headers ----

Deno.test("429 with a day-long Retry-After: LimitExceededError naming maxRateLimitWaitMs, no wait", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/api/v3/klines", kind: "status", status: 429, retryAfter: 86_400 }],
  });
  await using rest = new RestDataClient({ marketType: "spot", baseUrl: replica.restUrl });
  const { error } = await outcome(rest.fetchKlines(DAY));
  assertInstanceOf(error, LimitExceededError);
  assertEquals([error.value, error.limit, error.option], [
    86_400_000,
    120_000,
    "maxRateLimitWaitMs",
  ]);
  assertMatch(error.message, /429 Retry-After of .*: 86400000 ms exceeds the limit of 120000 ms/);
});

Deno.test("418 with an absurd Retry-After: the ban is recorded, capped at 3 days, no crash", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/api/v3/klines", kind: "status", status: 418, retryAfter: 1e20 }],
  });
  await using rest = new RestDataClient({ marketType: "spot", baseUrl: replica.restUrl });
  const t0 = Date.now();
  const { error } = await outcome(rest.fetchKlines(DAY));
  assertInstanceOf(error, IpBannedError);
  const until = error.until.getTime();
  assert(until >= t0 + LIMITS.maxRetryAfterMs && until <= Date.now() + LIMITS.maxRetryAfterMs);
  // Recorded: the next call is refused without a request.
  const sent = replica.requests.length;
  assertInstanceOf((await outcome(rest.fetchKlines(DAY))).error, IpBannedError);
  assertEquals(replica.requests.length, sent);
});

/** A raw HTTP/1.1 server answering every request with `head` + `body`, then closing. */
function rawServer(head: string, body: Uint8Array) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Promise<void>[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conns.push((async () => {
        try {
          await conn.read(new Uint8Array(16_384)); // the request (small, one read)
          await conn.write(new TextEncoder().encode(head));
          for (let at = 0; at < body.length; at += 65_536) {
            await conn.write(body.subarray(at, at + 65_536));
          }
        } catch { /* the client left: fine */ }
        try {
          conn.close();
        } catch { /* closed */ }
      })());
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    async [Symbol.asyncDispose]() {
      listener.close();
      await serving.catch(() => {});
      await Promise.all(conns);
    },
  };
}

Deno.test("lying Content-Length (shorter than the body sent): read to the declared length only, typed error", async () => {
  const body = new Uint8Array(4 * 1024 * 1024).fill(0x5b); // "[[[[…": 4 MiB of it
  await using server = rawServer(
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 16\r\nconnection: close\r\n\r\n",
    body,
  );
  await using rest = new RestDataClient({
    marketType: "spot",
    baseUrl: server.url,
    maxAttempts: 1,
  });
  const { error } = await outcome(rest.fetchKlines(DAY));
  assertInstanceOf(error, MalformedResponseError); // 16 bytes of "[": not JSON; nothing more read
  await using client = vision(server.url, { maxAttempts: 1 });
  const v = await outcome(client.fetchKlines(DAY));
  assertInstanceOf(v.error, ArchiveError); // the "CHECKSUM" is 16 bytes of "[": unreadable
});
