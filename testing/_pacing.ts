/**
 * Wide-area behaviour for the replica: a fixed latency before every response and a bandwidth
 * limit on every response body, so that benchmarks on loopback can show what users on a real
 * network see.
 *
 * @module
 */
import { VisionDataError } from "../src/errors.ts";

/**
 * A replica option with a value it does not accept.
 *
 * @example
 * ```ts
 * import { ReplicaOptionError, startReplica } from "@vision-data/client/testing";
 * try {
 *   await startReplica({ bandwidthMbps: 0 });
 * } catch (e) {
 *   if (e instanceof ReplicaOptionError) console.log(e.option); // "bandwidthMbps"
 * }
 * ```
 */
export class ReplicaOptionError extends VisionDataError {
  /** The option's name. */
  readonly option: string;
  /** The value given. */
  readonly value: unknown;

  /**
   * Creates a ReplicaOptionError.
   *
   * @param option the option's name
   * @param value the value given
   * @param allowed what the option accepts
   */
  constructor(option: string, value: unknown, allowed: string) {
    super(`Replica option ${option} must be ${allowed}, got ${String(value)}`);
    this.option = option;
    this.value = value;
  }
}

/** Validates `latencyMs`: a finite number of ms ≥ 0 (0 when absent). */
export function checkLatency(value: number | undefined): number {
  if (value === undefined) return 0;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new ReplicaOptionError("latencyMs", value, "a finite number of milliseconds ≥ 0");
  }
  return value;
}

/** Validates `bandwidthMbps`: a finite number > 0, or absent (no limit). */
export function checkBandwidth(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ReplicaOptionError("bandwidthMbps", value, "a finite number of megabits/s > 0");
  }
  return value;
}

/** Pieces are sized to ~10 ms of the bandwidth, so the pace is smooth, not bursty. */
const TICK_MS = 10;

/**
 * The pace of one response body: pieces of ~10 ms of bandwidth, each sent no earlier than the
 * rate allows for the bytes before and in it.
 */
export class Pacer {
  /** Bytes per piece. */
  readonly piece: number;
  readonly #bytesPerMs: number;
  #start: number | undefined;

  /** @param mbps megabits (10^6 bits) per second */
  constructor(mbps: number) {
    this.#bytesPerMs = mbps * 1e6 / 8 / 1000;
    this.piece = Math.max(1, Math.round(this.#bytesPerMs * TICK_MS));
  }

  /** How long to wait before sending bytes up to `sentAfter` (the clock starts on first call). */
  delayMs(sentAfter: number): number {
    const now = performance.now();
    this.#start ??= now;
    return Math.max(0, this.#start + sentAfter / this.#bytesPerMs - now);
  }
}
