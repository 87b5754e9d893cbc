import { assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
import { Semaphore } from "../src/_semaphore.ts";

Deno.test("Semaphore: at most `permits` holders, granted in FIFO order", async () => {
  const slots = new Semaphore(2);
  const never = new AbortController().signal;
  const a = await slots.acquire(never);
  const b = await slots.acquire(never);
  assertEquals(slots.free, 0);
  const order: string[] = [];
  const c = slots.acquire(never).then((r) => (order.push("c"), r));
  const d = slots.acquire(never).then((r) => (order.push("d"), r));
  a();
  a(); // a second call releases nothing more
  const releaseC = await c;
  assertEquals(order, ["c"]);
  b();
  const releaseD = await d;
  assertEquals(order, ["c", "d"]);
  releaseC();
  releaseD();
  assertEquals(slots.free, 2);
});

Deno.test("Semaphore: an aborted wait rejects with the reason and takes no permit", async () => {
  const slots = new Semaphore(1);
  const release = await slots.acquire(new AbortController().signal);
  const ac = new AbortController();
  const waiting = slots.acquire(ac.signal);
  const reason = new Error("stop");
  ac.abort(reason);
  assertStrictEquals(await waiting.catch((e) => e), reason);
  await assertRejects(() => slots.acquire(ac.signal), Error, "stop");
  release();
  assertEquals(slots.free, 1);
  // The aborted waiter was dropped: the next one gets the permit at once.
  (await slots.acquire(new AbortController().signal))();
  assertEquals(slots.free, 1);
});
