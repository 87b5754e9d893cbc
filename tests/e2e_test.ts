/**
 * The seed's end-to-end test, against the replica: a historical range forced through the
 * Vision archive, then proof that nothing is left behind — no temp dir, no open connection,
 * no pending op (the sanitizers), and the cache dir removable.
 */
import { assertEquals, assertGreater } from "@std/assert";
import { exists } from "@std/fs";
import { dirname } from "@std/path";
import { DataSource } from "../src/klines.ts";
import { DataSourceManager } from "../src/manager/mod.ts";
import { startReplica } from "../testing/mod.ts";
import { assertTruth, NOW, sourceCounts } from "./_manager_helpers.ts";

const H = 3_600_000;
const DAY_MS = 86_400_000;

/** The Vision client's temp dirs of this process (`vision-data-<pid>-*`). */
function ourTempDirs(): string[] {
  const probe = Deno.makeTempDirSync();
  Deno.removeSync(probe);
  return [...Deno.readDirSync(dirname(probe))].map((e) => e.name).filter((n) =>
    n.startsWith(`vision-data-${Deno.pid}-`)
  );
}

Deno.test("end to end: a historical hour through Vision, then everything cleaned up", async () => {
  await using replica = await startReplica({ now: NOW });
  const cacheDir = await Deno.makeTempDir({ prefix: "vision-data-e2e-" });
  const end = Math.floor((NOW - 90 * DAY_MS) / H) * H;
  const start = end - H;
  const q = { symbol: "BTCUSDT", interval: "1m" as const, start, end };
  try {
    await using manager = new DataSourceManager({
      marketType: "spot",
      cacheDir,
      useCache: true,
      visionUrl: replica.visionUrl,
      restUrl: replica.restUrl,
      now: () => replica.now(),
    });
    const k = await manager.getData({
      ...q,
      enforceSource: DataSource.VISION,
    });
    assertGreater(k.length, 0, "Failed to retrieve data using the Vision archive");
    assertTruth(replica, k, q);
    assertEquals(sourceCounts(k), { vision: 60 });
    assertEquals(k.gaps, []);
    assertEquals(manager.getCacheStats(), { hits: 0, misses: 1, errors: 0, writes: 1 });
  } catch (err) {
    await Deno.remove(cacheDir, { recursive: true });
    throw err;
  }
  // Disposal is done when `await using` returns: no waiting for background cleanup.
  // A small archive is held in memory: no temp dir was needed, and none is left.
  assertEquals(ourTempDirs(), []);
  assertEquals(replica.openConnections(), 0);
  assertEquals(replica.requests.filter((r) => r.route === "klines").length, 0);
  await Deno.remove(cacheDir, { recursive: true });
  assertEquals(await exists(cacheDir), false);
});
