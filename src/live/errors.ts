/**
 * Errors of the live streams.
 *
 * @module
 */
import { VisionDataError } from "../errors.ts";

/**
 * An option of a live stream (or another constructor) with a value that is not allowed.
 *
 * @example
 * ```ts
 * import { InvalidOptionError } from "@vision-data/client";
 * const e = new InvalidOptionError("queueSize", 0, "an integer >= 2");
 * e.message; // 'Invalid option queueSize 0: expected an integer >= 2'
 * ```
 */
export class InvalidOptionError extends VisionDataError {
  /** The option's name. */
  readonly option: string;
  /** The rejected value. */
  readonly value: unknown;
  /**
   * Creates an InvalidOptionError.
   *
   * @param option the option's name
   * @param value the rejected value
   * @param allowed what is allowed
   */
  constructor(option: string, value: unknown, allowed: string) {
    super(`Invalid option ${option} ${show(value)}: expected ${allowed}`);
    this.option = option;
    this.value = value;
  }
}

function show(value: unknown): string {
  try {
    return typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
