/**
 * Every replica fault against VisionDataClient: the outcome is the correct result (after
 * retries) or the right typed error — never a hang — and afterwards no temp file and no
 * open resource remain (sanitizers on).
 */
import { assert, assertEquals, assertInstanceOf, assertStringIncludes } from "@std/assert";
import { existsSync } from "@std/fs";
import { createHash } from "node:crypto";
import { createZip, type FaultRule, type Replica, startReplica } from "../testing/mod.ts";
import { VisionDataClient, type VisionDataClientOptions } from "../src/vision/client.ts";
import { findGaps, type Klines } from "../src/klines.ts";
import { toEpochMs } from "../src/time.ts";
import {
  ArchiveError,
  ChecksumMismatchError,
  HttpStatusError,
  NetworkError,
  RequestTimeoutError,
} from "../src/errors.ts";
import { assertColumnsEqual } from "./_helpers.ts";

const NOW = "2024-04-10T00:00:00Z";
// Two daily archives (1h): 2024-03-04 and 2024-03-05.
const RANGE = { start: toEpochMs("2024-03-04"), end: toEpochMs("2024-03-06") };
const QUERY = { symbol: "BTCUSDT", interval: "1h" as const, ...RANGE };
const DAY2_ZIP = "*/BTCUSDT-1h-2024-03-05.zip";

interface Outcome {
  result?: Klines;
  error?: unknown;
  replica: Replica;
  tempDirDuring?: string;
}

/** A spot client on `replica`'s clock: short stall timeouts, 3 attempts, fast retries. */
function clientFor(
  replica: Replica,
  options: Partial<VisionDataClientOptions> = {},
): VisionDataClient {
  return new VisionDataClient({
    marketType: "spot",
    baseUrl: replica.visionUrl,
    now: () => replica.now(),
    parseWorkers: 1,
    headersTimeoutMs: 100,
    idleTimeoutMs: 100,
    maxAttempts: 3,
    retryMinTimeoutMs: 1,
    retryMaxTimeoutMs: 5,
    ...options,
  });
}

/**
 * Runs one fetch with `faults` on a fresh replica and client, disposes both, and checks
 * the client left no temp dir behind.
 */
async function run(
  faults: FaultRule[],
  options: Partial<VisionDataClientOptions> = {},
  check: (o: Outcome) => void | Promise<void>,
): Promise<void> {
  await using replica = await startReplica({ now: NOW, faults });
  const client = clientFor(replica, { concurrency: 2, ...options });
  const outcome: Outcome = { replica };
  try {
    outcome.result = await client.fetchKlines(QUERY);
  } catch (error) {
    outcome.error = error;
  }
  outcome.tempDirDuring = client.resources.tempDir;
  if (outcome.tempDirDuring && outcome.result) {
    // Each archive's temp file is removed right after it is parsed.
    assertEquals([...Deno.readDirSync(outcome.tempDirDuring)], []);
  }
  await client[Symbol.asyncDispose]();
  if (outcome.tempDirDuring) assert(!existsSync(outcome.tempDirDuring), "temp dir removed");
  assertEquals(client.resources, {
    httpClient: false,
    openResponses: undefined,
    parsePool: false,
    tempDir: undefined,
  });
  await check(outcome);
}

function assertTruth(o: Outcome, range = RANGE): void {
  if (o.error) throw o.error;
  const k = o.result!;
  const truth = o.replica.klines({ marketType: "spot", ...QUERY, ...range });
  assertColumnsEqual(k, truth);
  assertEquals(k.gaps, findGaps(truth.openTime, "1h", RANGE));
}

// By path: the replica logs a request it stalls before routing as route "other".
const zipRequests = (r: Replica, day = "2024-03-05") =>
  r.requests.filter((e) => e.path.endsWith(`${day}.zip`));
const checksumRequests = (r: Replica, day = "2024-03-05") =>
  r.requests.filter((e) => e.path.endsWith(`${day}.zip.CHECKSUM`));

Deno.test("stalled headers: retried once → correct; always → RequestTimeoutError(headers)", async () => {
  await run([{ match: DAY2_ZIP, kind: "stallHeaders", times: 1 }], {}, (o) => {
    assertTruth(o);
    assertEquals(zipRequests(o.replica).length, 2);
    assert(zipRequests(o.replica)[0].aborted);
  });
  await run([{ match: DAY2_ZIP, kind: "stallHeaders" }], {}, (o) => {
    assertInstanceOf(o.error, RequestTimeoutError);
    assertEquals(o.error.phase, "headers");
    assertStringIncludes(o.error.url, "2024-03-05.zip");
    assertEquals(zipRequests(o.replica).length, 3); // maxAttempts
  });
});

Deno.test("stalled body: retried → correct; always → RequestTimeoutError(body)", async () => {
  await run([{ match: DAY2_ZIP, kind: "stallBody", afterBytes: 100, times: 2 }], {}, (o) => {
    assertTruth(o);
    assertEquals(zipRequests(o.replica).length, 3);
  });
  await run([{ match: DAY2_ZIP, kind: "stallBody", afterBytes: 100 }], {}, (o) => {
    assertInstanceOf(o.error, RequestTimeoutError);
    assertEquals(o.error.phase, "body");
  });
});

Deno.test("connection reset mid-body: retried → correct; always → NetworkError", async () => {
  await run([{ match: DAY2_ZIP, kind: "reset", afterBytes: 200, times: 1 }], {}, (o) => {
    assertTruth(o);
  });
  await run([{ match: DAY2_ZIP, kind: "reset", afterBytes: 200 }], {}, (o) => {
    assertInstanceOf(o.error, NetworkError);
    assertEquals(o.error.phase, "body");
  });
});

Deno.test("truncated or corrupted zip: checksum catches it, re-download → correct; always → ChecksumMismatchError", async () => {
  for (const kind of ["truncate", "corrupt"] as const) {
    await run([{ match: DAY2_ZIP, kind, times: 2 }], {}, (o) => {
      assertTruth(o);
      assertEquals(zipRequests(o.replica).length, 3);
      // The checksum is fetched again with every attempt.
      assertEquals(checksumRequests(o.replica).length, 3);
    });
    await run([{ match: DAY2_ZIP, kind }], {}, (o) => {
      assertInstanceOf(o.error, ChecksumMismatchError);
      assertStringIncludes(o.error.url, "BTCUSDT-1h-2024-03-05.zip");
      assert(o.error.expected !== o.error.actual);
    });
  }
});

Deno.test("bad .CHECKSUM: re-fetched with the retry → correct; always → ChecksumMismatchError", async () => {
  await run([{ match: DAY2_ZIP, kind: "badChecksum", times: 1 }], {}, (o) => {
    assertTruth(o);
    assertEquals(checksumRequests(o.replica).length, 2);
  });
  await run([{ match: DAY2_ZIP, kind: "badChecksum" }], {}, (o) => {
    assertInstanceOf(o.error, ChecksumMismatchError);
  });
});

Deno.test("5xx burst: retried → correct; persistent 500 → HttpStatusError(500)", async () => {
  await run([{ match: "*2024-03-05.zip*", kind: "status", status: 503, times: 3 }], {
    maxAttempts: 4,
  }, (o) => {
    assertTruth(o);
  });
  await run([{ match: DAY2_ZIP, kind: "status", status: 500 }], {}, (o) => {
    assertInstanceOf(o.error, HttpStatusError);
    assertEquals(o.error.status, 500);
    assertEquals(zipRequests(o.replica).length, 3);
  });
});

Deno.test("404 (zip or checksum) and 403 are absent files: exact gaps, not errors", async () => {
  const day2 = { start: toEpochMs("2024-03-05"), end: toEpochMs("2024-03-06") };
  for (
    const faults of [
      [{ match: DAY2_ZIP, kind: "status", status: 404 }],
      [{ match: DAY2_ZIP + ".CHECKSUM", kind: "status", status: 404 }],
      [{ match: "*2024-03-05.zip*", kind: "status", status: 403 }],
    ] as FaultRule[][]
  ) {
    await run(faults, {}, (o) => {
      if (o.error) throw o.error;
      const k = o.result!;
      const truth = o.replica.klines({
        marketType: "spot",
        ...QUERY,
        start: RANGE.start,
        end: day2.start,
      });
      assertEquals(k.length, 24);
      assertColumnsEqual(k, truth);
      assertEquals(k.gaps, [day2]);
      // Absent means absent: no retries.
      assertEquals(zipRequests(o.replica).length, 1);
    });
  }
});

Deno.test("a malformed CSV row → ArchiveError naming the file and line", async () => {
  // The replica only mounts valid CSVs: serve a crafted archive from a tiny server instead.
  const name = "BTCUSDT-1h-2024-03-04";
  const zip = createZip(
    `${name}.csv`,
    new TextEncoder().encode(
      "1709510400000,1,2,0.5,1.5,10,1709513999999,15,3,5,7.5,0\n" +
        "1709514000000,1,2,0.5,oops,10,1709517599999,15,3,5,7.5,0\n",
    ),
  );
  const hash = createHash("sha256").update(zip).digest("hex");
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path.endsWith(`${name}.zip`)) return new Response(zip.slice());
    if (path.endsWith(`${name}.zip.CHECKSUM`)) return new Response(`${hash}  ${name}.zip\n`);
    return new Response("missing", { status: 404 });
  });
  await using client = new VisionDataClient({
    marketType: "spot",
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    now: () => toEpochMs(NOW),
    parseWorkers: 1,
  });
  const err = await client.fetchKlines(QUERY).catch((e) => e);
  assertInstanceOf(err, ArchiveError);
  assertEquals(err.line, 2);
  assertStringIncludes(String(err.file), name);
});

Deno.test("randomized fault mix over many runs: correct result or a typed error, never a hang", async () => {
  const kinds: FaultRule["kind"][] = [
    "stallHeaders",
    "stallBody",
    "reset",
    "truncate",
    "corrupt",
    "badChecksum",
    "status",
  ];
  const typed = [
    RequestTimeoutError,
    NetworkError,
    ChecksumMismatchError,
    HttpStatusError,
    ArchiveError, // a .CHECKSUM cut short on every attempt
  ];
  let ok = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const faults = kinds.map((kind): FaultRule => ({
      match: "*.zip*",
      kind,
      probability: 0.05,
      afterBytes: 50,
    }));
    await using replica = await startReplica({ now: NOW, faults, seed });
    await using client = clientFor(replica);
    const range = { start: toEpochMs("2024-03-01"), end: toEpochMs("2024-03-11") };
    try {
      const k = await client.fetchKlines({ ...QUERY, ...range });
      const truth = replica.klines({ marketType: "spot", ...QUERY, ...range });
      assertEquals(k.openTime, truth.openTime);
      assertEquals(k.close, truth.close);
      ok++;
    } catch (err) {
      assert(typed.some((t) => err instanceof t), `untyped error: ${err}`);
    }
  }
  assert(ok >= 1);
});
