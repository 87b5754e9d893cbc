/**
 * KlineStream against the replica's WebSocket feed in fast-forward: exact closed sequences
 * across forced disconnects (drop, stall, serverShutdown, malformed frame), open updates,
 * backpressure, and disposal while connecting, in backoff and mid-repair.
 */
import { assert, assertEquals, assertGreater } from "@std/assert";
import { KLINE_COLUMNS } from "../src/columns.ts";
import { KlineStream, type KlineStreamStatus, type KlineUpdate } from "../mod.ts";
import { startReplica } from "../testing/mod.ts";

const NOW = "2024-03-01T00:00:00Z";
const MIN = 60_000;

/** Resolves with the first status `test` accepts (a status listener for `onStatus`). */
function statusWatch(): {
  onStatus: (s: KlineStreamStatus) => void;
  seen: KlineStreamStatus[];
  when: (test: (s: KlineStreamStatus) => boolean) => Promise<KlineStreamStatus>;
} {
  const seen: KlineStreamStatus[] = [];
  const waiters: {
    test: (s: KlineStreamStatus) => boolean;
    resolve: (s: KlineStreamStatus) => void;
  }[] = [];
  return {
    seen,
    onStatus: (s) => {
      seen.push(s);
      for (const w of [...waiters]) {
        if (w.test(s)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(s);
        }
      }
    },
    when: (test) => {
      const found = seen.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

/** The replica's truth as updates, for comparison. */
function truthUpdates(
  replica: Awaited<ReturnType<typeof startReplica>>,
  symbol: string,
  start: number,
  n: number,
): Record<string, number>[] {
  const c = replica.klines({
    marketType: "spot",
    symbol,
    interval: "1m",
    start,
    end: start + n * MIN,
  });
  const rows: Record<string, number>[] = [];
  for (let i = 0; i < c.openTime.length; i++) {
    const r: Record<string, number> = {};
    for (const k of KLINE_COLUMNS) r[k] = c[k][i];
    rows.push(r);
  }
  return rows;
}

function columnsOf(u: KlineUpdate): Record<string, number> {
  const r: Record<string, number> = {};
  for (const k of KLINE_COLUMNS) r[k] = u[k];
  return r;
}

Deno.test("3 forced disconnects over 200 candles: the closed sequence equals the truth", async () => {
  await using replica = await startReplica({
    now: NOW,
    live: {
      fastForward: true,
      faults: [
        { kind: "drop", afterMessages: 80 },
        { kind: "stall", afterMessages: 80 },
        { kind: "shutdown", afterMessages: 80 },
        { kind: "malformed", afterMessages: 20 },
      ],
    },
  });
  const status = statusWatch();
  const symbols = ["BTCUSDT", "ETHUSDT"];
  await using stream = new KlineStream({
    marketType: "spot",
    symbols,
    interval: "1m",
    wsUrl: replica.live.url,
    restUrl: replica.restUrl,
    silenceTimeoutMs: 300,
    reconnectMinMs: 5,
    reconnectMaxMs: 50,
    onStatus: status.onStatus,
  });
  const got = new Map<string, KlineUpdate[]>(symbols.map((s) => [s, []]));
  for await (const u of stream) {
    assert(u.closed, "closedOnly yields closed candles only");
    got.get(u.symbol)!.push(u);
    if ([...got.values()].every((l) => l.length >= 200)) break;
  }
  assertEquals(stream.state, "closed", "break disposed the stream");
  for (const s of symbols) {
    const list = got.get(s)!.slice(0, 200);
    const truth = truthUpdates(replica, s, list[0].openTime, 200);
    assertEquals(truth.length, 200);
    assertEquals(
      list.map(columnsOf),
      truth,
      `${s}: the closed sequence equals the replica's truth`,
    );
  }
  const st = stream.stats;
  const reasons = status.seen.filter((x) => x.state === "backoff").map((x) => x.reason ?? "");
  assert(reasons.some((r) => r.includes("closed by the server")), reasons.join("; "));
  assert(reasons.some((r) => r.startsWith("silent")), reasons.join("; "));
  assert(reasons.some((r) => r.includes("serverShutdown")), reasons.join("; "));
  assertGreater(st.reconnects, 2);
  assertGreater(st.repaired, 0, "missed candles came from REST");
  assertEquals(st.malformed, 1);
  assert(got.get("BTCUSDT")!.some((u) => u.source === "rest"));
  await replica.live.whenIdle();
  assertEquals(replica.live.connections(), 0, "the server saw every socket closed");
});
