/**
 * The replica in a child process, for the benches: a separate process so that serving
 * (zip generation, HTTP) does not take the measured client's CPU time on the same thread.
 *
 * @module
 */
import { fromFileUrl } from "@std/path";
import type { FaultRule } from "../testing/mod.ts";

const ROOT = new URL("../", import.meta.url);

/** Options for {@linkcode startReplicaProcess}. */
export interface ReplicaProcessOptions {
  /** The replica's clock (`--now`), ISO or epoch ms. */
  now: string;
  /** Symbols to list (`--symbols`). @default {["BTCUSDT"]} */
  symbols?: readonly string[];
  /** Fault rules (`--faults`). */
  faults?: readonly FaultRule[];
  /** Delay before every response, ms (`--latency-ms`). */
  latencyMs?: number;
  /** Pace of every response body, Mbit/s (`--bandwidth-mbps`). */
  bandwidthMbps?: number;
  /**
   * Another script to run instead of `testing/serve.ts` (with `args` as its arguments); it
   * must print a line `rest: <origin>` (and may print `vision: <origin>…`) once serving.
   */
  script?: string;
  /** Arguments of `script`. */
  args?: readonly string[];
}

/** A running replica process. Disposing stops it (SIGTERM) and waits for its exit. */
export interface ReplicaProcess extends AsyncDisposable {
  /** Origin of the Vision archive (`http://127.0.0.1:PORT`). */
  readonly visionUrl: string;
  /** Origin of the REST API (the same server as Vision for `serve.ts`). */
  readonly restUrl: string;
  /** The child's process id. */
  readonly pid: number;
  /** Stops the process; idempotent. */
  stop(): Promise<void>;
}

/** The `deno run` arguments that start a script under the offline import map. */
export function denoRunArgs(script: string, args: readonly string[] = []): string[] {
  return [
    "run",
    "-A",
    `--import-map=${fromFileUrl(new URL("offline/import_map.json", ROOT))}`,
    script,
    ...args,
  ];
}

/**
 * Starts the replica CLI (`testing/serve.ts`, or `options.script`) in a child process and
 * resolves once it prints where it serves.
 *
 * @example
 * ```ts ignore
 * import { startReplicaProcess } from "./_replica_process.ts";
 * await using replica = await startReplicaProcess({ now: "2025-06-01T00:00:00Z" });
 * const res = await fetch(`${replica.restUrl}/api/v3/ping`);
 * await res.body?.cancel();
 * ```
 */
export async function startReplicaProcess(
  options: ReplicaProcessOptions,
): Promise<ReplicaProcess> {
  const script = options.script ?? fromFileUrl(new URL("testing/serve.ts", ROOT));
  const args = options.script ? [...(options.args ?? [])] : [
    "--port",
    "0",
    "--now",
    options.now,
    "--symbols",
    (options.symbols ?? ["BTCUSDT"]).join(","),
    ...(options.faults ? ["--faults", JSON.stringify(options.faults)] : []),
    ...(options.latencyMs ? ["--latency-ms", String(options.latencyMs)] : []),
    ...(options.bandwidthMbps ? ["--bandwidth-mbps", String(options.bandwidthMbps)] : []),
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args: denoRunArgs(script, args),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await child.status;
      await drained;
    })();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let rest: string | undefined;
  // serve.ts prints the Vision line first, then the REST one.
  while (rest === undefined) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    rest = /rest:\s+(http:\/\/[^/\s]+)/.exec(text)?.[1];
  }
  // Keep reading what it prints later: a closed pipe would fail its next write.
  const drained = (async () => {
    try {
      while (!(await reader.read()).done) { /* discard */ }
    } catch {
      // The child is gone.
    }
  })();
  if (rest === undefined) {
    await stop();
    throw new Error(`replica did not start: ${text}`);
  }
  const vision = /vision:\s+(http:\/\/[^/\s]+)/.exec(text)?.[1] ?? rest;
  return {
    visionUrl: vision,
    restUrl: rest,
    pid: child.pid,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
