/**
 * Bounded under hostile input: a REST body that never ends is cut at `maxPageBytes`, and
 * the peak RSS of the process stays flat — it grows by about the bound, not with the body.
 *
 * Each measurement runs in a fresh child process (`--child`), which reads `VmRSS` before
 * and `VmHWM` (peak resident set) after one `RestDataClient.fetchKlines`:
 * - baseline: one day of 1m klines (2 pages) from a healthy replica;
 * - endless: the same call against a replica whose klines bodies never end (no
 *   Content-Length), with the default bound and with a 1 MiB one.
 * Both replicas run in their own processes, so the client's RSS is its own.
 *
 * Run: `deno run -A --import-map=offline/import_map.json bench/limits_bench.ts`
 *
 * @module
 */
import { fromFileUrl } from "@std/path";
import { denoRunArgs, startReplicaProcess } from "./_replica_process.ts";
import { RestDataClient } from "../src/rest/client.ts";
import { BodyTooLargeError } from "../src/limit_errors.ts";
import { LIMITS } from "../src/limits.ts";

const NOW = "2024-04-10T00:00:00Z";
const DAY = { symbol: "BTCUSDT", interval: "1m" as const, start: "2024-03-05", end: "2024-03-06" };

/** What one child measured. */
export interface LimitsChildFigures {
  /** `VmRSS` before the client existed. */
  beforeBytes: number;
  /** `VmHWM` after the call. */
  peakBytes: number;
  /** Wall time of the call, ms. */
  ms: number;
  /** Bytes read when the body was cut (`BodyTooLargeError.value`), or 0 when it ended. */
  cutAtBytes: number;
  /** The bound in force. */
  maxPageBytes: number;
}

/** The figures of one run. */
export interface LimitsBenchResult {
  /** Healthy one-day fetch. */
  baseline: LimitsChildFigures;
  /** Endless body, default bound. */
  endless: LimitsChildFigures;
  /** Endless body, a 1 MiB bound. */
  endlessSmall: LimitsChildFigures;
}

/**
 * Runs the bench: two replica processes (healthy, endless) and three client children.
 *
 * @example
 * ```ts ignore
 * import { runLimitsBench } from "./limits_bench.ts";
 * const r = await runLimitsBench();
 * console.log(r.endless.cutAtBytes <= r.endless.maxPageBytes + 65536);
 * ```
 */
export async function runLimitsBench(): Promise<LimitsBenchResult> {
  await using healthy = await startReplicaProcess({ now: NOW });
  await using endless = await startReplicaProcess({
    now: NOW,
    faults: [{ match: "/api/v3/klines", kind: "endless", chunkBytes: 65_536, intervalMs: 0 }],
  });
  return {
    baseline: await child(healthy.restUrl, LIMITS.maxPageBytes),
    endless: await child(endless.restUrl, LIMITS.maxPageBytes),
    endlessSmall: await child(endless.restUrl, 1024 * 1024),
  };
}

async function child(url: string, maxPageBytes: number): Promise<LimitsChildFigures> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(fromFileUrl(import.meta.url), ["--child", url, String(maxPageBytes)]),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`limits child failed (exit ${out.code})`);
  return JSON.parse(new TextDecoder().decode(out.stdout)) as LimitsChildFigures;
}

function statusBytes(field: "VmRSS" | "VmHWM"): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/self/status`);
  return Number(kb) * 1024;
}

async function childMain(url: string, maxPageBytes: number): Promise<void> {
  const beforeBytes = statusBytes("VmRSS");
  const t0 = performance.now();
  let cutAtBytes = 0;
  {
    await using rest = new RestDataClient({ marketType: "spot", baseUrl: url, maxPageBytes });
    try {
      await rest.fetchKlines(DAY);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      cutAtBytes = err.value;
    }
  }
  const figures: LimitsChildFigures = {
    beforeBytes,
    peakBytes: statusBytes("VmHWM"),
    ms: performance.now() - t0,
    cutAtBytes,
    maxPageBytes,
  };
  console.log(JSON.stringify(figures));
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--child");
  if (i >= 0) {
    await childMain(Deno.args[i + 1], Number(Deno.args[i + 2]));
  } else {
    const r = await runLimitsBench();
    const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
    for (const [name, f] of Object.entries(r)) {
      console.log(
        `${name}: cut at ${f.cutAtBytes} of ${f.maxPageBytes} bytes in ${f.ms.toFixed(0)} ms; ` +
          `RSS +${mb(f.peakBytes - f.beforeBytes)} (peak ${mb(f.peakBytes)})`,
      );
    }
  }
}
