// TCP sockets do not outlive dispose: every client owns its `Deno.HttpClient` (its keep-alive
// pool) and closes it on dispose, so the server sees every connection end. Counted by a TCP
// proxy in front of the replica (the replica's `openConnections()` counts requests in flight,
// which are over long before keep-alive sockets close).
import { assertEquals, assertGreater } from "@std/assert";
import { startReplica } from "../testing/mod.ts";
import { DataSourceManager } from "../src/manager/mod.ts";
import { RestDataClient } from "../src/rest/client.ts";
import { VisionDataClient } from "../src/vision/client.ts";

const NOW = "2024-03-06T12:00:00Z";

/** A TCP proxy to `port` that counts connections and resolves `idle` when none is open. */
function countingProxy(port: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let open = 0;
  let accepted = 0;
  let onIdle: (() => void) | undefined;
  const pipes: Promise<void>[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      open++;
      accepted++;
      pipes.push((async () => {
        const up = await Deno.connect({ hostname: "127.0.0.1", port });
        // Either side ending ends both: the client closing its socket is what we wait for.
        await Promise.race([
          conn.readable.pipeTo(up.writable).catch(() => {}),
          up.readable.pipeTo(conn.writable).catch(() => {}),
        ]);
        for (const c of [conn, up]) {
          try {
            c.close();
          } catch { /* already closed by its pipe */ }
        }
        if (--open === 0) onIdle?.();
      })());
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    get open() {
      return open;
    },
    get accepted() {
      return accepted;
    },
    idle: () => open === 0 ? Promise.resolve() : new Promise<void>((r) => onIdle = r),
    async [Symbol.asyncDispose]() {
      listener.close();
      await serving.catch(() => {});
      await Promise.all(pipes);
    },
  };
}

Deno.test("keep-alive sockets of the manager and both clients are closed by dispose", async () => {
  await using replica = await startReplica({ now: NOW });
  const port = Number(new URL(replica.restUrl).port);
  const q = { symbol: "BTCUSDT", interval: "1m" as const, start: "2024-03-05", end: "2024-03-06" };
  for (const kind of ["manager", "rest", "vision"] as const) {
    await using proxy = countingProxy(port);
    const now = () => Date.parse(NOW);
    if (kind === "manager") {
      const m = new DataSourceManager({
        marketType: "spot",
        visionUrl: proxy.url,
        restUrl: proxy.url,
        useCache: false,
        now,
      });
      await m.getData({ ...q, end: NOW }); // Vision for the day, REST for the morning after
      assertGreater(proxy.open, 0, "keep-alive sockets are open while the manager lives");
      await m[Symbol.asyncDispose]();
    } else {
      const c = kind === "rest"
        ? new RestDataClient({ marketType: "spot", baseUrl: proxy.url, now })
        : new VisionDataClient({ marketType: "spot", baseUrl: proxy.url, now, parseWorkers: 1 });
      await c.fetchKlines(q);
      assertGreater(proxy.open, 0, `keep-alive sockets are open while the ${kind} client lives`);
      await c[Symbol.asyncDispose]();
    }
    // Every socket ends: the owned HttpClient was closed (a leaked pool would keep them).
    await proxy.idle();
    assertEquals(proxy.open, 0, kind);
  }
});
