/**
 * The live stream's parts on their own: frame decoding, the sequencer's gaps, duplicates and
 * REST/socket disagreements, the queue's backpressure policy, backoff, option validation, and
 * that Deno's WebSocket client answers a server's ping frames by itself.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { decodeFrame } from "../src/live/_decode.ts";
import { UpdateQueue } from "../src/live/_queue.ts";
import { backoffMs } from "../src/live/_reconnect.ts";
import { Sequencer } from "../src/live/_sequencer.ts";
import {
  InvalidOptionError,
  InvalidSymbolError,
  KlineStream,
  type KlineUpdate,
  UnsupportedIntervalError,
} from "../mod.ts";

const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 1);

function candle(symbol: string, i: number, closed = true, close = 100 + i): KlineUpdate {
  return {
    symbol,
    openTime: T0 + i * MIN,
    open: 100,
    high: 110,
    low: 90,
    close,
    volume: 1,
    closeTime: T0 + (i + 1) * MIN - 1,
    quoteVolume: 100,
    trades: 3,
    takerBuyBaseVolume: 0.5,
    takerBuyQuoteVolume: 50,
    closed,
    source: "socket",
  };
}

Deno.test("decodeFrame: raw and combined kline events, serverShutdown, malformed frames", () => {
  const event = {
    e: "kline",
    E: 1709251260001,
    s: "BTCUSDT",
    k: {
      t: 1709251200000,
      T: 1709251259999,
      s: "BTCUSDT",
      i: "1m",
      f: 1,
      L: 3,
      o: "61000.10",
      c: "61010.00",
      h: "61020.5",
      l: "60990",
      v: "12.5",
      n: 3,
      x: true,
      q: "762000.5",
      V: "6",
      Q: "366000",
      B: "0",
    },
  };
  const raw = decodeFrame(JSON.stringify(event));
  const combined = decodeFrame(JSON.stringify({ stream: "btcusdt@kline_1m", data: event }));
  assertEquals(raw, combined);
  assert(raw.kind === "kline");
  assertEquals(raw.interval, "1m");
  assertEquals(raw.update, {
    symbol: "BTCUSDT",
    openTime: 1709251200000,
    open: 61000.1,
    high: 61020.5,
    low: 60990,
    close: 61010,
    volume: 12.5,
    closeTime: 1709251259999,
    quoteVolume: 762000.5,
    trades: 3,
    takerBuyBaseVolume: 6,
    takerBuyQuoteVolume: 366000,
    closed: true,
    source: "socket",
    eventTime: 1709251260001,
  });
  // µs times are normalised like everywhere in the library.
  const us = decodeFrame(JSON.stringify({
    ...event,
    k: { ...event.k, t: event.k.t * 1000, T: event.k.T * 1000 + 999 },
  }));
  assert(
    us.kind === "kline" && us.update.openTime === event.k.t && us.update.closeTime === event.k.T,
  );
  assertEquals(decodeFrame('{"event":{"e":"serverShutdown","E":1}}').kind, "shutdown");
  assertEquals(decodeFrame('{"result":null,"id":1}').kind, "other");
  for (
    const bad of [
      '{"e":"kline","k":{"t":',
      "[1,2]",
      JSON.stringify({ ...event, k: { ...event.k, o: "12abc" } }),
      JSON.stringify({ ...event, k: { ...event.k, n: -1 } }),
      JSON.stringify({ ...event, k: { ...event.k, x: "true" } }),
      "x".repeat(70_000),
    ]
  ) assertEquals(decodeFrame(bad).kind, "malformed", bad.slice(0, 40));
  assertEquals(decodeFrame(new Uint8Array(2)).kind, "malformed");
});

Deno.test("Sequencer: gaps after the first update, duplicates, REST preferred on disagreement", () => {
  const seq = new Sequencer(MIN);
  const warned: [KlineUpdate, KlineUpdate][] = [];
  const onDisagree = (kept: KlineUpdate, other: KlineUpdate) => warned.push([kept, other]);
  assertEquals(seq.gapBefore(candle("A", 5, false)), null, "the first update starts the sequence");
  assert(seq.admitOpen(candle("A", 5, false)));
  assertEquals(seq.gapBefore(candle("A", 5)), null);
  assert(seq.admitClosed(candle("A", 5), onDisagree));
  assertEquals(seq.gapBefore(candle("A", 9)), { start: T0 + 6 * MIN, end: T0 + 9 * MIN });
  // Repair: REST's rows 6..9, then the socket's copy of 9 is a duplicate that disagrees.
  for (let i = 6; i <= 9; i++) {
    assert(seq.admitClosed({ ...candle("A", i), source: "rest" }, onDisagree));
  }
  assertEquals(seq.admitClosed(candle("A", 9, true, 1), onDisagree), false);
  assertEquals(seq.admitClosed(candle("A", 8), onDisagree), false, "same values: no warning");
  assertEquals(seq.duplicates, 2);
  assertEquals(seq.disagreements, 1);
  assertEquals(warned.length, 1);
  assertEquals(warned[0][0].source, "rest", "the REST copy is the one kept");
  assertEquals(seq.admitOpen(candle("A", 9, false)), false, "an update older than the last close");
  assertEquals(seq.gapBefore(candle("B", 1)), null, "symbols are independent");
});

Deno.test("UpdateQueue: open updates coalesce and drop when full; closed candles never drop", () => {
  const q = new UpdateQueue(4);
  q.pushOpen(candle("A", 1, false));
  q.pushOpen(candle("A", 1, false, 7)); // replaces the queued update
  assertEquals(q.size, 1);
  assertEquals(q.dropped, 1);
  assertEquals(q.pushClosed(candle("A", 1)), false); // supersedes A's queued update
  assertEquals(q.size, 1);
  assertEquals(q.dropped, 2);
  q.pushOpen(candle("B", 1, false));
  q.pushClosed(candle("C", 1));
  assertEquals(q.pushClosed(candle("D", 1)), true, "full: the producer must pause");
  q.pushOpen(candle("E", 1, false)); // full: dropped
  assertEquals(q.dropped, 3);
  assertEquals(q.pushClosed(candle("F", 1)), true, "a closed candle is kept even when full");
  assertEquals([...Array(5)].map(() => q.shift()?.symbol), ["A", "B", "C", "D", "F"]);
  assertEquals(q.highWater, 5);
  assertEquals(q.shift(), undefined);
});

Deno.test("backoffMs: exponential, capped, half of it jittered", () => {
  const b = { minMs: 100, maxMs: 1000, random: () => 0 };
  assertEquals([0, 1, 2, 3, 4, 10].map((f) => backoffMs(f, b)), [50, 100, 200, 400, 500, 500]);
  assertEquals(backoffMs(1, { ...b, random: () => 0.999999 }), 200);
});

Deno.test("KlineStream validates its options with typed errors naming the option", () => {
  const base = { marketType: "spot", symbols: "BTCUSDT", interval: "1m" } as const;
  const cases: [Record<string, unknown>, string][] = [
    [{ symbols: [] }, "symbols"],
    [{ closedOnly: "yes" }, "closedOnly"],
    [{ wsUrl: "http://x" }, "wsUrl"],
    [{ restUrl: "ws://x" }, "restUrl"],
    [{ queueSize: 1 }, "queueSize"],
    [{ silenceTimeoutMs: 0 }, "silenceTimeoutMs"],
    [{ reconnectMinMs: -1 }, "reconnectMinMs"],
    [{ disposeTimeoutMs: Infinity }, "disposeTimeoutMs"],
    [{ onStatus: 3 }, "onStatus"],
  ];
  for (const [patch, option] of cases) {
    const e = assertThrows(
      () => new KlineStream({ ...base, ...patch } as never),
      InvalidOptionError,
      option,
    );
    assertEquals(e.option, option);
  }
  assertThrows(() => new KlineStream({ ...base, symbols: "btc-usdt" }), InvalidSymbolError);
  assertThrows(() => new KlineStream({ ...base, interval: "1M" }), UnsupportedIntervalError);
  assertThrows(
    () => new KlineStream({ ...base, marketType: "um", interval: "1s" }),
    UnsupportedIntervalError,
  );
});

Deno.test("KlineStream URLs: raw stream for one symbol, combined for several, lower case", async () => {
  await using one = new KlineStream({ marketType: "um", symbols: "btcusdt", interval: "5m" });
  assertEquals(one.url, "wss://fstream.binance.com/ws/btcusdt@kline_5m");
  await using two = new KlineStream({
    marketType: "spot",
    symbols: ["BTCUSDT", "ethusdt", "BTCUSDT"],
    interval: "1m",
    wsUrl: "ws://127.0.0.1:1/",
  });
  assertEquals(two.symbols, ["BTCUSDT", "ETHUSDT"]);
  assertEquals(two.url, "ws://127.0.0.1:1/stream?streams=btcusdt@kline_1m/ethusdt@kline_1m");
});

/** Reads exactly `n` bytes. */
async function readN(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const got = await conn.read(out.subarray(at));
    if (got === null) throw new Error("connection ended");
    at += got;
  }
  return out;
}

Deno.test("Deno's WebSocket client answers a ping frame with a pong carrying its payload", async () => {
  // A hand-written server, so that the ping frame and the pong are seen on the wire.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const ws = new WebSocket(`ws://127.0.0.1:${listener.addr.port}/ws/btcusdt@kline_1m`);
  const closed = new Promise((r) => ws.onclose = r);
  const opened = new Promise((r) => ws.onopen = r);
  using conn = await listener.accept();
  const buf = new Uint8Array(4096);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("no handshake");
    head += new TextDecoder().decode(buf.subarray(0, n));
  }
  const key = /sec-websocket-key:\s*(\S+)/i.exec(head)![1];
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
  );
  const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
  await conn.write(new TextEncoder().encode(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  ));
  await opened;
  const payload = new TextEncoder().encode("ping-42");
  await conn.write(new Uint8Array([0x89, payload.length, ...payload])); // FIN + ping
  const hdr = await readN(conn, 2);
  assertEquals(hdr[0], 0x8a, "FIN + pong");
  assertEquals(hdr[1] & 0x80, 0x80, "client frames are masked");
  const len = hdr[1] & 0x7f;
  const mask = await readN(conn, 4);
  const body = (await readN(conn, len)).map((b, i) => b ^ mask[i % 4]);
  assertEquals(new TextDecoder().decode(body), "ping-42");
  await conn.write(new Uint8Array([0x88, 2, 0x03, 0xe8])); // close 1000
  await closed;
});
