/**
 * The report a deadline-bounded dispose leaves behind, and the error a `strictDispose`
 * dispose rejects with.
 *
 * @module
 */
import { VisionDataError } from "../errors.ts";

/** Options for {@linkcode DisposeError}. */
export interface DisposeErrorOptions {
  /** What was being disposed (e.g. `"VisionDataClient"`), for the message. */
  subject: string;
  /** Names of the steps/tasks that overran their deadline, in release order. */
  timedOut?: readonly string[];
  /** Names of the steps/tasks that failed, index-aligned with `errors`. */
  failed?: readonly string[];
  /** Milliseconds from the dispose call to its settlement. */
  elapsedMs: number;
}

/**
 * A dispose that released everything it could but had failures or overruns. Only thrown when
 * the object was created with `strictDispose: true`; by default dispose resolves and the same
 * facts are in `lastDisposeReport`. `errors` are the real failures in release order
 * (`failed[i]` names the step of `errors[i]`); `timedOut` names the steps abandoned at the
 * deadline; `cause` is a `TimeoutError` `DOMException` when anything timed out.
 *
 * @example
 * ```ts
 * import { DisposeError } from "@vision-data/client";
 * const e = new DisposeError([new Error("close failed")], {
 *   subject: "VisionDataClient",
 *   failed: ["http client"],
 *   timedOut: ["pool"],
 *   elapsedMs: 5001,
 * });
 * console.log(e.timedOut, e.cause instanceof DOMException);
 * ```
 */
export class DisposeError extends VisionDataError {
  /** The real failures, in release order. */
  readonly errors: readonly unknown[];
  /** Names of the steps that overran their deadline. */
  readonly timedOut: readonly string[];
  /** Names of the failed steps, index-aligned with `errors`. */
  readonly failed: readonly string[];
  /** Milliseconds from the dispose call to its settlement. */
  readonly elapsedMs: number;

  /**
   * Creates a DisposeError.
   *
   * @param errors the real failures, in release order
   * @param options subject, timed-out and failed step names, elapsed time
   */
  constructor(errors: readonly unknown[], options: DisposeErrorOptions) {
    const timedOut = Object.freeze([...(options.timedOut ?? [])]);
    const failed = Object.freeze([...(options.failed ?? [])]);
    const parts: string[] = [];
    if (errors.length > 0) {
      parts.push(
        `${errors.length} failure(s)${failed.length ? ` in ${failed.join(", ")}` : ""}`,
      );
    }
    if (timedOut.length > 0) parts.push(`timed out: ${timedOut.join(", ")}`);
    super(
      `${options.subject} dispose finished with problems after ${options.elapsedMs} ms: ${
        parts.join("; ")
      }`,
      timedOut.length > 0
        ? { cause: new DOMException(`Timed out: ${timedOut.join(", ")}`, "TimeoutError") }
        : undefined,
    );
    this.errors = Object.freeze([...errors]);
    this.timedOut = timedOut;
    this.failed = failed;
    this.elapsedMs = options.elapsedMs;
  }
}

/** Outcome of one release step of a {@linkcode DisposeReport}. */
export interface DisposeStepReport {
  /** The step's name as given to `adopt`/`defer` (or `"temp dir"`). */
  readonly name: string;
  /** `ok`, `failed` (threw or rejected in time), or `timedOut` (abandoned at the deadline). */
  readonly status: "ok" | "failed" | "timedOut";
  /** How long the step ran (until its deadline when it timed out). */
  readonly elapsedMs: number;
}

/** What the last dispose did: timings, overruns and failures. */
export interface DisposeReport {
  /** Milliseconds from the dispose call to its settlement. */
  readonly elapsedMs: number;
  /** Names that overran the budget (release steps, and `in-flight:<op>` for work). */
  readonly timedOut: readonly string[];
  /** The real failures, in release order. */
  readonly errors: readonly unknown[];
  /** Names of the failed steps, index-aligned with `errors`. */
  readonly failed: readonly string[];
  /** Per-step outcomes in release order (LIFO, temp dir last). */
  readonly steps: readonly DisposeStepReport[];
  /** Whether the grace period ended with all in-flight work settled. */
  readonly drainedInGrace: boolean;
}
