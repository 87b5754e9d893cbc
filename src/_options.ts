/**
 * One way to validate numeric options: the default when absent, otherwise the value if it is
 * allowed, else an {@linkcode InvalidOptionError} naming option, value and range. No clamps.
 *
 * @module
 */
import { InvalidOptionError } from "./option_error.ts";

/** What a numeric option allows. */
export interface NumberRule {
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** Only integers. */
  integer?: boolean;
  /** `min` itself is not allowed. */
  exclusiveMin?: boolean;
}

/** The commonest rule: counts, sizes, concurrency. */
export const INT_AT_LEAST_1: NumberRule = { min: 1, integer: true };

/** What `rule` allows, in words (e.g. "an integer >= 1"). */
function describeRule(rule: NumberRule): string {
  const parts: string[] = [];
  if (rule.min !== undefined) parts.push(`${rule.exclusiveMin ? ">" : ">="} ${rule.min}`);
  if (rule.max !== undefined) parts.push(`<= ${rule.max}`);
  return `${rule.integer ? "an integer" : "a finite number"}${
    parts.length ? " " + parts.join(" and ") : ""
  }`;
}

/**
 * `value` (or `fallback` when it is `undefined`) if `rule` allows it; otherwise throws
 * {@linkcode InvalidOptionError}. The fallback is checked too, so a derived default that
 * breaks the rule is reported rather than used.
 */
export function numberOption(
  option: string,
  value: number | undefined,
  fallback: number,
  rule: NumberRule = {},
): number {
  const v = value ?? fallback;
  const ok = typeof v === "number" && Number.isFinite(v) &&
    (!rule.integer || Number.isInteger(v)) &&
    (rule.min === undefined || (rule.exclusiveMin ? v > rule.min : v >= rule.min)) &&
    (rule.max === undefined || v <= rule.max);
  if (!ok) throw new InvalidOptionError(option, v, describeRule(rule));
  return v;
}
