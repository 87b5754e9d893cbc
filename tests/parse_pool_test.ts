import { InvalidOptionError } from "../src/option_error.ts";
import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertLess,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { fromFileUrl, join } from "@std/path";
import { ArchiveError, ClientClosedError } from "../src/errors.ts";
import { KLINE_COLUMNS } from "../src/klines.ts";
import { parseKlineCsv } from "../src/vision/csv_parser.ts";
import { ParsePool } from "../src/vision/parse_pool.ts";
import { createZip } from "../testing/_zip_writer.ts";
import { assertColumnsEqual } from "./_helpers.ts";

const root = fromFileUrl(new URL("..", import.meta.url));
const fixture = (p: string) => Deno.readFileSync(join(root, "tests/fixtures", p));
const FIXTURES = [
  "spot/BTCUSDT-1m-2017-08-17.csv",
  "um/BTCUSDT-1m-2024-01-01.csv",
  "um/BTCUSDT-1m-2025-01-01.csv",
  "spot_us/README-rows.csv",
  "spot/ADABTC-1m-2021-11-27.csv",
  "spot/ADABTC-1m-2021-11-28.csv",
];
const zipOf = (csv: Uint8Array, name = "X-1m-2024-01-01.csv") => createZip([{ name, data: csv }]);

/** About 200k rows: long enough (~0.1 s) that a job is still running when we act on it. */
const bigZip = (() => {
  const text = new TextDecoder().decode(fixture("spot/BTCUSDT-1m-2017-08-17.csv"));
  return zipOf(new TextEncoder().encode(text.repeat(170)));
})();

Deno.test("jobs on two workers each come back with their own file's exact columns", async () => {
  await using pool = new ParsePool({ workers: 2 });
  const jobs = FIXTURES.map((p) => {
    const csv = fixture(p);
    return { csv, done: pool.parseZipBytes(zipOf(csv), { file: p }) };
  });
  for (const { csv, done } of jobs) {
    const got = await done;
    assertColumnsEqual(got, parseKlineCsv(csv));
    // One buffer of exactly n × 11 float64, transferred from the worker.
    assertEquals(got.openTime.buffer.byteLength, got.openTime.length * 8 * 11);
    for (const name of KLINE_COLUMNS) assert(got[name].buffer === got.openTime.buffer);
  }
  assertEquals(pool.spawnedWorkers, 2);
});

Deno.test("parseZipFile reads the zip in the worker; a missing file is NotFound", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parse_pool_test_" });
  try {
    const csv = fixture("um/BTCUSDT-1m-2024-01-01.csv");
    const path = join(dir, "BTCUSDT-1m-2024-01-01.zip");
    await Deno.writeFile(path, zipOf(csv, "BTCUSDT-1m-2024-01-01.csv"));
    await using pool = new ParsePool({ workers: 1 });
    assertColumnsEqual(await pool.parseZipFile(path), parseKlineCsv(csv));
    await assertRejects(() => pool.parseZipFile(join(dir, "absent.zip")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("errors come back typed: CSV errors name the CSV and line, zip errors the zip", async () => {
  for (const workers of [1, 0]) {
    await using pool = new ParsePool({ workers });
    const bad = new TextEncoder().encode("1,2,3,4,5,6,7,8,9,10,11,0\n1,2,3\n");
    const csvErr = await assertRejects(
      () => pool.parseZipBytes(zipOf(bad, "BAD-1m-2024-01-01.csv"), { file: "BAD.zip" }),
      ArchiveError,
    );
    assertEquals([csvErr.file, csvErr.line], ["BAD-1m-2024-01-01.csv", 2]);
    assertStringIncludes(csvErr.message, "BAD-1m-2024-01-01.csv line 2: expected 12 fields");

    const zip = zipOf(fixture("spot/ADABTC-1m-2021-11-27.csv"));
    const zipErr = await assertRejects(
      () => pool.parseZipBytes(zip.subarray(0, zip.length - 30), { file: "CUT.zip" }),
      ArchiveError,
    );
    assertEquals(zipErr.file, "CUT.zip");
    assertEquals(zipErr.line, undefined);
    // The pool keeps working after errors.
    assertEquals((await pool.parseZipBytes(zip)).openTime.length, 10);
  }
});

Deno.test("workers start lazily: a pool that never parses starts none", async () => {
  const pool = new ParsePool({ workers: 2 });
  assertEquals(pool.spawnedWorkers, 0);
  await pool[Symbol.asyncDispose]();
  assertEquals(pool.spawnedWorkers, 0);
  await assertRejects(() => pool.parseZipBytes(new Uint8Array(0)), ClientClosedError);
  assertThrows(() => pool.warmUp(), ClientClosedError);
});

Deno.test("one job starts one worker even when the pool may have more", async () => {
  await using pool = new ParsePool({ workers: 4 });
  await pool.parseZipBytes(zipOf(fixture("spot/ADABTC-1m-2021-11-27.csv")));
  await pool.parseZipBytes(zipOf(fixture("spot/ADABTC-1m-2021-11-28.csv")));
  assertEquals(pool.spawnedWorkers, 1);
  pool.warmUp();
  assertEquals(pool.liveWorkers, 4);
});

Deno.test("abort: a queued job leaves the queue; a running job's late result is dropped", async () => {
  await using pool = new ParsePool({ workers: 1 });
  const small = fixture("spot/ADABTC-1m-2021-11-28.csv");
  const running = new AbortController();
  const queued = new AbortController();
  const first = pool.parseZipBytes(bigZip, { signal: running.signal });
  const second = pool.parseZipBytes(bigZip, { signal: queued.signal });
  const third = pool.parseZipBytes(zipOf(small));
  queued.abort(new Error("not needed"));
  running.abort(new Error("stop"));
  await assertRejects(() => first, Error, "stop");
  await assertRejects(() => second, Error, "not needed");
  // The worker finishes the aborted job, drops it, then runs the next one correctly.
  assertColumnsEqual(await third, parseKlineCsv(small));
  // An already-aborted signal rejects at once with its reason and queues nothing.
  const done = AbortSignal.abort(new Error("before"));
  await assertRejects(() => pool.parseZipBytes(zipOf(small), { signal: done }), Error, "before");
  assertEquals(pool.spawnedWorkers, 1);
});

Deno.test("dispose terminates busy workers at once and rejects pending jobs", async () => {
  const pool = new ParsePool({ workers: 2 });
  const jobs = [1, 2, 3].map(() => pool.parseZipBytes(bigZip));
  const started = performance.now();
  await pool[Symbol.asyncDispose]();
  assertLess(performance.now() - started, 250);
  for (const job of jobs) await assertRejects(() => job, ClientClosedError);
  assertEquals(pool.liveWorkers, 0);
  await pool[Symbol.asyncDispose](); // idempotent
});

Deno.test("transfer: true hands the zip's buffer to the worker (no copy)", async () => {
  await using pool = new ParsePool({ workers: 1 });
  const zip = zipOf(fixture("spot/ADABTC-1m-2021-11-27.csv"));
  const columns = await pool.parseZipBytes(zip, { transfer: true });
  assertEquals(columns.openTime.length, 10);
  assertEquals(zip.byteLength, 0); // detached
  // A view into a larger buffer is copied (only its bytes), never transferred.
  const csv = fixture("spot/ADABTC-1m-2021-11-28.csv");
  const inner = zipOf(csv);
  const outer = new Uint8Array(inner.length + 100);
  outer.set(inner, 50);
  const view = outer.subarray(50, 50 + inner.length);
  assertColumnsEqual(await pool.parseZipBytes(view, { transfer: true }), parseKlineCsv(csv));
  assertEquals(outer.byteLength, inner.length + 100);
});

Deno.test("bad options are InvalidOptionErrors", () => {
  assertThrows(() => new ParsePool({ workers: -1 }), InvalidOptionError);
  assertThrows(() => new ParsePool({ workers: 1.5 }), InvalidOptionError);
  assertThrows(() => new ParsePool({ idleTimeoutMs: -1 }), InvalidOptionError);
});

Deno.test("under the offline import map, a pool that is never disposed does not keep the process alive", async () => {
  const dir = await Deno.makeTempDir({ prefix: "parse_pool_exit_" });
  try {
    const zipPath = join(dir, "a.zip");
    await Deno.writeFile(zipPath, zipOf(fixture("spot/BTCUSDT-1m-2017-08-17.csv")));
    const script = join(dir, "main.ts");
    const poolUrl = new URL("../src/vision/parse_pool.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { ParsePool } from ${JSON.stringify(poolUrl)};
const pool = new ParsePool({ workers: 2, idleTimeoutMs: 100 });
const c = await pool.parseZipFile(${JSON.stringify(zipPath)});
console.log(c.openTime.length, c.closeTime[1199]);`,
    );
    const killer = new AbortController();
    const timer = setTimeout(() => killer.abort(), 30_000);
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `--import-map=${join(root, "offline/import_map.json")}`, script],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
        signal: killer.signal,
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assertEquals(out.code, 0, stderr);
      assertEquals(new TextDecoder().decode(out.stdout).trim(), "1200 1503014399999");
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the worker's runtime imports are relative or node: only (fast start, any import map)", () => {
  const seen = new Set<string>();
  const visit = (url: URL) => {
    if (seen.has(url.href)) return;
    seen.add(url.href);
    const source = Deno.readTextFileSync(url);
    // Value imports only: `import type` is erased and never loaded.
    for (const m of source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+"([^"]+)";/gms)) {
      const spec = m[1];
      if (spec.startsWith("node:")) continue;
      assert(spec.startsWith("./") || spec.startsWith("../"), `${url.pathname} imports ${spec}`);
      visit(new URL(spec, url));
    }
  };
  visit(new URL("../src/vision/_parse_worker.ts", import.meta.url));
  assert(!seen.has(new URL("../src/klines.ts", import.meta.url).href), "klines.ts (apache-arrow)");
  assert(seen.size >= 5, [...seen].join(", "));
});

Deno.test("ClientClosedError names the pool", async () => {
  const pool = new ParsePool();
  await pool[Symbol.asyncDispose]();
  const err = await assertRejects(() => pool.parseZipFile("/nowhere.zip"));
  assertInstanceOf(err, ClientClosedError);
  assertStringIncludes(err.message, "ParsePool");
});
