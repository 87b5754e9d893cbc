/**
 * The CLI's version, printed by `--version` (a test keeps it equal to `deno.json`'s).
 *
 * @module
 */

/** The package version. */
export const VERSION = "0.1.0";
