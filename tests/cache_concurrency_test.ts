import { assert, assertEquals, assertRejects } from "@std/assert";
import { dirname, fromFileUrl, join } from "@std/path";
import { key, synthetic, withCache } from "./_cache_helpers.ts";
import { assertColumnsEqual, walk } from "./_helpers.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));

Deno.test("concurrent writers and readers of one day in one process: always valid", async () => {
  await withCache(async (cache, dir) => {
    const k = key("2024-01-01");
    const cols = synthetic(k.day);
    await cache.write(k, cols);
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 12; i++) {
      ops.push(cache.write(k, cols));
      ops.push(cache.read(k).then((r) => assertColumnsEqual(r!, cols)));
    }
    await Promise.all(ops);
    assertColumnsEqual((await cache.read(k))!, cols);
    assertEquals(walk(dir), [cache.pathFor(k)], "no temp file left");
  });
});

// A writer process: writes each day `rounds` times, reading every day back after each
// write; prints how many reads saw a corrupt or missing file.
const WRITER = `
import { KlineCache } from ${JSON.stringify(new URL("../src/cache/mod.ts", import.meta.url).href)};
import { key, synthetic } from ${
  JSON.stringify(new URL("./_cache_helpers.ts", import.meta.url).href)
};
const [dir, rounds] = [Deno.args[0], Number(Deno.args[1])];
const cache = new KlineCache({ dir });
const days = ["2024-01-01", "2024-01-02", "2024-01-03"];
const cols = Object.fromEntries(days.map((day) => [day, synthetic(day)]));
let bad = 0;
for (let r = 0; r < rounds; r++) {
  for (const day of days) {
    await cache.write(key(day), cols[day]);
    for (const d of days) {
      try {
        const got = await cache.read(key(d));
        if (got && got.open[1439] !== cols[d].open[1439]) bad++;
      } catch (e) { bad++; console.error(String(e)); }
    }
  }
}
console.log(JSON.stringify({ bad }));
`;

Deno.test("two processes writing the same days concurrently leave a valid cache", async () => {
  await withCache(async (cache, dir) => {
    const spawn = () =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          "--no-lock",
          `--import-map=${join(ROOT, "offline", "import_map.json")}`,
          WRITER,
          dir,
          "25",
        ],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const results = await Promise.all([spawn(), spawn()]);
    for (const r of results) {
      const out = new TextDecoder().decode(r.stdout);
      const err = new TextDecoder().decode(r.stderr);
      assertEquals(r.code, 0, err);
      assertEquals(JSON.parse(out.trim().split("\n").at(-1)!), { bad: 0 }, err);
    }
    const days = ["2024-01-01", "2024-01-02", "2024-01-03"];
    for (const day of days) assertColumnsEqual((await cache.read(key(day)))!, synthetic(day));
    assertEquals((await cache.verify()).corrupt, []);
    assertEquals(walk(dir), days.map((d) => cache.pathFor(key(d))), "no temp left");
  });
});

Deno.test("an abort mid-write leaves no final file and no temp; an old file stays intact", async () => {
  await withCache(async (cache, dir) => {
    // A day of 1s klines is ~7.6 MB: several 1 MiB chunks, so the abort lands mid-file.
    const k = key("2024-01-01", { interval: "1s" });
    const big = synthetic(k.day, 86_400, 1000);
    const controller = new AbortController();
    const progress: number[] = [];
    const err = await assertRejects(() =>
      cache.write(k, big, {
        signal: controller.signal,
        onProgress: (written, total) => {
          progress.push(written);
          if (written < total) controller.abort();
        },
      })
    );
    assertEquals((err as DOMException).name, "AbortError");
    assertEquals(progress.length, 1, "stopped after the first chunk");
    assert(progress[0] < 86_400 * 88, "a partial write");
    assertEquals(walk(dir), [], "no final file, no temp file");
    assertEquals(await cache.read(k), null);

    // With a previous version in place, an aborted rewrite leaves that version readable.
    const small = synthetic(k.day, 10, 1000);
    await cache.write(k, small);
    const again = new AbortController();
    await assertRejects(() =>
      cache.write(k, big, { signal: again.signal, onProgress: () => again.abort() })
    );
    assertColumnsEqual((await cache.read(k))!, small);
    assertEquals(walk(dir), [cache.pathFor(k)]);

    // An already-aborted signal writes nothing at all.
    const aborted = AbortSignal.abort();
    await assertRejects(() =>
      cache.write(key("2024-01-02"), synthetic("2024-01-02"), { signal: aborted })
    );
    assertEquals(await cache.read(key("2024-01-02")), null);
  });
});

Deno.test("a crashed writer's partial temp file is invisible, then swept once stale", async () => {
  await withCache(async (cache, dir) => {
    const k = key("2024-01-01");
    const path = cache.pathFor(k);
    await cache.write(k, synthetic(k.day));
    const full = await Deno.readFile(path);
    await Deno.remove(path);
    // What a writer killed mid-write leaves: half a file under its temp name.
    const temp = `${path}.tmp-424242-deadbeef`;
    await Deno.writeFile(temp, full.subarray(0, full.length >> 1));

    assertEquals(await cache.read(k), null);
    assertEquals(await cache.list(), []);
    assertEquals((await cache.info()).files, 0);
    // Young temps may belong to a live writer: verify() leaves them.
    const v1 = await cache.verify();
    assertEquals([v1.checked, v1.sweptTemps.length], [0, 0]);
    assertEquals((await Deno.stat(temp)).size, full.length >> 1);

    const old = new Date(Date.now() - 3_600_000);
    await Deno.utime(temp, old, old);
    const v2 = await cache.verify();
    assertEquals(v2.sweptTemps, [temp]);
    assertEquals(walk(dir), []);

    // clear() sweeps stale temps too.
    const temp2 = `${path}.tmp-1-x`;
    await Deno.mkdir(dirname(temp2), { recursive: true });
    await Deno.writeFile(temp2, full.subarray(0, 100));
    await Deno.utime(temp2, old, old);
    assertEquals((await cache.clear()).sweptTemps, [temp2]);
  });
});

Deno.test("staleTempMs: 0 sweeps any temp", async () => {
  await withCache(async (cache) => {
    const k = key("2024-01-01");
    const temp = `${cache.pathFor(k)}.tmp-7-y`;
    await Deno.mkdir(dirname(temp), { recursive: true });
    await Deno.writeFile(temp, new Uint8Array(10));
    assertEquals((await cache.verify()).sweptTemps, [temp]);
  }, { staleTempMs: -1 });
});
