/**
 * Decoding of Binance market-stream frames: raw kline events, combined-stream wrappers
 * (`{"stream", "data"}`) and `serverShutdown` connection events, with every field checked.
 *
 * @module
 */
import { DECIMAL_PATTERN, MICROS_THRESHOLD } from "../_decimal.ts";
import type { KlineUpdate } from "./types.ts";

/** What one frame says. */
export type Frame =
  | { kind: "kline"; update: KlineUpdate; interval: string }
  | { kind: "shutdown" }
  | { kind: "other" }
  | { kind: "malformed"; reason: string };

/** Largest frame decoded; a kline event is ~400 bytes. */
export const MAX_FRAME_CHARS = 64 * 1024;

/** Decodes one text frame; never throws. */
export function decodeFrame(text: unknown): Frame {
  if (typeof text !== "string") return { kind: "malformed", reason: "binary frame" };
  if (text.length > MAX_FRAME_CHARS) {
    return { kind: "malformed", reason: `frame of ${text.length} chars` };
  }
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { kind: "malformed", reason: "not JSON" };
  }
  if (!isObject(msg)) return { kind: "malformed", reason: "not an object" };
  // Combined streams wrap each event; connection events come as {"event": {...}}.
  const ev = isObject(msg.data) ? msg.data : isObject(msg.event) ? msg.event : msg;
  if (ev.e === "serverShutdown") return { kind: "shutdown" };
  if (ev.e !== "kline") return { kind: "other" };
  const k = ev.k;
  if (!isObject(k)) return { kind: "malformed", reason: "kline event without k" };
  const symbol = k.s ?? ev.s;
  if (typeof symbol !== "string" || typeof k.i !== "string" || typeof k.x !== "boolean") {
    return { kind: "malformed", reason: "kline event without s, i or x" };
  }
  const t = time(k.t), T = time(k.T), n = k.n;
  const o = dec(k.o), h = dec(k.h), l = dec(k.l), c = dec(k.c), v = dec(k.v);
  const q = dec(k.q), bv = dec(k.V), bq = dec(k.Q);
  if (
    typeof n !== "number" || !Number.isSafeInteger(n) || n < 0 || Number.isNaN(t + T) ||
    Number.isNaN(o + h + l + c + v + q + bv + bq)
  ) {
    return { kind: "malformed", reason: `kline event with a bad field (${symbol})` };
  }
  return {
    kind: "kline",
    interval: k.i,
    update: {
      symbol: symbol.toUpperCase(),
      openTime: t,
      open: o,
      high: h,
      low: l,
      close: c,
      volume: v,
      closeTime: T,
      quoteVolume: q,
      trades: n,
      takerBuyBaseVolume: bv,
      takerBuyQuoteVolume: bq,
      closed: k.x,
      source: "socket",
      eventTime: typeof ev.E === "number" ? ev.E : undefined,
    },
  };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** A decimal string (Binance sends prices and volumes as strings) → number, else NaN. */
function dec(x: unknown): number {
  if (typeof x !== "string" || x.length > 40 || !DECIMAL_PATTERN.test(x)) return NaN;
  return Number(x);
}

/** Epoch ms (µs normalised by magnitude, as everywhere in the library), else NaN. */
function time(x: unknown): number {
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x < 0) return NaN;
  return x >= MICROS_THRESHOLD ? Math.floor(x / 1000) : x;
}
