/**
 * Errors of the live streams: options are validated like every other client's.
 *
 * @module
 */
export { InvalidOptionError } from "../option_error.ts";
