/**
 * Deterministic work split: a unit belongs to shard `hash(unit key) mod N`. Every process
 * computes the same owner for every unit, so N processes share one dataset root with no
 * coordinator, and each writes only the partitions of its own units.
 *
 * @module
 */
import { InvalidShardError } from "./errors.ts";

/** One shard of N (K is 1-based). */
export interface Shard {
  /** This shard, 1 … count. */
  index: number;
  /** Number of shards. */
  count: number;
}

const MAX_SHARDS = 100_000;

/**
 * The environment variable with the shard count N, read when `JOB_COMPLETION_INDEX` (set by a
 * Kubernetes Indexed Job, 0-based) gives the index and no shard is passed.
 *
 * @example
 * ```ts
 * import { SHARD_COUNT_ENV } from "@vision-data/client/dataset";
 * SHARD_COUNT_ENV; // "VISION_DATA_SHARD_COUNT"
 * ```
 */
export const SHARD_COUNT_ENV = "VISION_DATA_SHARD_COUNT";

/** Parses `K/N` (1-based K). */
export function parseShard(value: string, source = "shard"): Shard {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(value.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || index < 1 || count < 1 || index > count || count > MAX_SHARDS) {
    throw new InvalidShardError(value, source);
  }
  return { index, count };
}

/**
 * The shard from a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (0-based) and
 * `VISION_DATA_SHARD_COUNT`; `undefined` when the index is not set.
 */
export function shardFromEnv(env: (name: string) => string | undefined): Shard | undefined {
  const index = env("JOB_COMPLETION_INDEX");
  if (index === undefined || index === "") return undefined;
  const count = env(SHARD_COUNT_ENV);
  const spec = `${/^\d+$/.test(index) ? Number(index) + 1 : index}/${count ?? "?"}`;
  return parseShard(
    spec,
    `JOB_COMPLETION_INDEX=${index} with ${SHARD_COUNT_ENV}=${count ?? "(unset)"}`,
  );
}

/** FNV-1a (32 bit) of a string's UTF-16 code units: stable across runtimes and machines. */
function fnv1a(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Whether the unit named `key` belongs to `shard`. */
export function ownsUnit(shard: Shard, key: string): boolean {
  return fnv1a(key) % shard.count === shard.index - 1;
}
