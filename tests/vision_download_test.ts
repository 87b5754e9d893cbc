/**
 * One archive download (`_download.ts`) by both of its paths: small archives are held in
 * memory and handed to the parser, larger ones (above `inMemoryMaxBytes`) stream through a
 * temp file. Same columns either way, verified against the checksum either way, and no
 * temp file left behind.
 */
import { assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import { startReplica } from "../testing/mod.ts";
import { ChecksumMismatchError } from "../src/errors.ts";
import { HttpSession } from "../src/http/session.ts";
import type { KlineColumns } from "../src/klines.ts";
import { toEpochMs } from "../src/time.ts";
import {
  downloadArchive,
  type DownloadContext,
  IN_MEMORY_MAX_BYTES,
} from "../src/vision/_download.ts";
import { ParsePool } from "../src/vision/parse_pool.ts";
import { assertColumnsEqual } from "./_helpers.ts";

const NOW = "2024-04-10T00:00:00Z";
const FILE = "BTCUSDT-1m-2024-03-05.zip";
const DAY = { start: toEpochMs("2024-03-05"), end: toEpochMs("2024-03-06") };

interface Probe {
  ctx: DownloadContext;
  calls: { file: number; bytes: number };
  tempDir: string;
}

function probe(session: HttpSession, pool: ParsePool, tempDir: string, max: number): Probe {
  const calls = { file: 0, bytes: 0 };
  const ctx: DownloadContext = {
    session,
    tempDir: () => tempDir,
    parse: (path, file, signal): Promise<KlineColumns> => {
      calls.file++;
      return pool.parseZipFile(path, { file, signal });
    },
    parseBytes: (zip, file, signal): Promise<KlineColumns> => {
      calls.bytes++;
      return pool.parseZipBytes(zip, { file, signal, transfer: true });
    },
    inMemoryMaxBytes: max,
    maxAttempts: 2,
    retryMinTimeoutMs: 1,
    retryMaxTimeoutMs: 5,
  };
  return { ctx, calls, tempDir };
}

Deno.test("in memory and through a temp file: the same verified columns, no file left", async () => {
  await using replica = await startReplica({ now: NOW });
  const url = `${replica.visionUrl}/data/spot/daily/klines/BTCUSDT/1m/${FILE}`;
  const truth = replica.klines({ marketType: "spot", symbol: "BTCUSDT", interval: "1m", ...DAY });
  const tempDir = await Deno.makeTempDir({ prefix: "vision_download_test_" });
  const session = new HttpSession({ headersTimeoutMs: 5000, idleTimeoutMs: 5000 });
  await using pool = new ParsePool({ workers: 1 });
  try {
    const signal = new AbortController().signal;
    const size = (await (await fetch(url)).arrayBuffer()).byteLength;
    // Just at the threshold: in memory; one byte under it: a temp file.
    for (const [max, path] of [[size, "bytes"], [size - 1, "file"], [0, "file"]] as const) {
      const p = probe(session, pool, tempDir, max);
      const out = await downloadArchive(p.ctx, url, FILE, signal);
      assertEquals(out.status, "ok");
      if (out.status !== "ok") continue;
      assertEquals(out.bytes, size);
      assertColumnsEqual(out.columns, truth);
      assertEquals(p.calls, path === "bytes" ? { file: 0, bytes: 1 } : { file: 1, bytes: 0 });
      assertEquals([...Deno.readDirSync(tempDir)], [], "temp file removed after parsing");
    }
    assertEquals(session.openResponses, 0);
  } finally {
    await session.close();
    await Deno.remove(tempDir, { recursive: true });
  }
});

Deno.test("a corrupt body is caught by the checksum on both paths (and retried)", async () => {
  await using replica = await startReplica({
    now: NOW,
    faults: [{ match: `*/${FILE}`, kind: "corrupt" }],
  });
  const url = `${replica.visionUrl}/data/spot/daily/klines/BTCUSDT/1m/${FILE}`;
  const tempDir = await Deno.makeTempDir({ prefix: "vision_download_test_" });
  const session = new HttpSession({ headersTimeoutMs: 5000, idleTimeoutMs: 5000 });
  await using pool = new ParsePool({ workers: 1 });
  try {
    for (const max of [IN_MEMORY_MAX_BYTES, 0]) {
      const p = probe(session, pool, tempDir, max);
      const err = await assertRejects(() =>
        downloadArchive(p.ctx, url, FILE, new AbortController().signal)
      );
      assertInstanceOf(err, ChecksumMismatchError);
      assertEquals(p.calls, { file: 0, bytes: 0 }, "nothing unverified is parsed");
      assertEquals([...Deno.readDirSync(tempDir)], []);
    }
    const zips = replica.requests.filter((e) => e.path.endsWith(FILE));
    assertEquals(zips.length, 4); // 2 attempts × 2 paths
  } finally {
    await session.close();
    await Deno.remove(tempDir, { recursive: true });
  }
});
