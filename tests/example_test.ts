import { assert, assertEquals, assertInstanceOf, assertStringIncludes } from "@std/assert";
import { BinanceApiError } from "../src/errors.ts";
import { dirname, fromFileUrl, join } from "@std/path";
import {
  exampleFetchHistoricalData,
  exampleFetchRecentData,
  runExamples,
} from "../examples/data_retrieval_best_practices.ts";
import { startReplica } from "../testing/mod.ts";
import { assertTruth, NOW, tempCacheDir } from "./_manager_helpers.ts";

const H = 3_600_000;
const ROOT = join(dirname(fromFileUrl(import.meta.url)), "..");

/** Temp dirs the examples create when no cache dir is given. */
function exampleTempDirs(): string[] {
  const probe = Deno.makeTempDirSync();
  Deno.removeSync(probe);
  const tmp = dirname(probe);
  return [...Deno.readDirSync(tmp)].map((e) => e.name).filter((n) =>
    n.startsWith("vision-data-example-")
  );
}

Deno.test("exampleFetchRecentData: two days of 1m from Vision and REST, printed", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  const lines: string[] = [];
  const { klines, sources, stats } = await exampleFetchRecentData({
    visionUrl: replica.visionUrl,
    restUrl: replica.restUrl,
    cacheDir: dir.path,
    now: () => replica.now(),
    log: (line) => lines.push(line),
  });
  assertTruth(replica, klines, { interval: "1m", start: NOW - 48 * H, end: NOW });
  assertEquals(klines.length, 48 * 60);
  // 11-25 10:30 → 11-27 00:00 is archived; this morning comes from REST.
  assertEquals(sources, { vision: 37.5 * 60, rest: 10.5 * 60 });
  assertEquals(stats, { hits: 0, misses: 2, errors: 0, writes: 2 });
  const text = lines.join("\n");
  assertStringIncludes(text, "== Recent data: BTCUSDT 1m");
  assertStringIncludes(text, '2880 rows, 0 gap(s); rows per source: {"vision":2250,"rest":630}');
  assertStringIncludes(text, "2026-11-25T10:30:00.000Z");
  assertStringIncludes(text, "2026-11-27T10:29:00.000Z");
  assertStringIncludes(text, "cache: hits 0, misses 2, errors 0, writes 2");
});

Deno.test("exampleFetchHistoricalData: 1s through Vision, then from the cache", async () => {
  await using replica = await startReplica({ now: NOW });
  const before = exampleTempDirs();
  const lines: string[] = [];
  const { klines, sources, stats } = await exampleFetchHistoricalData({
    visionUrl: replica.visionUrl,
    restUrl: replica.restUrl,
    now: () => replica.now(),
    log: (line) => lines.push(line),
  });
  const end = Date.parse("2026-08-29T10:00:00Z");
  assertTruth(replica, klines, { interval: "1s", start: end - H, end });
  assertEquals(sources, { cache: 3600 });
  assertEquals(stats, { hits: 1, misses: 1, errors: 0, writes: 1 });
  // Exactly one archive download (the first call), never REST.
  assertEquals(replica.requests.filter((r) => r.route === "archive").length, 1);
  assertEquals(replica.requests.filter((r) => r.path.startsWith("/api/")).length, 0);
  const text = lines.join("\n");
  assertStringIncludes(text, "first call: 3600 rows; cache hits +0, misses +1, writes +1");
  assertStringIncludes(text, "second call: 3600 rows; cache hits +1, misses +0, writes +0");
  assertStringIncludes(text, "2026-08-29T09:00:00.000Z");
  // Its temporary cache dir is gone.
  assertEquals(exampleTempDirs(), before);
});

Deno.test("the script runs both examples against an in-process replica (--replica)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--import-map=offline/import_map.json",
      "examples/data_retrieval_best_practices.ts",
      "--replica",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertStringIncludes(stdout, "== Recent data: BTCUSDT 1m, last 48 hours (AUTO)");
  assertStringIncludes(stdout, "== Historical data: BTCUSDT 1s, one hour 90 days ago (VISION)");
  assertStringIncludes(stdout, "second call: 3600 rows; cache hits +1");
});

Deno.test("runExamples: a failed example is logged and the next one still runs", async () => {
  // REST answers 400 (as Binance does for a bad request): the AUTO example cannot finish,
  // the VISION-only example after it does not need REST.
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: "/api/v3/klines", kind: "status", status: 400 }],
  });
  const lines: string[] = [];
  const outcomes = await runExamples({
    visionUrl: replica.visionUrl,
    restUrl: replica.restUrl,
    now: () => replica.now(),
    log: (line) => lines.push(line),
  });
  assertEquals(outcomes.map((o) => [o.name, o.error === undefined]), [
    ["recent data", false],
    ["historical data", true],
  ]);
  assertInstanceOf(outcomes[0].error, BinanceApiError);
  const text = lines.join("\n");
  assertStringIncludes(text, "error: the recent data example failed (BinanceApiError: ");
  assertStringIncludes(text, "going on with the next");
  assertStringIncludes(text, "second call: 3600 rows; cache hits +1, misses +0, writes +0");
  assertEquals(outcomes[1].result!.klines.length, 3600);
});

Deno.test("runExamples: a failure that is not a library error is logged with its stack, then the next runs", async () => {
  const lines: string[] = [];
  let ran = false;
  const outcomes = await runExamples({ log: (line) => lines.push(line) }, [
    ["broken", () => Promise.reject(new TypeError("boom"))],
    ["next", () => {
      ran = true;
      return Promise.reject(new RangeError("second"));
    }],
  ]);
  assert(ran);
  assertEquals(outcomes.map((o) => (o.error as Error).message), ["boom", "second"]);
  assertStringIncludes(lines.join("\n"), "error: the broken example failed (TypeError: boom");
  assertStringIncludes(lines.join("\n"), "error: the next example failed (RangeError: second");
});
