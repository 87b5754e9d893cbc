import { assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
import {
  checksumUrl,
  csvNameOf,
  klineArchiveDir,
  klineArchiveFileName,
  klineArchivePath,
  klineArchiveUrl,
} from "../src/vision/paths.ts";
import { runWorkerLoop } from "../src/_worker_loop.ts";

Deno.test("paths: spot/um/cm layout, 1M as 1mo, base URL slash tolerant", () => {
  assertEquals(
    klineArchivePath("spot", "BTCUSDT", "1m", { kind: "monthly", label: "2024-01" }),
    "data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip",
  );
  assertEquals(
    klineArchivePath("um", "BTCUSDT", "1h", { kind: "daily", label: "2024-01-02" }),
    "data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01-02.zip",
  );
  assertEquals(
    klineArchiveDir("cm", "BTCUSD_PERP", "1M", "monthly"),
    "data/futures/cm/monthly/klines/BTCUSD_PERP/1mo/",
  );
  assertEquals(
    klineArchiveFileName("BTCUSD_PERP", "1M", { kind: "monthly", label: "2024-01" }),
    "BTCUSD_PERP-1mo-2024-01.zip",
  );
  const a = klineArchiveUrl("http://h:1/", "spot", "ADABTC", "1d", {
    kind: "daily",
    label: "2021-11-27",
  });
  assertEquals(a, "http://h:1/data/spot/daily/klines/ADABTC/1d/ADABTC-1d-2021-11-27.zip");
  assertEquals(
    a,
    klineArchiveUrl("http://h:1", "spot", "ADABTC", "1d", {
      kind: "daily",
      label: "2021-11-27",
    }),
  );
  assertEquals(checksumUrl(a), a + ".CHECKSUM");
  assertEquals(csvNameOf("BTCUSDT-1h-2023-10-27.zip"), "BTCUSDT-1h-2023-10-27.csv");
});

Deno.test("worker loop: bounded concurrency, every item once, enqueue follow-ups", async () => {
  let running = 0;
  let peak = 0;
  const seen: number[] = [];
  await runWorkerLoop([1, 2, 3, 4, 5, 6, 7], {
    concurrency: 3,
    signal: new AbortController().signal,
    handle: async (n, _signal, enqueue) => {
      running++;
      peak = Math.max(peak, running);
      await Promise.resolve();
      seen.push(n);
      if (n === 7) enqueue(70, 71, 72, 73);
      running--;
    },
  });
  assertEquals(peak, 3);
  assertEquals(seen.sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 70, 71, 72, 73]);
});

Deno.test("worker loop: first error aborts the others, all awaited, first error thrown", async () => {
  const boom = new Error("boom");
  const aborted: unknown[] = [];
  let started = 0;
  const gate = Promise.withResolvers<void>();
  const err = await runWorkerLoop(Array.from({ length: 20 }, (_, i) => i), {
    concurrency: 4,
    signal: new AbortController().signal,
    handle: async (n, signal) => {
      started++;
      if (n === 3) {
        await Promise.resolve();
        gate.resolve();
        throw boom;
      }
      // Others wait until aborted, then reject with a different error.
      await gate.promise;
      await new Promise<void>((_, reject) => {
        if (signal.aborted) return reject(new Error(`late ${n}`));
        signal.addEventListener("abort", () => {
          aborted.push(signal.reason);
          reject(new Error(`late ${n}`));
        }, { once: true });
      });
    },
  }).catch((e) => e);
  assertStrictEquals(err, boom);
  assertEquals(started, 4); // no new item started after the failure
  assertEquals(aborted.length, 3); // the three others were aborted, with the failure as reason
  for (const r of aborted) assertStrictEquals(r, boom);
});

Deno.test("worker loop: outer abort rejects with its reason", async () => {
  const ac = new AbortController();
  const reason = new Error("stop");
  await assertRejects(
    () =>
      runWorkerLoop([1, 2, 3], {
        concurrency: 2,
        signal: ac.signal,
        handle: (_n, signal) =>
          new Promise<void>((_, reject) => {
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
            queueMicrotask(() => ac.abort(reason));
          }),
      }),
    Error,
    "stop",
  );
});
