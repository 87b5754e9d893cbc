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
import { ClientClosedError, VisionDataError } from "../src/errors.ts";
import { DeadlineCleanupManager, DisposeError } from "../src/resource/mod.ts";
import { nextTurn, watchUnhandled } from "./_helpers.ts";

Deno.test("DeadlineCleanupManager (seed test_deadline_enforcement): a 2 s task under a 0.5 s deadline is aborted, exit does not raise", async () => {
  const manager = new DeadlineCleanupManager({ timeoutMs: 500 });
  manager.startDeadline();
  const task = manager.createTask((signal) => delay(2000, { signal }), "long_running_task");
  const t0 = performance.now();
  await manager[Symbol.asyncDispose](); // exit does not raise: cleanup collects and reports
  const err = manager.lastDisposeReport!;
  const elapsed = performance.now() - t0;

  assertLessOrEqual(elapsed, 500 + 250);
  assertEquals(err.timedOut, ["long_running_task"]);
  assertEquals(err.errors, []); // the abort itself is not a failure
  assertEquals(task.status, "aborted");
  assertEquals(task.signal.aborted, true);
  assertEquals((task.signal.reason as DOMException).name, "TimeoutError");
  await assertRejects(() => task.promise, DOMException);
  assertEquals(manager.timedOut, ["long_running_task"]);
  assertEquals(manager.report.map((r) => [r.name, r.status]), [["long_running_task", "aborted"]]);
  assertEquals(manager.running, 0);
});

Deno.test("DeadlineCleanupManager: a failing task's error is collected with its identity", async () => {
  const manager = new DeadlineCleanupManager({ timeoutMs: 1000 });
  manager.startDeadline();
  const boom = new TypeError("Test error");
  manager.createTask((signal) => delay(1, { signal }), "ok_task");
  const failing = manager.createTask(() => Promise.reject(boom), "failing_task");
  const syncBoom = new RangeError("thrown synchronously");
  manager.createTask(() => {
    throw syncBoom;
  }, "sync_throwing_task");

  await manager[Symbol.asyncDispose](); // exit does not raise: cleanup collects and reports
  const err = manager.lastDisposeReport!;
  assertEquals(err.errors.length, 2);
  assertStrictEquals(err.errors[err.failed.indexOf("failing_task")], boom);
  assertStrictEquals(err.errors[err.failed.indexOf("sync_throwing_task")], syncBoom);
  assertEquals(err.timedOut, []);
  assertEquals(manager.errors.length, 2);
  assertEquals(failing.status, "rejected");
  const report = manager.report;
  assertEquals(report.map((r) => [r.id, r.name, r.status]), [
    [1, "ok_task", "fulfilled"],
    [2, "failing_task", "rejected"],
    [3, "sync_throwing_task", "rejected"],
  ]);
  assertStrictEquals(report[1].error, boom);
  assertEquals("error" in report[0], false);
});

Deno.test("DeadlineCleanupManager (seed test_parallel_cleanup): 100 tasks (0-0.99 s) under a 1 s deadline — short ones complete, long ones aborted, none left running", async () => {
  const manager = new DeadlineCleanupManager({ timeoutMs: 1000 });
  manager.startDeadline();
  // The deadline clock runs while the owner finishes other work (simulated: 0.5 s), so the
  // cleanup tasks created afterwards only have ~0.5 s of the 1 s deadline left.
  await delay(500);
  const completed: number[] = [];
  const tasks = Array.from({ length: 100 }, (_, i) =>
    manager.createTask(async (signal) => {
      await delay(i * 10, { signal });
      completed.push(i);
    }, `cleanup-${i}`));

  await manager[Symbol.asyncDispose](); // exit does not raise: cleanup collects and reports
  const err = manager.lastDisposeReport!;
  const statuses = tasks.map((t) => t.status);
  const done = statuses.filter((s) => s === "fulfilled").length;
  // Tasks finish in delay order, so the split is monotonic: a prefix completed, the rest aborted.
  assertEquals(statuses, [
    ...Array(done).fill("fulfilled"),
    ...Array(100 - done).fill("aborted"),
  ]);
  assert(done > 0, "short tasks must complete");
  assert(done < 100, "long tasks must be aborted");
  assertEquals(completed, Array.from({ length: done }, (_, i) => i));
  assertEquals(err.timedOut, tasks.slice(done).map((t) => t.name));
  assertEquals(err.errors, []);
  assertEquals(manager.running, 0);
  assert(tasks.slice(done).every((t) => t.signal.aborted));
  // The ops sanitizer additionally proves no delay() timer of an aborted task is left pending.
});

Deno.test("DeadlineCleanupManager: a task ignoring its signal is reported hung; its late rejection is never unhandled", async () => {
  using unhandled = watchUnhandled();
  const manager = new DeadlineCleanupManager({ timeoutMs: 100, unwindMs: 20 });
  const stubborn = Promise.withResolvers<void>();
  const task = manager.createTask(() => stubborn.promise, "stubborn");
  const t0 = performance.now();
  await manager[Symbol.asyncDispose](); // exit does not raise: cleanup collects and reports
  const err = manager.lastDisposeReport!;
  assertLessOrEqual(performance.now() - t0, 100 + 20 + 250);
  assertEquals(err.timedOut, ["stubborn"]);
  assertEquals(task.status, "hung");
  assertEquals(task.signal.aborted, true);

  const late = new Error("late failure");
  stubborn.reject(late);
  Promise.reject(new Error("control")); // proves the watcher would see an unhandled rejection
  await nextTurn();
  assertEquals(unhandled.seen.map((e) => (e as Error).message), ["control"]);
  assertEquals(task.status, "hung");
  assertStrictEquals(manager.report[0].error, late); // recorded for the report, not thrown
  assertEquals(manager.errors, []); // dispose had already settled
});

Deno.test("DeadlineCleanupManager: an aborted task that fails with its own error has it collected", async () => {
  const manager = new DeadlineCleanupManager({ timeoutMs: 50 });
  const own = new Error("could not flush after abort");
  manager.createTask(async (signal) => {
    await delay(60_000, { signal }).catch(() => {});
    throw own;
  }, "flusher");
  await manager[Symbol.asyncDispose](); // exit does not raise: cleanup collects and reports
  const err = manager.lastDisposeReport!;
  assertEquals(err.timedOut, ["flusher"]);
  assertEquals(err.failed, ["flusher"]);
  assertStrictEquals(err.errors[0], own);
  assertEquals(manager.report[0].status, "aborted");
});

Deno.test("DeadlineCleanupManager: fast tasks settle dispose at once, leaving no timer; dispose is idempotent", async () => {
  // A 60 s deadline: if dispose left its timer behind, the ops sanitizer would fail this test.
  const manager = new DeadlineCleanupManager({ timeoutMs: 60_000 });
  assertEquals(manager.timeRemaining, 60_000);
  const results: string[] = [];
  manager.createTask(async () => {
    await Promise.resolve();
    results.push("a");
  }, "a");
  manager.createTask((signal) => delay(1, { signal }).then(() => results.push("b")), "b");
  const first = manager[Symbol.asyncDispose]();
  assertStrictEquals(manager[Symbol.asyncDispose](), first);
  await first;
  assertEquals(results.sort(), ["a", "b"]);
  assertEquals(manager.timedOut, []);
  assert(manager.timeRemaining < 60_000 && manager.timeRemaining > 0);
  assertThrows(() => manager.createTask(() => Promise.resolve()), ClientClosedError);
  await manager[Symbol.asyncDispose](); // dispose after dispose: same settled promise
});

Deno.test("DeadlineCleanupManager (seed test_error_collection): exit does not raise; errors holds the one failure", async () => {
  let exited = false;
  let kept: DeadlineCleanupManager | undefined;
  {
    await using manager = new DeadlineCleanupManager({ timeoutMs: 1000 });
    kept = manager;
    manager.startDeadline();
    // The seed's ValueError("Test error"): the JavaScript equivalent for a bad value.
    manager.createTask(() => Promise.reject(new RangeError("Test error")), "failing_task");
    await nextTurn();
  }
  exited = true;
  assert(exited);
  assertEquals(kept.errors.length, 1);
  assertInstanceOf(kept.errors[0], RangeError);
  assertEquals((kept.errors[0] as Error).message, "Test error");
  assertEquals(kept.state, "closed");
  assertEquals(kept.lastDisposeReport!.failed, ["failing_task"]);
});

Deno.test("DeadlineCleanupManager: strictDispose opts in to rejecting with DisposeError carrying the outcome", async () => {
  const manager = new DeadlineCleanupManager({ timeoutMs: 0, strictDispose: true });
  const boom = new Error("boom");
  manager.createTask(() => Promise.reject(boom), "fails");
  manager.createTask((signal) => delay(60_000, { signal }), "slow");
  const err = await assertRejects(() => manager[Symbol.asyncDispose](), DisposeError);
  assertInstanceOf(err, VisionDataError);
  assertEquals(err.failed, ["fails"]);
  assertStrictEquals(err.errors[0], boom);
  assertEquals(err.timedOut, ["slow"]);
  assertInstanceOf(err.cause, DOMException);
  assertEquals((err.cause as DOMException).name, "TimeoutError");
  assertEquals(manager.failed, ["fails"]);
  assertEquals(manager.timedOut, ["slow"]);
  assertEquals(manager.timeRemaining, 0);
});

Deno.test("DeadlineCleanupManager: invalid options are rejected", () => {
  assertThrows(() => new DeadlineCleanupManager({ timeoutMs: -1 }), InvalidOptionError);
  assertThrows(() => new DeadlineCleanupManager({ unwindMs: Number.NaN }), InvalidOptionError);
});
