/**
 * Replica bench: how many requests/s the replica sustains for archive downloads (a year of 1m
 * data as 12 monthly zips and as 366 daily zips, cold = generated on first request, warm =
 * served from its in-memory cache) and for 1000-row REST pages. Baselines measured in the same
 * run: a trivial `Deno.serve` "hello" endpoint (req/s) and a `Deno.serve` endpoint returning a
 * static buffer of the month zip's size (MB/s). Figures are reported as ratios against them.
 * Run: `deno run -A --import-map=offline/import_map.json bench/replica_bench.ts`.
 *
 * @module
 */
import { startReplica } from "../testing/mod.ts";

/** Options for {@linkcode runReplicaBench}. */
export interface ReplicaBenchOptions {
  /** Concurrent requests. @default {8} */
  concurrency?: number;
  /** Requests per warm/baseline measurement. @default {400} */
  requests?: number;
  /** Print the figures. @default {true} */
  print?: boolean;
}

/** One measured scenario. */
export interface ReplicaBenchRow {
  /** What was measured. */
  name: string;
  /** Requests completed. */
  requests: number;
  /** Body bytes received. */
  bytes: number;
  /** Wall time, ms. */
  ms: number;
  /** Requests per second. */
  reqPerSec: number;
  /** Megabytes (1e6) per second. */
  mbPerSec: number;
  /** `reqPerSec / hello reqPerSec` (or MB/s against the static-bytes baseline for zips). */
  ratio: number;
  /** Which baseline `ratio` is against. */
  baseline: "hello req/s" | "static bytes MB/s" | "";
}

async function hammer(
  name: string,
  urls: readonly string[],
  total: number,
  concurrency: number,
): Promise<Omit<ReplicaBenchRow, "ratio" | "baseline">> {
  let next = 0;
  let bytes = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < total) {
      const url = urls[next++ % urls.length];
      const res = await fetch(url);
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
      bytes += body.byteLength;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const ms = performance.now() - t0;
  return {
    name,
    requests: total,
    bytes,
    ms,
    reqPerSec: total / (ms / 1000),
    mbPerSec: bytes / 1e6 / (ms / 1000),
  };
}

/**
 * Runs the bench and returns its rows (printing them unless `print: false`).
 *
 * @example
 * ```ts ignore
 * import { runReplicaBench } from "./replica_bench.ts";
 * const rows = await runReplicaBench({ requests: 100, print: false });
 * console.log(rows.map((r) => `${r.name}: ${r.ratio.toFixed(2)}`));
 * ```
 */
export async function runReplicaBench(
  options: ReplicaBenchOptions = {},
): Promise<ReplicaBenchRow[]> {
  const concurrency = options.concurrency ?? 8;
  const total = options.requests ?? 400;
  const rows: Omit<ReplicaBenchRow, "ratio" | "baseline">[] = [];
  await using replica = await startReplica({
    now: "2025-02-15T00:00:00Z",
    weightLimitPerMinute: { spot: 1e12, um: 1e12, cm: 1e12 },
  });
  const months = Array.from(
    { length: 12 },
    (_, m) =>
      `${replica.visionUrl}/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-${
        String(m + 1).padStart(2, "0")
      }.zip`,
  );
  const days: string[] = [];
  for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2025, 0, 1); t += 86_400_000) {
    const d = new Date(t).toISOString().slice(0, 10);
    days.push(`${replica.visionUrl}/data/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-${d}.zip`);
  }
  const umDays = days.map((u) => u.replace("/data/um/", "/data/futures/um/"));
  const size = (await (await fetch(months[0])).arrayBuffer()).byteLength;

  // Baselines: same process, same client, same concurrency.
  const static_ = new Uint8Array(size).fill(7);
  const ac = new AbortController();
  const base = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    (req) =>
      new URL(req.url).pathname === "/hello"
        ? new Response("hello")
        : new Response(static_, { headers: { "content-type": "application/zip" } }),
  );
  const origin = `http://127.0.0.1:${base.addr.port}`;
  try {
    const hello = await hammer(
      "baseline: Deno.serve hello",
      [`${origin}/hello`],
      total,
      concurrency,
    );
    const bytes = await hammer(
      `baseline: Deno.serve static ${(size / 1e6).toFixed(1)} MB`,
      [`${origin}/bytes`],
      Math.max(24, total / 8),
      concurrency,
    );
    rows.push(hello, bytes);
    rows.push(await hammer("month zips 1m, cold (generate)", months.slice(1), 11, concurrency));
    rows.push(
      await hammer("month zips 1m, cached", months, Math.max(24, total / 8), concurrency),
    );
    rows.push(await hammer("daily zips 1m (um), cold x366", umDays, umDays.length, concurrency));
    rows.push(
      await hammer("daily zips 1m (um), cached", umDays, Math.max(total, 366), concurrency),
    );
    const pages = Array.from(
      { length: 50 },
      (_, i) =>
        `${replica.restUrl}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000&startTime=${
          Date.UTC(2024, 0, 1) + i * 60_000_000
        }`,
    );
    rows.push(await hammer("REST 1000-row pages (spot)", pages, total, concurrency));
    const fpages = pages.map((u) => u.replace("/api/v3/", "/fapi/v1/"));
    rows.push(await hammer("REST 1000-row pages (um)", fpages, total, concurrency));
  } finally {
    await base.shutdown();
  }
  const [hello, bytes] = rows;
  const out: ReplicaBenchRow[] = rows.map((r, i) => {
    const zip = r.name.includes("zip");
    if (i < 2) return { ...r, ratio: 1, baseline: "" };
    return zip
      ? { ...r, ratio: r.mbPerSec / bytes.mbPerSec, baseline: "static bytes MB/s" }
      : { ...r, ratio: r.reqPerSec / hello.reqPerSec, baseline: "hello req/s" };
  });
  if (options.print ?? true) {
    console.log(
      `replica bench: concurrency ${concurrency}, month zip ${(size / 1e6).toFixed(2)} MB`,
    );
    for (const r of out) {
      console.log(
        `  ${r.name.padEnd(40)} ${r.reqPerSec.toFixed(0).padStart(7)} req/s ${
          r.mbPerSec.toFixed(1).padStart(8)
        } MB/s${r.baseline ? `  ${r.ratio.toFixed(3)} × ${r.baseline}` : ""}`,
      );
    }
  }
  return out;
}

if (import.meta.main) await runReplicaBench();
