import { InvalidOptionError } from "../src/option_error.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLessOrEqual,
  assertRejects,
  assertStrictEquals,
  assertThrows,
} from "@std/assert";
import { delay } from "@std/async";
import { existsSync } from "@std/fs";
import { ClientClosedError, InvalidSymbolError, VisionDataError } from "../src/errors.ts";
import { DisposeError, type DisposeReport, ResourceOwner } from "../src/resource/mod.ts";
import { nextTurn, watchUnhandled } from "./_helpers.ts";

/** The guarantee under test: dispose settles within budget + ε. */
const EPSILON_MS = 250;

/** Disposes and times it; dispose resolves by default (cleanup reports, it does not raise). */
async function timedDispose(owner: ResourceOwner): Promise<{ report: DisposeReport; ms: number }> {
  const t0 = performance.now();
  await owner.disposeAsync();
  return { report: owner.lastDisposeReport!, ms: performance.now() - t0 };
}

Deno.test("ResourceOwner: idle dispose resolves, closes, and leaves nothing behind", async () => {
  // A 60 s budget: any timer left pending would fail the ops sanitizer.
  const owner = new ResourceOwner({ name: "Idle", disposeTimeoutMs: 60_000 });
  assertEquals(owner.state, "open");
  assertEquals(owner.graceMs, 250);
  const p = owner.disposeAsync();
  assertEquals(owner.state, "closing");
  await p;
  assertEquals(owner.state, "closed");
  const report = owner.lastDisposeReport!;
  assertEquals([report.timedOut, report.errors, report.steps], [[], [], []]);
  assertEquals(report.drainedInGrace, true);
  assertEquals(owner.signal.aborted, true);
  assertInstanceOf(owner.signal.reason, ClientClosedError);
});

Deno.test("ResourceOwner: `await using` happy path releases LIFO and removes the temp dir", async () => {
  const order: string[] = [];
  let dir = "";
  let syncDisposed = 0;
  {
    await using owner = new ResourceOwner({ name: "Happy", disposeTimeoutMs: 60_000 });
    owner.adopt("sync resource", { [Symbol.dispose]: () => void syncDisposed++ });
    owner.adopt("pool", {
      [Symbol.asyncDispose]: async () => {
        await delay(1);
        order.push("pool");
      },
    });
    owner.defer("flush", async () => {
      await Promise.resolve();
      order.push("flush");
    });
    owner.defer("sync step", () => void order.push("sync step"));
    dir = owner.tempDir();
    assertStrictEquals(owner.tempDir(), dir);
    Deno.writeTextFileSync(`${dir}/part.tmp`, "x");
    assertEquals(await owner.run((signal) => Promise.resolve(`ok:${signal.aborted}`)), "ok:false");
  }
  assertEquals(order, ["sync step", "flush", "pool"]);
  assertEquals(syncDisposed, 1);
  assertEquals(existsSync(dir), false);
});

Deno.test("ResourceOwner: in-flight work finishing within grace is not aborted", async () => {
  const owner = new ResourceOwner({ name: "Grace", disposeTimeoutMs: 10_000, graceMs: 5_000 });
  const gate = Promise.withResolvers<void>();
  const work = owner.run(async (signal) => {
    await gate.promise;
    return signal.aborted;
  });
  assertEquals(owner.inFlight, 1);
  const disposing = owner.disposeAsync();
  gate.resolve(); // the download finishes while dispose is in its grace period
  await disposing;
  assertEquals(await work, false);
  assertEquals(owner.lastDisposeReport!.drainedInGrace, true);
  assertEquals(owner.inFlight, 0);
});

Deno.test("ResourceOwner: work outliving grace is aborted through its signal with ClientClosedError", async () => {
  const owner = new ResourceOwner({ name: "Slow", disposeTimeoutMs: 2_000, graceMs: 50 });
  let seen: AbortSignal | undefined;
  const work = owner.run((signal) => {
    seen = signal;
    return delay(60_000, { signal });
  });
  const { report, ms } = await timedDispose(owner);
  assertEquals([report.errors, report.timedOut], [[], []]); // it unwound in time: not an error
  assertLessOrEqual(ms, 2_000 + EPSILON_MS);
  assertEquals(seen?.aborted, true);
  const reason = await assertRejects(() => work, ClientClosedError);
  assertStrictEquals(reason, owner.signal.reason);
  assertEquals(owner.lastDisposeReport!.drainedInGrace, false);
});

Deno.test("ResourceOwner: work ignoring the abort is named in timedOut and dispose still settles in budget", async () => {
  const owner = new ResourceOwner({ name: "Deaf", disposeTimeoutMs: 150, graceMs: 20 });
  const never = new Promise<void>(() => {});
  void owner.run(() => never, { name: "deaf download" });
  let released = false;
  owner.defer("session", () => void (released = true));
  const { report, ms } = await timedDispose(owner);
  assertLessOrEqual(ms, 150 + EPSILON_MS);
  assertEquals(report.timedOut, ["in-flight:deaf download"]);
  assert(released, "sync steps run even when the budget is used up");
});

Deno.test("ResourceOwner: a hung step is named in timedOut, dispose settles ≤ B + ε, later steps and the temp dir still run", async () => {
  const B = 200;
  const owner = new ResourceOwner({ name: "Hung", disposeTimeoutMs: B });
  const ran: string[] = [];
  owner.adopt("http client", { [Symbol.dispose]: () => void ran.push("http client") });
  owner.defer("cache flush", async () => {
    await Promise.resolve(); // microtask-only work still succeeds with no budget left
    ran.push("cache flush");
  });
  let stepSignal: AbortSignal | undefined;
  owner.defer("pool close", (signal) => {
    stepSignal = signal;
    return new Promise<void>(() => {}); // never settles
  });
  const dir = owner.tempDir();
  const { report, ms } = await timedDispose(owner);
  assertLessOrEqual(ms, B + EPSILON_MS);
  assertEquals(report.timedOut, ["pool close"]);
  assertEquals(report.errors, []);
  assertEquals(ran, ["cache flush", "http client"]);
  assertEquals(stepSignal?.aborted, true);
  assertEquals(existsSync(dir), false);
  assertEquals(owner.lastDisposeReport!.steps.map((s) => [s.name, s.status]), [
    ["pool close", "timedOut"],
    ["cache flush", "ok"],
    ["http client", "ok"],
    ["temp dir", "ok"],
  ]);
  assertEquals(owner.state, "closed");
});

Deno.test("ResourceOwner: a hung step rejecting after the deadline never becomes an unhandled rejection", async () => {
  using unhandled = watchUnhandled();
  const owner = new ResourceOwner({ name: "Late", disposeTimeoutMs: 50 });
  const close = Promise.withResolvers<void>();
  owner.defer("ssl close", () => close.promise);
  const { report } = await timedDispose(owner);
  assertEquals(report.timedOut, ["ssl close"]);
  close.reject(new Error("connection reset during close"));
  Promise.reject(new Error("control")); // proves the watcher would see an unhandled rejection
  await nextTurn();
  assertEquals(unhandled.seen.map((e) => (e as Error).message), ["control"]);
});

Deno.test("ResourceOwner: throwing steps (async and sync) are collected in release order; other steps still run", async () => {
  const owner = new ResourceOwner({ name: "Throwing", disposeTimeoutMs: 5_000 });
  const ran: string[] = [];
  const syncErr = new Error("sync close failed");
  const asyncErr = new Error("async close failed");
  owner.defer("first", () => void ran.push("first"));
  owner.defer("sync thrower", () => {
    throw syncErr;
  });
  owner.defer("middle", () => void ran.push("middle"));
  owner.adopt("async thrower", {
    [Symbol.asyncDispose]: async () => {
      await delay(1);
      throw asyncErr;
    },
  });
  owner.defer("last", () => void ran.push("last"));
  const dir = owner.tempDir();
  const { report } = await timedDispose(owner);
  assertEquals(report.errors.length, 2);
  assertStrictEquals(report.errors[0], asyncErr);
  assertStrictEquals(report.errors[1], syncErr);
  assertEquals(report.failed, ["async thrower", "sync thrower"]);
  assertEquals(report.timedOut, []);
  assertEquals(ran, ["last", "middle", "first"]);
  assertEquals(existsSync(dir), false);
  assertStrictEquals(owner.lastDisposeReport!.errors[0], asyncErr);
});

Deno.test("ResourceOwner: two failing steps + a throwing `await using` body — the caller gets its own body error, unwrapped", async () => {
  const bodyErr = new InvalidSymbolError("btc-usdt", "must match ^[A-Z0-9]{1,30}$");
  const e1 = new Error("step 1 failed");
  const e2 = new Error("step 2 failed");
  let caught: unknown;
  let kept: ResourceOwner | undefined;
  try {
    await using owner = new ResourceOwner({ name: "Chain", disposeTimeoutMs: 1_000 });
    kept = owner;
    owner.defer("step 1", () => Promise.reject(e1));
    owner.defer("step 2", () => {
      throw e2;
    });
    throw bodyErr;
  } catch (e) {
    caught = e;
  }
  assertStrictEquals(caught, bodyErr); // not a SuppressedError: instanceof still matches
  assertInstanceOf(caught, InvalidSymbolError);
  assertEquals(kept!.lastDisposeReport!.errors, [e2, e1]);
  assertEquals(kept!.lastDisposeReport!.failed, ["step 2", "step 1"]);
});

Deno.test("ResourceOwner: strictDispose opts in to rejection — DisposeError (a VisionDataError), and a SuppressedError chain under a throwing body", async () => {
  const e1 = new Error("step 1 failed");
  const strict = new ResourceOwner({
    name: "Strict",
    disposeTimeoutMs: 1_000,
    strictDispose: true,
  });
  assertEquals(strict.strictDispose, true);
  strict.defer("step 1", () => Promise.reject(e1));
  const err = await assertRejects(() => strict.disposeAsync(), DisposeError);
  assertInstanceOf(err, VisionDataError);
  assertEquals(err.errors, [e1]);
  assertEquals(err.failed, ["step 1"]);
  assertEquals(err.timedOut, []);
  assert(err.elapsedMs >= 0);
  assertStrictEquals(strict.lastDisposeReport!.errors[0], e1); // the same facts, also reported

  const bodyErr = new Error("body failed");
  let caught: unknown;
  try {
    await using owner = new ResourceOwner({ name: "Chain", strictDispose: true });
    owner.defer("step", () => Promise.reject(e1));
    throw bodyErr;
  } catch (e) {
    caught = e;
  }
  assertInstanceOf(caught, SuppressedError);
  assertStrictEquals(caught.suppressed, bodyErr);
  assertInstanceOf(caught.error, DisposeError);
});

Deno.test("ResourceOwner: a timed-out strict dispose carries a TimeoutError cause", async () => {
  const owner = new ResourceOwner({
    name: "StrictHung",
    disposeTimeoutMs: 20,
    strictDispose: true,
  });
  owner.defer("pool close", () => new Promise<void>(() => {}));
  const err = await assertRejects(() => owner.disposeAsync(), DisposeError);
  assertEquals(err.timedOut, ["pool close"]);
  assertInstanceOf(err.cause, DOMException);
  assertEquals((err.cause as DOMException).name, "TimeoutError");
});

Deno.test("ResourceOwner: concurrent disposes share one promise and each step runs once; dispose after dispose", async () => {
  const owner = new ResourceOwner({ name: "Shared", disposeTimeoutMs: 1_000 });
  let closes = 0;
  owner.adopt("pool", {
    [Symbol.asyncDispose]: async () => {
      await delay(5);
      closes++;
    },
  });
  const a = owner.disposeAsync();
  const b = owner[Symbol.asyncDispose]();
  const c = owner.disposeAsync();
  assertStrictEquals(a, b);
  assertStrictEquals(a, c);
  await Promise.all([a, b, c]);
  assertEquals(closes, 1);
  assertStrictEquals(owner.disposeAsync(), a); // after settle: still the same, resolved promise
  await owner[Symbol.asyncDispose]();
  assertEquals(closes, 1);
});

Deno.test("ResourceOwner: new work after dispose rejects with ClientClosedError and allocates nothing", async () => {
  const owner = new ResourceOwner({ name: "Closed", disposeTimeoutMs: 1_000 });
  const disposing = owner.disposeAsync();
  let called = 0;
  const work = () => {
    called++;
    return Promise.resolve(1);
  };
  await assertRejects(() => owner.run(work), ClientClosedError, "Closed is closed");
  assertThrows(() => owner.assertOpen(), ClientClosedError);
  assertEquals(owner.inFlight, 0);
  await disposing;
  await assertRejects(() => owner.run(work), ClientClosedError);
  assertThrows(() => owner.tempDir(), ClientClosedError);
  // A resource handed over after close is released at once, and the caller is told.
  let released = 0;
  assertThrows(
    () => owner.adopt("late", { [Symbol.dispose]: () => void released++ }),
    ClientClosedError,
  );
  assertEquals([called, released, owner.inFlight], [0, 1, 0]);
});

Deno.test("ResourceOwner: work in the same tick as dispose — before the call it is accepted (then aborted), after it is rejected", async () => {
  const owner = new ResourceOwner({ name: "SameTick", disposeTimeoutMs: 1_000, graceMs: 0 });
  let calls = 0;
  const job = (signal: AbortSignal) => {
    calls++;
    return delay(60_000, { signal });
  };
  const before = owner.run(job); // accepted: in flight, gets the grace, then is aborted
  const disposing = owner.disposeAsync();
  const after = owner.run(job); // rejected without calling job
  await disposing;
  await assertRejects(() => before, ClientClosedError);
  await assertRejects(() => after, ClientClosedError);
  assertEquals(calls, 1);
});

Deno.test("ResourceOwner: the lifetime signal aborting mid-grace aborts the work and skips the rest of grace", async () => {
  const lifetime = new AbortController();
  const owner = new ResourceOwner({
    name: "Lifetime",
    disposeTimeoutMs: 20_000,
    graceMs: 10_000,
    signal: lifetime.signal,
  });
  const work = owner.run((signal) => delay(60_000, { signal }));
  const disposing = owner.disposeAsync();
  const reason = new Error("user cancelled");
  queueMicrotask(() => lifetime.abort(reason)); // while dispose waits in grace
  const t0 = performance.now();
  await disposing;
  assertLessOrEqual(performance.now() - t0, owner.graceMs); // grace cut short
  assertStrictEquals(await work.catch((e) => e), reason);
  assertEquals(owner.lastDisposeReport!.drainedInGrace, false);
});

Deno.test("ResourceOwner: the lifetime signal aborts in-flight work without disposing the owner", async () => {
  const lifetime = new AbortController();
  const owner = new ResourceOwner({ name: "Lifetime2", signal: lifetime.signal });
  const work = owner.run((signal) => delay(60_000, { signal }));
  lifetime.abort(new Error("stop"));
  await assertRejects(() => work, Error, "stop");
  assertEquals(owner.state, "open");
  let called = false;
  await assertRejects(() => owner.run(() => Promise.resolve(called = true)), Error, "stop");
  assertEquals(called, false);
  await owner.disposeAsync();
});

Deno.test("ResourceOwner: an already-aborted lifetime signal — no work starts, dispose still releases everything", async () => {
  const owner = new ResourceOwner({
    name: "PreAborted",
    disposeTimeoutMs: 20_000,
    graceMs: 10_000,
    signal: AbortSignal.abort(new Error("already")),
  });
  assertEquals(owner.signal.aborted, true);
  let called = false;
  await assertRejects(() => owner.run(() => Promise.resolve(called = true)), Error, "already");
  let released = false;
  owner.defer("session", async () => {
    await Promise.resolve();
    released = true;
  });
  const dir = owner.tempDir();
  await owner.disposeAsync();
  assertEquals(called, false);
  assert(released);
  assertEquals(existsSync(dir), false);
});

Deno.test("ResourceOwner: a per-call signal aborts only that operation", async () => {
  await using owner = new ResourceOwner({ name: "PerCall" });
  const op = new AbortController();
  const work = owner.run((signal) => delay(60_000, { signal }), { signal: op.signal });
  op.abort(new Error("just this one"));
  await assertRejects(() => work, Error, "just this one");
  assertEquals(owner.signal.aborted, false);
  assertEquals(await owner.run(() => Promise.resolve(7)), 7);
});

Deno.test("ResourceOwner: B = 0 — async work is aborted, sync steps run, hung steps time out, temp dir removed", async () => {
  const owner = new ResourceOwner({ name: "Zero", disposeTimeoutMs: 0 });
  assertEquals(owner.graceMs, 0);
  const work = owner.run((signal) => delay(60_000, { signal }));
  const ran: string[] = [];
  owner.adopt("http client", { [Symbol.dispose]: () => void ran.push("http client") });
  owner.defer("hung", () => new Promise<void>(() => {}));
  owner.defer("quick", async () => {
    await Promise.resolve();
    ran.push("quick");
  });
  const dir = owner.tempDir();
  const { report, ms } = await timedDispose(owner);
  assertLessOrEqual(ms, EPSILON_MS);
  assertEquals(report.timedOut, ["hung"]);
  assertEquals(ran, ["quick", "http client"]);
  await assertRejects(() => work, ClientClosedError);
  assertEquals(existsSync(dir), false);
});

Deno.test("ResourceOwner: a temp dir already removed by someone else is fine", async () => {
  const owner = new ResourceOwner({ name: "Gone" });
  const dir = owner.tempDir();
  Deno.removeSync(dir, { recursive: true });
  await owner.disposeAsync();
  assertEquals(owner.lastDisposeReport!.steps, [
    { name: "temp dir", status: "ok", elapsedMs: owner.lastDisposeReport!.steps[0].elapsedMs },
  ]);
});

Deno.test("ResourceOwner: invalid budgets are rejected, never clamped; the default grace fits the budget", () => {
  assertThrows(() => new ResourceOwner({ name: "x", disposeTimeoutMs: -1 }), InvalidOptionError);
  assertThrows(() => new ResourceOwner({ name: "x", graceMs: -1 }), InvalidOptionError);
  const err = assertThrows(
    () => new ResourceOwner({ name: "x", disposeTimeoutMs: 100, graceMs: 500 }),
    InvalidOptionError,
  );
  assertEquals([err.option, err.value, err.allowed], [
    "graceMs",
    500,
    "a finite number >= 0 and <= 100",
  ]);
  assertEquals(new ResourceOwner({ name: "x", disposeTimeoutMs: 100 }).graceMs, 100);
  assertThrows(() => new ResourceOwner({ name: "x" }).adopt("bad", {} as Disposable), TypeError);
});
