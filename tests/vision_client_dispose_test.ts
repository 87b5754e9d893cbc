/**
 * VisionDataClient disposal (disposal_semantics.md §4–§5, HTTP cases) and the seed's
 * cleanup tests: bounded settle (asserted only as ≤ budget + 250 ms), one shared promise,
 * abort of in-flight work, LIFO release, temp dir removed, references cleared.
 *
 * A `fetchKlines` cut short by dispose rejects with `ClientClosedError` (the owner's abort
 * reason); one cut short by its own or the lifetime signal rejects with that signal's reason.
 */
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import { existsSync } from "@std/fs";
import { type FaultRule, type Replica, startReplica } from "../testing/mod.ts";
import { VisionDataClient, type VisionDataClientOptions } from "../src/vision/client.ts";
import { HttpSession } from "../src/http/session.ts";
import { DisposeError } from "../src/resource/dispose_error.ts";
import { ClientClosedError, InvalidSymbolError, VisionDataError } from "../src/errors.ts";
import { toEpochMs } from "../src/time.ts";
import { assertColumnsEqual } from "./_helpers.ts";

const EPSILON_MS = 250;
const NOW = "2024-04-10T00:00:00Z";
const DAY = { symbol: "BTCUSDT", interval: "1h" as const, start: "2024-03-05", end: "2024-03-06" };
const DAY_ZIP = "*/BTCUSDT-1h-2024-03-05.zip";

const EMPTY = { httpClient: false, openResponses: undefined, parsePool: false, tempDir: undefined };

const clients: VisionDataClient[] = [];

function makeClient(replica: Replica, options: Partial<VisionDataClientOptions> = {}) {
  const client = new VisionDataClient({
    marketType: "spot",
    baseUrl: replica.visionUrl,
    now: () => replica.now(),
    parseWorkers: 1,
    headersTimeoutMs: 60_000,
    idleTimeoutMs: 60_000,
    retryMinTimeoutMs: 1,
    retryMaxTimeoutMs: 5,
    ...options,
  });
  clients.push(client);
  return client;
}

/** A promise's outcome, captured at once so a failed assertion leaves no rejection unhandled. */
function outcome<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return p.then((value) => ({ value }), (error) => ({ error }));
}

/** Disposes and measures; returns the error (if any) and the elapsed time. */
async function timedDispose(client: VisionDataClient): Promise<{ ms: number; error?: unknown }> {
  const t0 = performance.now();
  try {
    await client[Symbol.asyncDispose]();
    return { ms: performance.now() - t0 };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

/** Resolves once the replica is streaming `path`'s body (some bytes sent). */
/** This process's temp dirs (`vision-data-<pid>-*`). */
const ownTempDirs = (): string[] =>
  [...Deno.readDirSync(Deno.env.get("TMPDIR") || "/tmp")]
    .map((e) => e.name).filter((n) => n.startsWith(`vision-data-${Deno.pid}-`)).sort();

const streaming = (replica: Replica, suffix: string) =>
  replica.waitFor((e) => e.path.endsWith(suffix) && e.state === "streaming" && e.bytes > 0);

/** Runs `fn` with a fresh replica; every client it made is disposed afterwards, whatever happened. */
async function withReplica(faults: FaultRule[], fn: (r: Replica) => Promise<void>) {
  await using replica = await startReplica({ now: NOW, faults });
  try {
    await fn(replica);
  } finally {
    for (const c of clients.splice(0)) await c[Symbol.asyncDispose]().catch(() => {});
  }
}

Deno.test("idle dispose: nothing was created, resolves, report is clean", async () => {
  const client = new VisionDataClient({ marketType: "spot", disposeTimeoutMs: 200 });
  const { ms, error } = await timedDispose(client);
  assertEquals(error, undefined);
  assertLessOrEqual(ms, 200 + EPSILON_MS);
  assertEquals(client.state, "closed");
  assertEquals(client.resources, EMPTY);
  assertEquals(client.lastDisposeReport?.errors, []);
  assertEquals(client.lastDisposeReport?.timedOut, []);
});

Deno.test("dispose during an endless download: fetch rejects ClientClosedError, settles in budget", async () => {
  await withReplica([{ match: DAY_ZIP, kind: "endless", contentLength: 1e9 }], async (replica) => {
    const client = makeClient(replica, { disposeTimeoutMs: 300, graceMs: 50 });
    // A first day, so the client holds its HTTP client and pool already.
    await client.fetchKlines({ ...DAY, start: "2024-03-04", end: "2024-03-05" });
    const before = ownTempDirs();
    const fetching = outcome(client.fetchKlines(DAY));
    await streaming(replica, "2024-03-05.zip");
    const { ms, error } = await timedDispose(client);
    assertEquals(error, undefined);
    assertLessOrEqual(ms, 300 + EPSILON_MS);
    assertInstanceOf((await fetching).error, ClientClosedError);
    // Declared too big to hold in memory, it streamed into a temp dir: removed with the client.
    assertEquals(ownTempDirs(), before, "temp dir removed");
    assertEquals(client.resources, EMPTY);
    await replica.waitFor((e) => e.path.endsWith("2024-03-05.zip") && e.aborted);
  });
});

Deno.test("dispose during stalled headers: settles in budget, request aborted", async () => {
  await withReplica([{ match: DAY_ZIP, kind: "stallHeaders" }], async (replica) => {
    const client = makeClient(replica, { disposeTimeoutMs: 200, graceMs: 20 });
    const fetching = outcome(client.fetchKlines(DAY));
    await replica.waitFor((e) => e.path.endsWith("2024-03-05.zip") && e.state === "stalled");
    const { ms, error } = await timedDispose(client);
    assertEquals(error, undefined);
    assertLessOrEqual(ms, 200 + EPSILON_MS);
    assertInstanceOf((await fetching).error, ClientClosedError);
    assertEquals(client.resources, EMPTY);
    await replica.waitFor((e) => e.path.endsWith("2024-03-05.zip") && e.aborted);
  });
});

Deno.test("dispose mid-batch (concurrency 4, 20 archives): no unhandled rejection, bounded", async () => {
  await withReplica([{ match: "*.zip", kind: "latency", ms: 30 }], async (replica) => {
    const client = makeClient(replica, { disposeTimeoutMs: 400, graceMs: 0, concurrency: 4 });
    let disposing: Promise<{ ms: number; error?: unknown }> | undefined;
    let tempDir: string | undefined;
    const fetching = outcome(client.fetchKlines({
      ...DAY,
      start: "2024-02-01",
      end: "2024-02-21",
      preferMonthly: false,
      onProgress: (p) => {
        if (p.done === 3 && !disposing) {
          tempDir = client.resources.tempDir;
          disposing = timedDispose(client);
        }
      },
    }));
    assertInstanceOf((await fetching).error, ClientClosedError);
    const { ms, error } = await disposing!;
    assertEquals(error, undefined);
    assertLessOrEqual(ms, 400 + EPSILON_MS);
    const zips = replica.requests.filter((e) => e.path.endsWith(".zip"));
    assert(zips.length < 20, `stopped early (${zips.length} of 20 requested)`);
    // Small archives stay in memory: a temp dir, if any was made, is gone.
    assert(tempDir === undefined || !existsSync(tempDir));
    assertEquals(client.resources, EMPTY);
  });
});

Deno.test("a hung release step: dispose still settles ≤ budget + ε, names it in timedOut, releases the rest", async () => {
  await withReplica([], async (replica) => {
    const client = makeClient(replica, { disposeTimeoutMs: 200 });
    await client.fetchKlines(DAY);
    const tempDir = client.resources.tempDir!;
    // The documented hook: adopted resources are released first, within the same budget.
    client.adopt("hung session close", {
      [Symbol.asyncDispose]: () => new Promise<void>(() => {}),
    });
    client.adopt("failing close", {
      [Symbol.asyncDispose]: () => Promise.reject(new Error("close failed")),
    });
    const { ms, error } = await timedDispose(client);
    assertLessOrEqual(ms, 200 + EPSILON_MS);
    assertEquals(error, undefined); // cleanup reports, it does not raise
    const report = client.lastDisposeReport!;
    assertEquals(report.timedOut, ["hung session close"]);
    assertEquals(report.errors.map((e) => (e as Error).message), ["close failed"]);
    assert(!existsSync(tempDir), "temp dir removed even though the budget ran out");
    assertEquals(client.resources, EMPTY);
    assertEquals(client.lastDisposeReport?.timedOut, ["hung session close"]);
  });
});

Deno.test("a close rejecting after the deadline: timed out, its late rejection never unhandled", async () => {
  await withReplica([], async (replica) => {
    const client = makeClient(replica, { disposeTimeoutMs: 100 });
    await client.fetchKlines(DAY);
    const rejected = Promise.withResolvers<void>();
    client.adopt("slow close", {
      [Symbol.asyncDispose]: () =>
        new Promise<void>((_, reject) =>
          setTimeout(() => {
            reject(new Error("too late"));
            rejected.resolve();
          }, 300)
        ),
    });
    const { ms, error } = await timedDispose(client);
    assertLessOrEqual(ms, 100 + EPSILON_MS);
    assertEquals(error, undefined);
    assertEquals(client.lastDisposeReport!.timedOut, ["slow close"]);
    assertEquals(client.lastDisposeReport!.errors, []);
    // The late rejection happens after dispose settled; had nobody caught it, the test
    // runner would fail this test with an unhandled rejection.
    await rejected.promise;
    assertEquals(client.resources, EMPTY);
  });
});

Deno.test("concurrent disposes share one promise; session and HTTP client closed exactly once", async () => {
  await withReplica([], async (replica) => {
    let httpDisposals = 0;
    let sessionCloses = 0;
    const close = HttpSession.prototype.close;
    HttpSession.prototype.close = function (this: HttpSession) {
      sessionCloses++;
      return close.call(this);
    };
    try {
      const client = makeClient(replica, {
        createHttpClient: () => {
          const http = Deno.createHttpClient({});
          const dispose = http[Symbol.dispose].bind(http);
          http[Symbol.dispose] = () => {
            httpDisposals++;
            dispose();
          };
          return http;
        },
      });
      const k = await client.fetchKlines(DAY);
      assertEquals(k.length, 24);
      const held = client.resources;
      // Archives held in memory need no temp dir: none was created.
      assert(held.httpClient && held.parsePool && held.tempDir === undefined);
      assertEquals(held.openResponses, 0);
      const a = client[Symbol.asyncDispose]();
      const b = client.disposeAsync();
      const c = client[Symbol.asyncDispose]();
      assertStrictEquals(a, b);
      assertStrictEquals(a, c);
      await a;
      await client[Symbol.asyncDispose](); // dispose after dispose: same settled promise
      assertEquals(httpDisposals, 1);
      assertEquals(sessionCloses, 1);
      assertEquals(client.resources, EMPTY);
      assertEquals(client.resources.tempDir, undefined);
      assertEquals(client.lastDisposeReport?.steps.map((s) => s.name), [
        "session",
        "parse pool",
        "http client",
      ]);
    } finally {
      HttpSession.prototype.close = close;
    }
  });
});

/** A client whose HTTP client's close throws `boom` (after really closing). */
function throwingHttpClient(
  replica: Replica,
  boom: Error,
  options: Partial<VisionDataClientOptions> = {},
) {
  return makeClient(replica, {
    ...options,
    createHttpClient: () => {
      const http = Deno.createHttpClient({});
      const dispose = http[Symbol.dispose].bind(http);
      http[Symbol.dispose] = () => {
        dispose();
        throw boom;
      };
      return http;
    },
  });
}

Deno.test("a close that throws: dispose completes, resolves, and the report holds it", async () => {
  await withReplica([], async (replica) => {
    const boom = new Error("http client close failed");
    const client = throwingHttpClient(replica, boom);
    await client.fetchKlines(DAY);
    const tempDir = client.resources.tempDir!;
    const { error } = await timedDispose(client);
    assertEquals(error, undefined);
    const report = client.lastDisposeReport!;
    assertEquals(report.errors, [boom]);
    assertEquals(report.failed, ["http client"]);
    assertEquals(report.timedOut, []);
    assertEquals(client.resources, EMPTY);
    assert(!existsSync(tempDir));
  });
});

Deno.test("seed test_vision_client_cleanup_with_errors: a session close that throws — exit completes, the report holds it, everything is released", async () => {
  await withReplica([], async (replica) => {
    const boom = new Error("Test error");
    let closes = 0;
    const close = HttpSession.prototype.close;
    HttpSession.prototype.close = function (this: HttpSession) {
      closes++;
      // Really close (no leak), then fail the way the seed's mocked session does.
      return Promise.resolve(close.call(this)).then(() => {
        throw boom;
      });
    };
    let kept: VisionDataClient | undefined;
    let tempDir = "";
    try {
      {
        await using client = makeClient(replica);
        kept = client;
        assertEquals((await client.fetchKlines(DAY)).length, 24);
        tempDir = client.resources.tempDir!;
      } // leaving the block must not throw
    } finally {
      HttpSession.prototype.close = close;
    }
    assertEquals(closes, 1);
    assertEquals(kept.state, "closed");
    assertEquals(kept.resources, EMPTY);
    assertEquals(kept.lastDisposeReport!.errors, [boom]);
    assertEquals(kept.lastDisposeReport!.failed, ["session"]);
    assert(!existsSync(tempDir));
  });
});

Deno.test("a body error is not wrapped in SuppressedError when the close fails; strictDispose opts in to DisposeError", async () => {
  await withReplica([], async (replica) => {
    const boom = new Error("http client close failed");
    let caught: unknown;
    try {
      await using client = throwingHttpClient(replica, boom);
      await client.fetchKlines(DAY);
      await client.fetchKlines({ ...DAY, symbol: "btc-usdt!" });
    } catch (e) {
      caught = e;
    }
    assertInstanceOf(caught, InvalidSymbolError); // the caller's own error, as thrown

    const strict = throwingHttpClient(replica, boom, { strictDispose: true });
    await strict.fetchKlines(DAY);
    const err = await assertRejects(() => strict.disposeAsync(), DisposeError);
    assertInstanceOf(err, VisionDataError);
    assertEquals(err.errors, [boom]);
    assertEquals(err.failed, ["http client"]);
    assertEquals(strict.resources, EMPTY);
  });
});

Deno.test("work after (or during) dispose → ClientClosedError, nothing allocated", async () => {
  await withReplica([], async (replica) => {
    const client = makeClient(replica);
    const disposing = client[Symbol.asyncDispose]();
    assertEquals(client.state, "closing");
    await assertRejects(() => client.fetchKlines(DAY), ClientClosedError);
    await disposing;
    await assertRejects(() => client.fetchKlines(DAY), ClientClosedError);
    assertEquals(replica.requests.length, 0);
    assertEquals(client.resources, EMPTY);
  });
});

Deno.test("a download that finishes within grace is not aborted", async () => {
  await withReplica([{ match: DAY_ZIP, kind: "latency", ms: 100 }], async (replica) => {
    const client = makeClient(replica, { disposeTimeoutMs: 3000, graceMs: 2000 });
    const fetching = outcome(client.fetchKlines(DAY));
    await replica.waitFor((e) => e.path.endsWith("2024-03-05.zip"));
    const { ms, error } = await timedDispose(client);
    assertEquals(error, undefined);
    assertLessOrEqual(ms, 3000 + EPSILON_MS);
    const { value: k, error: fetchError } = await fetching;
    if (fetchError) throw fetchError;
    assert(k);
    const truth = replica.klines({ marketType: "spot", ...DAY });
    assertColumnsEqual(k, truth);
    assertEquals(client.lastDisposeReport?.drainedInGrace, true);
  });
});

Deno.test("work started in the same tick as dispose gets the grace period", async () => {
  await withReplica([], async (replica) => {
    const client = makeClient(replica, { disposeTimeoutMs: 5000, graceMs: 4000 });
    const fetching = outcome(client.fetchKlines(DAY));
    const disposing = client[Symbol.asyncDispose]();
    assertEquals((await fetching).value?.length, 24);
    await disposing;
  });
});

Deno.test("responses nobody reads are cancelled: zip of an absent CHECKSUM, and on dispose", async () => {
  await withReplica([
    { match: DAY_ZIP + ".CHECKSUM", kind: "status", status: 404 },
    { match: DAY_ZIP, kind: "endless", contentLength: 1e9 },
  ], async (replica) => {
    // The zip streams forever but the CHECKSUM says "absent": the zip must be cancelled,
    // or this fetch would never finish (and the sanitizer would flag the body).
    await using client = makeClient(replica, { disposeTimeoutMs: 500 });
    const k = await client.fetchKlines(DAY);
    assertEquals(k.length, 0);
    assertEquals(k.gaps, [{ start: toEpochMs(DAY.start), end: toEpochMs(DAY.end) }]);
    await replica.waitFor((e) => e.path.endsWith("2024-03-05.zip") && e.aborted);
  });
  await withReplica([
    { match: DAY_ZIP + ".CHECKSUM", kind: "stallBody", afterBytes: 0 },
    { match: DAY_ZIP, kind: "endless", contentLength: 1e9 },
  ], async (replica) => {
    // Headers of both are in, neither body is read to the end: dispose cancels both.
    const client = makeClient(replica, { disposeTimeoutMs: 300, graceMs: 0 });
    const fetching = outcome(client.fetchKlines(DAY));
    await replica.waitFor((e) => e.path.endsWith(".CHECKSUM") && e.state === "stalled");
    await streaming(replica, "2024-03-05.zip");
    const { ms, error } = await timedDispose(client);
    assertEquals(error, undefined);
    assertLessOrEqual(ms, 300 + EPSILON_MS);
    assertInstanceOf((await fetching).error, ClientClosedError);
    await replica.waitFor((e) => e.path.endsWith(".CHECKSUM") && e.aborted);
    await replica.waitFor((e) => e.path.endsWith("2024-03-05.zip") && e.aborted);
  });
});

Deno.test("per-call signal aborts one fetch (its reason); the client stays usable", async () => {
  await withReplica(
    [{ match: DAY_ZIP, kind: "endless", contentLength: 1e9, times: 1 }],
    async (replica) => {
      await using client = makeClient(replica);
      const ac = new AbortController();
      const fetching = outcome(client.fetchKlines({ ...DAY, signal: ac.signal }));
      await streaming(replica, "2024-03-05.zip");
      const reason = new Error("user cancelled");
      ac.abort(reason);
      assertStrictEquals((await fetching).error, reason);
      const k = await client.fetchKlines(DAY);
      assertEquals(k.length, 24);
    },
  );
});

Deno.test("lifetime signal aborts in-flight work with its reason; dispose is still clean", async () => {
  await withReplica([{ match: DAY_ZIP, kind: "endless", contentLength: 1e9 }], async (replica) => {
    const lifetime = new AbortController();
    const client = makeClient(replica, { signal: lifetime.signal, disposeTimeoutMs: 300 });
    const fetching = outcome(client.fetchKlines(DAY));
    await streaming(replica, "2024-03-05.zip");
    const reason = new Error("app shutting down");
    lifetime.abort(reason);
    assertStrictEquals((await fetching).error, reason);
    const { ms, error } = await timedDispose(client);
    assertEquals(error, undefined);
    assertLessOrEqual(ms, 300 + EPSILON_MS);
  });
});

Deno.test("budget 0 during a download: settles at once, temp dir removed", async () => {
  await withReplica([{ match: DAY_ZIP, kind: "endless", contentLength: 1e9 }], async (replica) => {
    const client = makeClient(replica, { disposeTimeoutMs: 0 });
    await client.fetchKlines({ ...DAY, start: "2024-03-04", end: "2024-03-05" });
    const tempDir = client.resources.tempDir!;
    const fetching = outcome(client.fetchKlines(DAY));
    await streaming(replica, "2024-03-05.zip");
    const { ms } = await timedDispose(client);
    assertLessOrEqual(ms, EPSILON_MS);
    assertInstanceOf((await fetching).error, ClientClosedError);
    assert(!existsSync(tempDir));
    assertEquals(client.resources, EMPTY);
  });
});
