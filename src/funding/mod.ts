/**
 * Funding-rate history (um, cm): columns, the funding cache, options.
 *
 * @module
 */
export * from "./funding_rates.ts";
export * from "./cache.ts";
export * from "./options.ts";
export * from "./export.ts";
