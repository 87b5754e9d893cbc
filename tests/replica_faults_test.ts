// Replica fault injection: every rule kind produces exactly its failure for a plain fetch.
import {
  assert,
  assertEquals,
  assertGreaterOrEqual,
  assertMatch,
  assertNotEquals,
  assertRejects,
} from "@std/assert";
import { createHash } from "node:crypto";
import { type FaultRule, startReplica } from "../testing/mod.ts";

const NOW = "2024-03-01T00:00:00Z";
const ZIP = "/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-02-10.zip";
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function readN(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<number> {
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) break;
    got += value.length;
  }
  return got;
}

Deno.test("latency delays the headers; a client abort during it ends the request", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/data/spot/daily/*", kind: "latency", ms: 120 }],
  });
  const res = await fetch(replica.visionUrl + ZIP);
  assertEquals(res.status, 200);
  await res.arrayBuffer();
  const e = replica.requests[0];
  assertEquals(e.fault, "latency");
  assertGreaterOrEqual(e.durationMs, 110);
  replica.setFaults([{ kind: "latency", ms: 60_000 }]);
  const ac = new AbortController();
  const p = fetch(replica.visionUrl + ZIP, { signal: ac.signal });
  await replica.waitFor((x) => x.id === 2);
  ac.abort();
  await assertRejects(() => p, DOMException);
  const done = await replica.waitFor((x) => x.id === 2 && x.state === "done");
  assertEquals(done.aborted, true);
  assertEquals(done.status, 0);
});

Deno.test("stallHeaders never answers until the client aborts", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ kind: "stallHeaders", match: "*.zip" }],
  });
  const ac = new AbortController();
  const p = fetch(replica.visionUrl + ZIP, { signal: ac.signal });
  const stalled = await replica.waitFor((e) => e.state === "stalled");
  assertEquals(replica.openConnections(), 1);
  ac.abort();
  await assertRejects(() => p, DOMException, "aborted");
  await replica.waitFor((e) => e.id === stalled.id && e.state === "done");
  assertEquals(stalled.aborted, true);
  assertEquals(replica.openConnections(), 0);
  // Other paths are unaffected.
  const ck = await fetch(replica.visionUrl + ZIP + ".CHECKSUM");
  assertEquals(ck.status, 200);
  await ck.body?.cancel();
});

Deno.test("a request held by stallHeaders or latency already shows its route and market", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [
      { match: "/api/v3/klines", kind: "stallHeaders" },
      { match: "/fapi/v1/*", kind: "latency", ms: 60_000 },
      { match: "*.CHECKSUM", kind: "stallHeaders" },
    ],
  });
  const ac = new AbortController();
  const pending = [
    fetch(`${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m`, { signal: ac.signal }),
    fetch(`${replica.restUrl}/fapi/v1/exchangeInfo`, { signal: ac.signal }),
    fetch(`${replica.visionUrl}${ZIP}.CHECKSUM`, { signal: ac.signal }),
  ];
  const spot = await replica.waitFor((e) => e.route === "klines" && e.state === "stalled");
  assertEquals([spot.market, spot.status, spot.fault], ["spot", 0, "stallHeaders"]);
  const um = await replica.waitFor((e) => e.route === "exchangeInfo" && e.market === "um");
  assertEquals([um.state, um.fault], ["waiting", "latency"]);
  const ck = await replica.waitFor((e) => e.route === "checksum");
  assertEquals(ck.market, undefined);
  assertEquals(replica.openConnections(), 3);
  ac.abort();
  for (const p of pending) await assertRejects(() => p, DOMException);
  for (const e of [spot, um, ck]) {
    const done = await replica.waitFor((x) => x.id === e.id && x.state === "done");
    assertEquals(done.aborted, true);
  }
  // Held requests are not charged: no response, no weight.
  assertEquals([spot.weight, um.weight, replica.usedWeight("spot")], [undefined, undefined, 0]);
});

Deno.test("stallBody sends headers and afterBytes, then stalls until the client aborts", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ kind: "stallBody", afterBytes: 1000 }],
  });
  const ac = new AbortController();
  const res = await fetch(replica.visionUrl + ZIP, { signal: ac.signal });
  assertEquals(res.status, 200);
  const total = Number(res.headers.get("content-length"));
  assert(total > 1000);
  const reader = res.body!.getReader();
  assertEquals(await readN(reader, 1000), 1000);
  const entry = await replica.waitFor((e) => e.state === "stalled");
  assertEquals(entry.bytes, 1000);
  const pending = reader.read();
  ac.abort();
  await assertRejects(() => pending);
  await replica.waitFor((e) => e.id === entry.id && e.state === "done");
  assertEquals(entry.aborted, true);
});

Deno.test("reset breaks the connection mid-body: the client's read fails with a network error", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ kind: "reset", afterBytes: 5000 }],
  });
  const res = await fetch(replica.visionUrl + ZIP);
  assertEquals(res.status, 200);
  await assertRejects(() => res.arrayBuffer(), TypeError);
  const e = await replica.waitFor((x) => x.state === "done");
  assertEquals(e.bytes, 5000);
  assertEquals(e.fault, "reset");
});

Deno.test("truncate serves a prefix with a matching Content-Length (looks complete)", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ kind: "truncate", bytes: 777 }],
  });
  const full = replica.archiveBytes(ZIP)!;
  const res = await fetch(replica.visionUrl + ZIP);
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-length"), "777");
  const got = new Uint8Array(await res.arrayBuffer());
  assertEquals(got, full.subarray(0, 777));
  // Default: half the body.
  replica.setFaults([{ kind: "truncate" }]);
  const half = new Uint8Array(await (await fetch(replica.visionUrl + ZIP)).arrayBuffer());
  assertEquals(half.length, Math.floor(full.length / 2));
});

Deno.test("corrupt flips a byte (same length); badChecksum serves a wrong hash", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ kind: "corrupt", match: "*.zip" }],
  });
  const good = replica.archiveBytes(ZIP)!;
  const bad = new Uint8Array(await (await fetch(replica.visionUrl + ZIP)).arrayBuffer());
  assertEquals(bad.length, good.length);
  assertNotEquals(sha(bad), sha(good));
  const ck = await (await fetch(replica.visionUrl + ZIP + ".CHECKSUM")).text();
  assertEquals(ck.slice(0, 64), sha(good));
  // badChecksum may name the zip path; it applies to the .CHECKSUM only.
  replica.setFaults([{ kind: "badChecksum", match: ZIP }]);
  const zip = new Uint8Array(await (await fetch(replica.visionUrl + ZIP)).arrayBuffer());
  assertEquals(zip, good);
  const wrong = await (await fetch(replica.visionUrl + ZIP + ".CHECKSUM")).text();
  assertMatch(wrong, /^[0-9a-f]{64} {2}BTCUSDT-1m-2024-02-10\.zip\n$/);
  assertNotEquals(wrong.slice(0, 64), sha(good));
});

Deno.test("status bursts: N failures then normal; 404 NoSuchKey; REST 429 with Retry-After", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [
      { kind: "status", status: 503, times: 2, match: "/data/*" },
      { kind: "status", status: 429, retryAfter: 7, match: "/api/v3/*" },
    ],
  });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(replica.visionUrl + ZIP);
    statuses.push(res.status);
    await res.body?.cancel();
  }
  assertEquals(statuses, [503, 503, 200]);
  const rest = await fetch(`${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m`);
  assertEquals(rest.status, 429);
  assertEquals(rest.headers.get("retry-after"), "7");
  assertEquals((await rest.json()).code, -1003);
  replica.setFaults([{ kind: "status", status: 404, match: /BTCUSDT-1m-2024-02-10\.zip$/ }]);
  const missing = await fetch(replica.visionUrl + ZIP);
  assertEquals(missing.status, 404);
  assertMatch(await missing.text(), /<Code>NoSuchKey<\/Code>/);
  replica.setFaults([{ kind: "status", status: 418, retryAfter: 120, match: "/fapi/*" }]);
  const ban = await fetch(`${replica.restUrl}/fapi/v1/klines?symbol=BTCUSDT&interval=1m`);
  assertEquals([ban.status, ban.headers.get("retry-after")], [418, "120"]);
  await ban.body?.cancel();
});

Deno.test("endless: a 200 whose body never ends, until the client cancels", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ kind: "endless", chunkBytes: 4096, intervalMs: 1 }],
  });
  const res = await fetch(replica.visionUrl + ZIP);
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-length"), null);
  const reader = res.body!.getReader();
  assertGreaterOrEqual(await readN(reader, 40_000), 40_000);
  await reader.cancel();
  const e = await replica.waitFor((x) => x.state === "done");
  assertEquals(e.aborted, true);
  assertGreaterOrEqual(e.bytes, 40_000);
});

Deno.test("times, probability (seeded), method filter and setFaults counters", async () => {
  const pattern = async (seed: number) => {
    await using replica = await startReplica({
      now: NOW,
      seed,
      faults: [{ kind: "status", status: 500, probability: 0.5 }],
    });
    const out: number[] = [];
    for (let i = 0; i < 24; i++) {
      const res = await fetch(replica.visionUrl + ZIP + ".CHECKSUM");
      out.push(res.status);
      await res.body?.cancel();
    }
    return out;
  };
  const a = await pattern(7);
  assertEquals(await pattern(7), a);
  assert(a.includes(500) && a.includes(200));
  await using replica = await startReplica({
    now: NOW,
    faults: [{ kind: "status", status: 502, method: "HEAD", times: 1 }] satisfies FaultRule[],
  });
  const get = await fetch(replica.visionUrl + ZIP);
  await get.body?.cancel();
  const h1 = await fetch(replica.visionUrl + ZIP, { method: "HEAD" });
  const h2 = await fetch(replica.visionUrl + ZIP, { method: "HEAD" });
  assertEquals([get.status, h1.status, h2.status], [200, 502, 200]);
  replica.setFaults(replica.faults);
  const h3 = await fetch(replica.visionUrl + ZIP, { method: "HEAD" });
  assertEquals(h3.status, 502);
  assertEquals(replica.requests.map((e) => e.fault ?? ""), ["", "status", "", "status"]);
});
