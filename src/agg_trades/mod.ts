/**
 * Aggregate trades: columns, options, and the chunk exporter.
 *
 * @module
 */
export * from "./columns.ts";
export * from "./options.ts";
export * from "./export.ts";
export * from "./stream.ts";
