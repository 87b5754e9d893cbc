/**
 * Live bench: 50 symbols on one combined stream from the replica's fast-forwarded feed.
 * - latency from the replica handing a closed candle to its socket until the consumer of a
 *   `KlineStream` gets it (median, p99);
 * - CPU per 1000 frames received.
 * Baseline, same run, same feed: a plain `WebSocket` that receives the same frames and only
 * `JSON.parse`s them (the least any consumer does). The replica runs in-process (its sending
 * costs the same in both runs), so the CPU ratio shows what the stream adds.
 * Run: `deno run -A --import-map=offline/import_map.json bench/live_bench.ts`.
 *
 * @module
 */
import process from "node:process";
import { KlineStream } from "../mod.ts";
import { type LiveSendEvent, startReplica } from "../testing/mod.ts";

/** Options for {@linkcode runLiveBench}. */
export interface LiveBenchOptions {
  /** Symbols on the stream. @default {50} */
  symbols?: number;
  /** Closed candles per symbol per run. @default {100} */
  candles?: number;
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** One run's figures. */
export interface LiveRunFigures {
  /** Median close → consumer latency, ms. */
  medianMs: number;
  /** 99th percentile, ms. */
  p99Ms: number;
  /** Frames received. */
  frames: number;
  /** Process CPU (user + system) per 1000 frames, ms. */
  cpuPer1000Ms: number;
}

/** The bench's result. */
export interface LiveBenchResult {
  /** Symbols on the combined stream. */
  symbols: number;
  /** The KlineStream. */
  stream: LiveRunFigures;
  /** The plain WebSocket + JSON.parse baseline. */
  raw: LiveRunFigures;
}

const NOW = "2024-03-01T00:00:00Z";

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function oneRun(
  kind: "stream" | "raw",
  nSymbols: number,
  candles: number,
): Promise<LiveRunFigures> {
  const sent = new Map<string, number>();
  const symbols = Array.from({ length: nSymbols }, (_, i) => `S${i}USDT`);
  await using replica = await startReplica({
    now: NOW,
    symbols: symbols.map((symbol) => ({
      symbol,
      marketType: "spot",
      listedAt: "2020-01-01T00:00:00Z",
      price: 100,
    })),
    live: {
      fastForward: true,
      updatesPerCandle: 4,
      onSend: (e: LiveSendEvent) => {
        if (e.closed) sent.set(`${e.symbol}|${e.openTime}`, e.sentAt);
      },
    },
  });
  const latencies: number[] = [];
  const want = nSymbols * candles;
  let frames = 0;
  const cpu0 = cpuMs();
  if (kind === "stream") {
    await using stream = new KlineStream({
      marketType: "spot",
      symbols,
      interval: "1m",
      wsUrl: replica.live.url,
      restUrl: replica.restUrl,
    });
    for await (const u of stream) {
      const at = sent.get(`${u.symbol}|${u.openTime}`);
      if (u.source === "socket" && at !== undefined) latencies.push(performance.now() - at);
      if (latencies.length >= want) break;
    }
    frames = stream.stats.frames;
  } else {
    const names = symbols.map((s) => `${s.toLowerCase()}@kline_1m`).join("/");
    const ws = new WebSocket(`${replica.live.url}/stream?streams=${names}`);
    const closed = new Promise((r) => ws.onclose = r);
    await new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        frames++;
        const { data } = JSON.parse(e.data);
        if (!data.k.x) return;
        const at = sent.get(`${data.s}|${data.k.t}`);
        if (at !== undefined) latencies.push(performance.now() - at);
        if (latencies.length >= want) resolve();
      };
    });
    ws.close();
    await closed;
  }
  const cpu = cpuMs() - cpu0;
  latencies.sort((a, b) => a - b);
  return {
    medianMs: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    frames,
    cpuPer1000Ms: (cpu / frames) * 1000,
  };
}

/**
 * Runs the bench: the raw baseline, then the stream, on fresh replicas.
 *
 * @example
 * ```ts ignore
 * const r = await runLiveBench({ candles: 50 });
 * console.log(r.stream.medianMs, r.raw.medianMs);
 * ```
 */
export async function runLiveBench(options: LiveBenchOptions = {}): Promise<LiveBenchResult> {
  const n = options.symbols ?? 50;
  const candles = options.candles ?? 100;
  await oneRun("raw", n, 10); // warm-up (JIT, sockets)
  const raw = await oneRun("raw", n, candles);
  const stream = await oneRun("stream", n, candles);
  const result = { symbols: n, stream, raw };
  if (options.print ?? true) {
    const f = (x: number) => x.toFixed(2);
    for (const [name, r] of [["KlineStream", stream], ["raw WebSocket", raw]] as const) {
      console.log(
        `${name}: close → consumer median ${f(r.medianMs)} ms, p99 ${f(r.p99Ms)} ms; ` +
          `CPU ${f(r.cpuPer1000Ms)} ms / 1000 frames (${r.frames} frames)`,
      );
    }
  }
  return result;
}

if (import.meta.main) await runLiveBench();
