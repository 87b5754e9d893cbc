/**
 * Datasets at scale: symbol discovery from the Vision archive's listing, and syncing many
 * symbols into a Hive-partitioned, verifiable, shardable Parquet dataset.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./symbols.ts";
export * from "./sync.ts";
