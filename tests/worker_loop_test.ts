import { assertEquals, assertRejects } from "@std/assert";
import { runLimited } from "../src/_worker_loop.ts";

/** A job that settles only when told to (or rejects with its signal's reason). */
function controllable() {
  const started: number[] = [];
  const gates = new Map<number, PromiseWithResolvers<number>>();
  const job = (i: number) => (signal: AbortSignal): Promise<number> => {
    started.push(i);
    const g = Promise.withResolvers<number>();
    gates.set(i, g);
    signal.addEventListener("abort", () => g.reject(signal.reason), { once: true });
    return g.promise;
  };
  return { started, gates, job };
}

Deno.test("runLimited keeps order and never runs more than `limit` at once", async () => {
  let running = 0;
  let peak = 0;
  const jobs = [5, 1, 4, 2, 3].map((v) => async () => {
    running++;
    peak = Math.max(peak, running);
    await Promise.resolve();
    await Promise.resolve();
    running--;
    return v * 10;
  });
  assertEquals(await runLimited(jobs, 2, new AbortController().signal), [50, 10, 40, 20, 30]);
  assertEquals(peak, 2);
});

Deno.test("runLimited: the first failure aborts the others and is thrown after they settle", async () => {
  const { started, gates, job } = controllable();
  const boom = new Error("boom");
  const p = runLimited([job(0), job(1), job(2), job(3)], 2, new AbortController().signal);
  assertEquals(started, [0, 1]);
  gates.get(1)!.reject(boom);
  const err = await assertRejects(() => p);
  assertEquals(err, boom);
  // Job 0 was aborted (with the failure as reason); jobs 2 and 3 never started.
  assertEquals(started, [0, 1]);
});

Deno.test("runLimited: an outer abort rejects with its reason and starts nothing more", async () => {
  const { started, job } = controllable();
  const c = new AbortController();
  const p = runLimited([job(0), job(1), job(2)], 1, c.signal);
  const reason = new Error("stop");
  c.abort(reason);
  assertEquals(await assertRejects(() => p), reason);
  assertEquals(started, [0]);
  const after = await assertRejects(() => runLimited([job(9)], 1, c.signal));
  assertEquals(after, reason);
  assertEquals(started, [0]);
});

Deno.test("runLimited with no jobs resolves to an empty array", async () => {
  assertEquals(await runLimited([], 4, new AbortController().signal), []);
});
