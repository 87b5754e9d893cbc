// Replica archive generation off the request path: big archives are built in a worker, other
// requests answer meanwhile, disposal stops a generation, and the bytes equal the in-process
// recipe's.
import { assert, assertEquals } from "@std/assert";
import { createHash } from "node:crypto";
import { startReplica } from "../testing/mod.ts";

const NOW = Date.UTC(2024, 2, 5, 5, 0); // 2024-03-05T05:00Z
const MONTH_1S = "/data/spot/monthly/klines/BTCUSDT/1s/BTCUSDT-1s-2024-01.zip";

Deno.test("a 1s month is generated off the request path: REST, listing and other archives answer meanwhile; dispose stops it", async () => {
  const replica = await startReplica({ now: NOW });
  try {
    const big = fetch(replica.visionUrl + MONTH_1S).then(
      async (res) => {
        await res.body?.cancel();
        return res.status;
      },
      (e: unknown) => e,
    );
    await replica.waitFor((e) => e.path === MONTH_1S);
    assertEquals(replica.cacheStats().generating, 1);
    const rest = await fetch(
      `${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${
        Date.UTC(2024, 0, 1)
      }&limit=3`,
    );
    assertEquals(rest.status, 200);
    assertEquals((await rest.json()).length, 3);
    const health = await fetch(`${replica.origin}/`);
    assertEquals(health.status, 200);
    assert((await health.text()).includes("<ListBucketResult"));
    const day = await fetch(
      `${replica.visionUrl}/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01-02.zip`,
    );
    assertEquals(day.status, 200);
    assertEquals(new Uint8Array(await day.arrayBuffer())[0], 0x50);
    // Another big archive (a 1m month, also worker-built) does not queue behind the 1s month.
    const month = await fetch(
      `${replica.visionUrl}/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip`,
    );
    assertEquals(month.status, 200);
    assertEquals(new Uint8Array(await month.arrayBuffer())[0], 0x50);
    // Everything above answered while the 1s month was still being generated.
    assertEquals(replica.cacheStats().generating, 1);
    const entry = replica.requests.find((e) => e.path === MONTH_1S)!;
    assertEquals(entry.state, "waiting");
    await replica.close();
    const outcome = await big;
    assertEquals(replica.cacheStats().generating, 0);
    assert(outcome !== 200, `the cut generation must not answer 200, got ${outcome}`);
  } finally {
    await replica.close();
  }
});

Deno.test("worker-built archives equal the in-process bytes; concurrent requests share one build", async () => {
  await using replica = await startReplica({ now: NOW });
  const path = "/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip"; // 44 640 rows
  const get = async (p: string) =>
    new Uint8Array(await (await fetch(replica.visionUrl + p)).arrayBuffer());
  const both = Promise.all([get(path), get(path)]);
  await replica.waitFor((e) => e.path === path);
  assertEquals(replica.cacheStats().generating, 1);
  const [a, b] = await both;
  assertEquals(replica.cacheStats().generating, 0);
  assertEquals(a, b);
  // archiveBytes() builds in process (its cache now holds the worker's build: clear that first
  // by asking a fresh replica with the same dataset).
  await using twin = await startReplica({ now: NOW });
  const local = twin.archiveBytes(path)!;
  assertEquals(a, local);
  const sum = new TextDecoder().decode(await get(path + ".CHECKSUM"));
  assertEquals(
    sum,
    `${createHash("sha256").update(local).digest("hex")}  BTCUSDT-1m-2024-01.zip\n`,
  );
});

Deno.test("the biggest archives are built in a child process, with the same bytes", async () => {
  // A 1s month is built out of process by its size; listed in its last hour, it holds 3 600
  // rows, so the build is quick.
  const symbols = [{
    symbol: "NEWUSDT",
    marketType: "spot" as const,
    listedAt: "2024-01-31T23:00:00Z",
  }];
  await using replica = await startReplica({ now: NOW, symbols });
  const path = "/data/spot/monthly/klines/NEWUSDT/1s/NEWUSDT-1s-2024-01.zip";
  const res = fetch(replica.visionUrl + path);
  await replica.waitFor((e) => e.path === path);
  assertEquals(replica.cacheStats().generating, 1);
  const zip = new Uint8Array(await (await res).arrayBuffer());
  assertEquals(replica.cacheStats().generating, 0);
  await using twin = await startReplica({ now: NOW, symbols });
  assertEquals(zip, twin.archiveBytes(path)!);
  assertEquals(
    twin.csvFor({ marketType: "spot", symbol: "NEWUSDT", interval: "1s", period: "2024-01" })!
      .filter((b) => b === 0x0a).length,
    3600,
  );
  const sum = await fetch(replica.visionUrl + path + ".CHECKSUM");
  assertEquals(
    await sum.text(),
    `${createHash("sha256").update(zip).digest("hex")}  NEWUSDT-1s-2024-01.zip\n`,
  );
});
