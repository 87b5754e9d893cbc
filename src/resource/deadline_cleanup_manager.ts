/**
 * `DeadlineCleanupManager`: runs named cleanup tasks and bounds them by one deadline.
 *
 * Unlike a cancel-first design, tasks get the whole deadline to finish; only those still
 * running when it passes are aborted (through their signal) and given a short, bounded
 * moment to unwind. Every error is collected with the task's name, and a late rejection of a
 * task that ignored its signal is caught and logged, never unhandled.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { ClientClosedError } from "../errors.ts";
import type { DisposeReport, DisposeStepReport } from "./dispose_error.ts";
import { type LifecycleState, settleDispose } from "./lifecycle.ts";
import { roundMs, settledWithin } from "./_wait.ts";
import { numberOption } from "../_options.ts";

const logger = getLogger(["vision-data", "resource"]);

/** Options for {@linkcode DeadlineCleanupManager}. */
export interface DeadlineCleanupManagerOptions {
  /** The deadline, in ms from {@linkcode DeadlineCleanupManager.startDeadline}. Default 5000. */
  timeoutMs?: number;
  /** After aborting overdue tasks, how long to wait for them to unwind. Default 100. */
  unwindMs?: number;
  /**
   * Reject dispose with a `DisposeError` when a task failed or timed out. By default dispose
   * resolves and the outcome is in `errors`, `timedOut` and `lastDisposeReport` (logged at
   * warning level), as the seed's cleanup manager does. @default {false}
   */
  strictDispose?: boolean;
  /** Name used in errors and logs. Default `"DeadlineCleanupManager"`. */
  name?: string;
}

/**
 * Where a task stands: `running`; settled before the deadline (`fulfilled`/`rejected`);
 * overdue and settled after its abort (`aborted`); or overdue and still not settled after the
 * unwind window (`hung` — abandoned, its late outcome only logged).
 */
export type CleanupTaskStatus = "running" | "fulfilled" | "rejected" | "aborted" | "hung";

/** One task's outcome, as listed in {@linkcode DeadlineCleanupManager.report}. */
export interface CleanupTaskReport {
  /** Sequential id, unique within the manager. */
  readonly id: number;
  /** The name given to `createTask` (default `task-<id>`). */
  readonly name: string;
  /** Current status. */
  readonly status: CleanupTaskStatus;
  /** Run time until it settled; `undefined` while running or hung. */
  readonly elapsedMs: number | undefined;
  /** The task's error, when it failed (abort reasons of overdue tasks are not errors). */
  readonly error?: unknown;
}

/** The handle {@linkcode DeadlineCleanupManager.createTask} returns. */
export interface CleanupTask<T> {
  /** Sequential id, unique within the manager. */
  readonly id: number;
  /** The task's name. */
  readonly name: string;
  /** Aborted (reason: a `TimeoutError` `DOMException`) when the task overruns the deadline. */
  readonly signal: AbortSignal;
  /** The task's result. Already handled internally: not awaiting it never causes an unhandled rejection. */
  readonly promise: Promise<T>;
  /** Current status. */
  readonly status: CleanupTaskStatus;
}

interface TaskRecord {
  readonly id: number;
  readonly name: string;
  readonly controller: AbortController;
  readonly startedAt: number;
  settledAt: number | undefined;
  status: CleanupTaskStatus;
  error: unknown;
  hasError: boolean;
  overdue: boolean;
  settled: Promise<void>;
}

/**
 * Tracks cleanup tasks and enforces one deadline on them, as an `AsyncDisposable`.
 *
 * Dispose starts the deadline if needed, waits for running tasks until it passes, aborts the
 * ones still running, waits up to `unwindMs` for them, then resolves: errors are collected
 * (`errors`, `failed`), overruns named (`timedOut`), both logged at warning level and kept in
 * `lastDisposeReport`; one failing task never prevents the others' cleanup. With
 * `strictDispose: true` it rejects with a `DisposeError` instead. It never leaves a timer
 * behind, and settles within `timeRemaining + unwindMs` (+ timer jitter).
 *
 * @example
 * ```ts
 * import { DeadlineCleanupManager } from "@vision-data/client";
 * import { delay } from "@std/async";
 *
 * const manager = new DeadlineCleanupManager({ timeoutMs: 500 });
 * manager.startDeadline();
 * manager.createTask((signal) => delay(10, { signal }), "flush");
 * manager.createTask((signal) => delay(2000, { signal }), "slow close");
 * await manager[Symbol.asyncDispose](); // resolves: cleanup reports, it does not raise
 * console.log(manager.timedOut); // ["slow close"]
 * ```
 */
export class DeadlineCleanupManager implements AsyncDisposable {
  /** Whether dispose rejects with `DisposeError` on failures (opt-in). */
  readonly strictDispose: boolean;
  /** The deadline in ms. */
  readonly timeoutMs: number;
  /** The unwind window after aborting overdue tasks, in ms. */
  readonly unwindMs: number;
  /** Name used in errors and logs. */
  readonly name: string;
  #startedAt: number | undefined;
  #nextId = 0;
  readonly #tasks: TaskRecord[] = [];
  readonly #errors: unknown[] = [];
  readonly #failed: string[] = [];
  readonly #timedOut: string[] = [];
  #disposing: Promise<void> | undefined;
  #report: DisposeReport | undefined;

  /**
   * Creates a DeadlineCleanupManager.
   *
   * @param options deadline, unwind window, failure mode, name
   */
  constructor(options: DeadlineCleanupManagerOptions = {}) {
    this.timeoutMs = numberOption("timeoutMs", options.timeoutMs, 5000, { min: 0 });
    this.unwindMs = numberOption("unwindMs", options.unwindMs, 100, { min: 0 });
    this.strictDispose = options.strictDispose ?? false;
    this.name = options.name ?? "DeadlineCleanupManager";
  }

  /**
   * Starts the deadline clock (idempotent: the first call wins). Dispose starts it when
   * nobody did.
   */
  startDeadline(): void {
    this.#startedAt ??= performance.now();
  }

  /** Milliseconds left before the deadline: the full `timeoutMs` until it is started; ≥ 0. */
  get timeRemaining(): number {
    if (this.#startedAt === undefined) return this.timeoutMs;
    return Math.max(0, this.timeoutMs - (performance.now() - this.#startedAt));
  }

  /**
   * Starts `fn` now with a signal that aborts if it overruns the deadline, and tracks it.
   * Throws `ClientClosedError` once dispose has begun.
   *
   * @param fn the cleanup work; should honour its signal
   * @param name identifies the task in errors, `timedOut` and the report (default `task-<id>`)
   */
  createTask<T>(fn: (signal: AbortSignal) => Promise<T>, name?: string): CleanupTask<T> {
    if (this.#disposing) throw new ClientClosedError(this.name);
    const id = ++this.#nextId;
    const record: TaskRecord = {
      id,
      name: name ?? `task-${id}`,
      controller: new AbortController(),
      startedAt: performance.now(),
      settledAt: undefined,
      status: "running",
      error: undefined,
      hasError: false,
      overdue: false,
      settled: Promise.resolve(),
    };
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(fn(record.controller.signal));
    } catch (err) {
      promise = Promise.reject(err);
    }
    // This handler also marks `promise` as handled: a late rejection is never unhandled.
    record.settled = promise.then(
      () => this.#onSettled(record, false, undefined),
      (err) => this.#onSettled(record, true, err),
    );
    this.#tasks.push(record);
    return {
      id,
      name: record.name,
      signal: record.controller.signal,
      promise,
      get status() {
        return record.status;
      },
    };
  }

  #onSettled(record: TaskRecord, rejected: boolean, error: unknown): void {
    record.settledAt = performance.now();
    if (record.status === "hung") {
      // Dispose already settled without it: keep the outcome for the report, log it.
      if (rejected) {
        record.error = error;
        record.hasError = true;
        logger.warn("Abandoned cleanup task {name} rejected after the deadline: {error}", {
          name: record.name,
          error,
        });
      }
      return;
    }
    if (record.overdue) {
      record.status = "aborted";
      if (rejected && error === record.controller.signal.reason) return;
    } else {
      record.status = rejected ? "rejected" : "fulfilled";
    }
    if (rejected) {
      record.error = error;
      record.hasError = true;
      this.#errors.push(error);
      this.#failed.push(record.name);
      logger.debug("Cleanup task {name} failed: {error}", { name: record.name, error });
    }
  }

  /** Tasks not yet settled. */
  get running(): number {
    return this.#tasks.filter((t) => t.status === "running").length;
  }

  /** Errors collected so far, in the order the tasks failed (see `failed` for names). */
  get errors(): readonly unknown[] {
    return [...this.#errors];
  }

  /** Names of the failed tasks, index-aligned with `errors`. */
  get failed(): readonly string[] {
    return [...this.#failed];
  }

  /** Names of the tasks that overran the deadline, in creation order. */
  get timedOut(): readonly string[] {
    return [...this.#timedOut];
  }

  /** Per-task outcome, in creation order. */
  get report(): readonly CleanupTaskReport[] {
    return this.#tasks.map((t) => ({
      id: t.id,
      name: t.name,
      status: t.status,
      elapsedMs: t.settledAt === undefined || t.status === "hung"
        ? undefined
        : roundMs(t.settledAt - t.startedAt),
      ...(t.hasError ? { error: t.error } : {}),
    }));
  }

  /** `open` (accepting tasks), `closing` (dispose running) or `closed` (dispose settled). */
  get state(): LifecycleState {
    return this.#disposing === undefined ? "open" : this.#report ? "closed" : "closing";
  }

  /** What the last dispose did; `undefined` until dispose has settled. */
  get lastDisposeReport(): DisposeReport | undefined {
    return this.#report;
  }

  /**
   * Waits for tasks until the deadline, aborts overdue ones, waits `unwindMs` for them, then
   * resolves (see the class docs). Every call returns the same promise.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disposeAsync();
  }

  /** Same as `[Symbol.asyncDispose]()`. */
  disposeAsync(): Promise<void> {
    return this.#disposing ??= this.#dispose();
  }

  async #dispose(): Promise<void> {
    const t0 = performance.now();
    this.startDeadline();
    const running = () => this.#tasks.filter((t) => t.status === "running");
    let pending = running();
    if (pending.length > 0) {
      await settledWithin(pending.map((t) => t.settled), this.timeRemaining);
      pending = running();
    }
    const pendingAtDeadline = pending.length;
    if (pending.length > 0) {
      const reason = new DOMException(
        `${this.name}: cleanup deadline of ${this.timeoutMs} ms exceeded`,
        "TimeoutError",
      );
      for (const task of pending) {
        task.overdue = true;
        this.#timedOut.push(task.name);
        task.controller.abort(reason);
      }
      await settledWithin(pending.map((t) => t.settled), this.unwindMs);
      for (const task of pending) {
        if (task.status !== "running") continue;
        task.status = "hung";
        logger.warn("Cleanup task {name} ignored its abort; abandoned", { name: task.name });
      }
    }
    const elapsedMs = roundMs(performance.now() - t0);
    logger.debug("{name} disposed in {elapsedMs} ms: {errors} error(s), {timedOut} timed out", {
      name: this.name,
      elapsedMs,
      errors: this.#errors.length,
      timedOut: this.#timedOut.length,
    });
    this.#report = {
      elapsedMs,
      timedOut: this.timedOut,
      errors: this.errors,
      failed: this.failed,
      steps: this.#tasks.map(stepOf),
      drainedInGrace: pendingAtDeadline === 0,
    };
    settleDispose(this.name, this.#report, this.strictDispose);
  }
}

/** A task's outcome as a dispose step (hung and aborted tasks count as timed out). */
function stepOf(t: TaskRecord): DisposeStepReport {
  const status = t.overdue ? "timedOut" : t.status === "rejected" ? "failed" : "ok";
  const end = t.settledAt ?? performance.now();
  return { name: t.name, status, elapsedMs: roundMs(end - t.startedAt) };
}
