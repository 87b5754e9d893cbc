/**
 * Typed errors of the extra market data (kline kinds, funding rates, data types).
 *
 * @module
 */
import { VisionDataError } from "./errors.ts";

/**
 * A data type or kline kind the market does not offer (funding or mark/index/premium
 * klines on spot), or a data type name that does not exist.
 *
 * @example
 * ```ts
 * import { UnsupportedDataError } from "@vision-data/client";
 * const e = new UnsupportedDataError("kline kind", "index", "spot", ["trades"]);
 * e.message; // 'kline kind "index" is not offered on spot; allowed: trades'
 * ```
 */
export class UnsupportedDataError extends VisionDataError {
  /** The rejected value. */
  readonly value: string;
  /** What would have been accepted there. */
  readonly allowed: readonly string[];
  /**
   * Creates an UnsupportedDataError.
   *
   * @param what what the value is (`"kline kind"`, `"data type"`)
   * @param value the rejected value
   * @param where the market (or place) it was asked of
   * @param allowed the accepted values there
   * @param options standard error options
   */
  constructor(
    what: string,
    value: string,
    where: string,
    allowed: readonly string[],
    options?: ErrorOptions,
  ) {
    super(
      `${what} ${JSON.stringify(value)} is not offered on ${where}; allowed: ${allowed.join(", ")}`,
      options,
    );
    this.value = value;
    this.allowed = allowed;
  }
}
