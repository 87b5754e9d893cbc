/**
 * The error every constructor throws for an option outside its allowed range: options are
 * rejected, never silently clamped.
 *
 * @module
 */
import { VisionDataError } from "./errors.ts";

/**
 * An option value that is not allowed. Names the option, the value, and what is allowed.
 *
 * @example
 * ```ts
 * import { InvalidOptionError, VisionDataClient } from "@vision-data/client";
 * try {
 *   new VisionDataClient({ marketType: "spot", concurrency: 0 });
 * } catch (e) {
 *   if (e instanceof InvalidOptionError) console.log(e.option, e.value, e.allowed);
 * }
 * ```
 */
export class InvalidOptionError extends VisionDataError {
  /** The option's name, e.g. `"concurrency"`. */
  readonly option: string;
  /** The rejected value. */
  readonly value: unknown;
  /** What is allowed, e.g. `"an integer >= 1"`. */
  readonly allowed: string;

  /**
   * Creates an InvalidOptionError.
   *
   * @param option the option's name
   * @param value the rejected value
   * @param allowed what is allowed
   */
  constructor(option: string, value: unknown, allowed: string) {
    super(`Invalid option ${option}: ${formatValue(value)}; allowed: ${allowed}`);
    this.option = option;
    this.value = value;
    this.allowed = allowed;
  }
}

function formatValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
