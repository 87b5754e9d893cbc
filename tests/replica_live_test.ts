/**
 * The replica's WebSocket kline streams on their own: Binance's event shape (raw and combined),
 * values equal to REST's, fast-forward clock shared with REST, refused upgrades, bad streams.
 */
import { assert, assertEquals } from "@std/assert";
import { startReplica } from "../testing/mod.ts";

const NOW = "2024-03-01T00:00:00Z";

/** The first `n` messages of a socket, then closes it and waits for the close. */
async function firstMessages(url: string, n: number): Promise<unknown[]> {
  const ws = new WebSocket(url);
  const closed = new Promise((r) => ws.onclose = r);
  const got: unknown[] = [];
  await new Promise<void>((resolve) => {
    ws.onmessage = (e) => {
      got.push(JSON.parse(e.data));
      if (got.length === n) resolve();
    };
  });
  ws.close();
  await closed;
  return got;
}

Deno.test("replica live feed: Binance's kline event shape; closed candles equal REST", async () => {
  await using replica = await startReplica({ now: NOW, live: { fastForward: true } });
  const [raw] = await firstMessages(`${replica.live.url}/ws/btcusdt@kline_1m`, 1) as {
    e: string;
    E: number;
    s: string;
    k: Record<string, unknown>;
  }[];
  assertEquals(Object.keys(raw), ["e", "E", "s", "k"]);
  assertEquals(raw.e, "kline");
  assertEquals(raw.s, "BTCUSDT");
  assertEquals(
    Object.keys(raw.k),
    ["t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q", "V", "Q", "B"],
  );
  for (const f of ["o", "c", "h", "l", "v", "q", "V", "Q"]) assertEquals(typeof raw.k[f], "string");
  const streams = "btcusdt@kline_1m/ethusdt@kline_1m";
  const msgs = await firstMessages(`${replica.live.url}/stream?streams=${streams}`, 8) as {
    stream: string;
    data: { k: { t: number; x: boolean; c: string; v: string; n: number }; s: string };
  }[];
  const names = new Set(msgs.map((m) => m.stream));
  assertEquals([...names].sort(), ["btcusdt@kline_1m", "ethusdt@kline_1m"]);
  const closed = msgs.find((m) => m.data.k.x)!;
  assert(closed, "a candle closed within 8 messages");
  // The feed moved the clock REST sees: the candle is closed for REST too, with the same values.
  const t = closed.data.k.t;
  const res = await fetch(
    `${replica.restUrl}/api/v3/klines?symbol=${closed.data.s}&interval=1m&startTime=${t}&limit=1`,
  );
  const [row] = await res.json();
  assertEquals([row[0], row[4], row[5], row[8]], [
    t,
    closed.data.k.c,
    closed.data.k.v,
    closed.data.k.n,
  ]);
  assert(replica.now() >= t + 60_000);
  await replica.live.whenIdle();
});

Deno.test("replica live feed: refused upgrades answer 503, unknown streams 400", async () => {
  await using replica = await startReplica({
    now: NOW,
    live: { faults: [{ kind: "refuse", times: 1 }] },
  });
  const refused = await fetch(`${replica.live.url.replace("ws", "http")}/ws/btcusdt@kline_1m`);
  assertEquals(refused.status, 503);
  await refused.body?.cancel();
  const unknown = await fetch(`${replica.live.url.replace("ws", "http")}/ws/nosuch@kline_1m`);
  assertEquals(unknown.status, 400);
  await unknown.body?.cancel();
  assertEquals(replica.live.attempts, 2);
});
