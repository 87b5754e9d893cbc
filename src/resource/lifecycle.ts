/**
 * The lifecycle every client shares: its options (budget, grace, lifetime signal,
 * `strictDispose`), its state, and how a finished dispose is settled — resolve and report by
 * default, reject with {@linkcode DisposeError} only when the caller opted in.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { DisposeError, type DisposeReport } from "./dispose_error.ts";

const logger = getLogger(["vision-data", "resource"]);

/**
 * Where an object stands: `open`, `closing` (dispose running) or `closed` (dispose settled).
 *
 * @example
 * ```ts
 * import type { LifecycleState } from "@vision-data/client";
 * const s: LifecycleState = "open";
 * ```
 */
export type LifecycleState = "open" | "closing" | "closed";

/**
 * Disposal options shared by every client, the manager and {@linkcode ResourceOwner}: the
 * same names, defaults and meaning everywhere.
 *
 * @example
 * ```ts
 * import type { LifecycleOptions } from "@vision-data/client";
 * const o: LifecycleOptions = { disposeTimeoutMs: 2000, strictDispose: true };
 * ```
 */
export interface LifecycleOptions {
  /** Hard budget B for the whole dispose, in ms: it settles within this (+ ε). @default {5000} */
  disposeTimeoutMs?: number;
  /** Grace G for in-flight work before it is aborted (≤ B). @default {min(250, disposeTimeoutMs)} */
  graceMs?: number;
  /** Lifetime signal: aborting it aborts in-flight work (it does not dispose). */
  signal?: AbortSignal;
  /**
   * Reject `[Symbol.asyncDispose]()` with a {@linkcode DisposeError} when a release step
   * failed or overran. By default dispose resolves once everything is released and the
   * failures are in `lastDisposeReport` (and logged at warning level): an `await using`
   * block then never loses its own error or result to a failed close. @default {false}
   */
  strictDispose?: boolean;
}

/**
 * What the clients and the manager share: state, one shared dispose promise, and the report
 * of the last dispose.
 *
 * @example
 * ```ts
 * import { type Lifecycle, ResourceOwner } from "@vision-data/client";
 * const owner: Lifecycle = new ResourceOwner({ name: "demo" });
 * await owner.disposeAsync();
 * console.log(owner.state, owner.lastDisposeReport?.errors.length); // "closed" 0
 * ```
 */
export interface Lifecycle extends AsyncDisposable {
  /** `open`, `closing` or `closed`. */
  readonly state: LifecycleState;
  /** What the last dispose did; `undefined` until a dispose has settled. */
  readonly lastDisposeReport: DisposeReport | undefined;
  /** Same as `[Symbol.asyncDispose]()`: every call returns the same promise. */
  disposeAsync(): Promise<void>;
}

/**
 * Settles a finished dispose: logs failures and overruns at warning level, and throws a
 * {@linkcode DisposeError} only when `strict`. The one place the contract lives.
 */
export function settleDispose(subject: string, report: DisposeReport, strict: boolean): void {
  if (report.errors.length === 0 && report.timedOut.length === 0) return;
  logger.warn(
    "{subject} disposed with {errors} failure(s) {failed} and {timedOut} overrun(s) {names} in {elapsedMs} ms",
    {
      subject,
      errors: report.errors.length,
      failed: report.failed,
      timedOut: report.timedOut.length,
      names: report.timedOut,
      elapsedMs: report.elapsedMs,
      causes: report.errors,
    },
  );
  if (strict) {
    throw new DisposeError(report.errors, {
      subject,
      failed: report.failed,
      timedOut: report.timedOut,
      elapsedMs: report.elapsedMs,
    });
  }
}
