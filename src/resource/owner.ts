/**
 * `ResourceOwner`: the deadline-bounded lifecycle every client builds on
 * (disposal_semantics.md §4). A client creates one, runs its work through `run()`, registers
 * what it must release with `adopt()`/`defer()`, and forwards `[Symbol.asyncDispose]` to it.
 *
 * @module
 */
import { deadline } from "@std/async";
import { getLogger } from "@logtape/logtape";
import { ClientClosedError } from "../errors.ts";
import { DisposeError, type DisposeReport, type DisposeStepReport } from "./dispose_error.ts";
import { type LifecycleOptions, type LifecycleState, settleDispose } from "./lifecycle.ts";
import { TempDir } from "./temp_dir.ts";
import { isPromiseLike, roundMs, settledWithin } from "./_wait.ts";
import { numberOption } from "../_options.ts";

export { DisposeError };
export type { DisposeReport, DisposeStepReport };

const logger = getLogger(["vision-data", "resource"]);

/** Options for {@linkcode ResourceOwner}. */
export interface ResourceOwnerOptions extends LifecycleOptions {
  /** Name used in errors and logs, e.g. `"VisionDataClient"`. */
  name: string;
}

/** Options for {@linkcode ResourceOwner.run}. */
export interface RunOptions {
  /** Per-operation signal, linked with the owner's. */
  signal?: AbortSignal;
  /** Names the operation in `timedOut` (as `in-flight:<name>`) if it will not unwind. */
  name?: string;
}

/** A release step: gets a signal that aborts when the step overruns its deadline. */
type Release = (signal: AbortSignal) => unknown;

interface Step {
  readonly name: string;
  readonly release: Release;
}

interface DisposeContext {
  readonly deadlineAt: number;
  readonly timedOut: string[];
  readonly errors: unknown[];
  readonly failed: string[];
  readonly steps: DisposeStepReport[];
}

type Phase = "open" | "grace" | "abort" | "release" | "closed";

/**
 * Owns a client's resources and disposes them within a hard budget.
 *
 * Dispose (`[Symbol.asyncDispose]` / `disposeAsync`, one shared promise):
 * 1. state → `closing` synchronously; `run()` rejects with `ClientClosedError` from then on;
 * 2. grace: waits up to `graceMs` for in-flight `run()` work (ended early by the lifetime signal);
 * 3. abort: aborts {@linkcode ResourceOwner.signal} with a `ClientClosedError(name)` reason and
 *    waits for the work to unwind within what is left of the budget;
 * 4. release: runs the `adopt`/`defer` steps LIFO, each bounded by `deadline()` with what is left
 *    of the budget — an overrun step is named in `timedOut`, abandoned, its late failure caught;
 *    synchronous steps always run, even with no budget left;
 * 5. removes the temp dir synchronously (never skipped);
 * 6. resolves once everything is released; failures and overruns are kept in
 *    {@linkcode ResourceOwner.lastDisposeReport} and logged at warning level — a step that
 *    throws is reported, never raised. With `strictDispose: true` it rejects with a
 *    {@linkcode DisposeError} carrying the same report instead. Settles within budget + ε.
 *
 * Work is accepted or refused by call order: `run()` called before dispose (even in the same
 * tick) is accepted — it gets the grace period and is aborted if it outlives it; `run()` called
 * after dispose rejects without calling `fn`.
 *
 * @example
 * ```ts
 * import { ResourceOwner } from "@vision-data/client";
 *
 * class Client implements AsyncDisposable {
 *   #owner = new ResourceOwner({ name: "Client", disposeTimeoutMs: 1000 });
 *   #http = this.#owner.adopt("http client", Deno.createHttpClient({}));
 *   get(url: string): Promise<string> {
 *     return this.#owner.run(async (signal) => {
 *       const res = await fetch(url, { signal, client: this.#http });
 *       return await res.text();
 *     });
 *   }
 *   [Symbol.asyncDispose](): Promise<void> {
 *     return this.#owner[Symbol.asyncDispose]();
 *   }
 * }
 * await using client = new Client();
 * ```
 */
export class ResourceOwner implements AsyncDisposable {
  /** Name used in errors and logs. */
  readonly name: string;
  /** Whether dispose rejects with {@linkcode DisposeError} on failures (opt-in). */
  readonly strictDispose: boolean;
  /** Aborted at dispose's abort phase (reason: `ClientClosedError`) or by the lifetime signal (its reason). */
  readonly signal: AbortSignal;
  /** Hard budget B, in ms. */
  readonly disposeTimeoutMs: number;
  /** Grace G, in ms (≤ B; a larger `graceMs` is rejected with `InvalidOptionError`). */
  readonly graceMs: number;

  #phase: Phase = "open";
  readonly #controller = new AbortController();
  #lifetime: AbortSignal | undefined;
  #stack: AsyncDisposableStack | undefined = new AsyncDisposableStack();
  #inflight = new Map<number, { name: string; settled: Promise<void> }>();
  #nextOp = 0;
  #tempDir: TempDir | undefined;
  #ctx: DisposeContext | undefined;
  #disposing: Promise<void> | undefined;
  #report: DisposeReport | undefined;

  /**
   * Creates a ResourceOwner.
   *
   * @param options name, budget, grace and lifetime signal
   */
  constructor(options: ResourceOwnerOptions) {
    const budget = numberOption("disposeTimeoutMs", options.disposeTimeoutMs, 5000, { min: 0 });
    // Grace is part of the budget (G ≤ B): a larger one is a mistake, not something to clamp.
    const grace = numberOption("graceMs", options.graceMs, Math.min(250, budget), {
      min: 0,
      max: budget,
    });
    this.name = options.name;
    this.strictDispose = options.strictDispose ?? false;
    this.disposeTimeoutMs = budget;
    this.graceMs = grace;
    this.#lifetime = options.signal;
    this.signal = options.signal
      ? AbortSignal.any([this.#controller.signal, options.signal])
      : this.#controller.signal;
  }

  /** `open`, `closing` (dispose running) or `closed` (dispose settled). */
  get state(): LifecycleState {
    return this.#phase === "open" ? "open" : this.#phase === "closed" ? "closed" : "closing";
  }

  /** Number of `run()` operations not yet settled. */
  get inFlight(): number {
    return this.#inflight.size;
  }

  /** What the last dispose did; `undefined` until a dispose has settled. */
  get lastDisposeReport(): DisposeReport | undefined {
    return this.#report;
  }

  /** Throws `ClientClosedError(name)` unless the owner is open. */
  assertOpen(): void {
    if (this.#phase !== "open") throw new ClientClosedError(this.name);
  }

  /**
   * Runs `fn` as in-flight work of the owner. When the owner is not open it rejects with
   * `ClientClosedError` without calling `fn`; when the owner's or the per-call signal is already
   * aborted it rejects with that reason, likewise. Otherwise `fn` is called synchronously with a
   * signal that aborts on owner abort, on the lifetime signal, or on `options.signal`.
   */
  run<T>(fn: (signal: AbortSignal) => Promise<T>, options: RunOptions = {}): Promise<T> {
    if (this.#phase !== "open") return Promise.reject(new ClientClosedError(this.name));
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    const signal = options.signal ? AbortSignal.any([this.signal, options.signal]) : this.signal;
    const id = ++this.#nextOp;
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(fn(signal));
    } catch (err) {
      return Promise.reject(err);
    }
    const settled = promise.then(noop, noop).then(() => {
      this.#inflight.delete(id);
    });
    this.#inflight.set(id, { name: options.name ?? `op-${id}`, settled });
    return promise;
  }

  /**
   * Registers `resource` to be released on dispose (LIFO, bounded by the budget) under `name`;
   * returns it. Accepted until the release phase starts (in-flight work may still acquire
   * resources during grace). Later, the resource is released at once and `ClientClosedError`
   * is thrown.
   */
  adopt<T extends AsyncDisposable | Disposable>(name: string, resource: T): T {
    const asyncDispose = (resource as Partial<AsyncDisposable>)[Symbol.asyncDispose];
    const syncDispose = (resource as Partial<Disposable>)[Symbol.dispose];
    let release: Release;
    if (typeof asyncDispose === "function") release = () => asyncDispose.call(resource);
    else if (typeof syncDispose === "function") release = () => syncDispose.call(resource);
    else throw new TypeError(`${name} is neither AsyncDisposable nor Disposable`);
    this.#addStep({ name, release });
    return resource;
  }

  /**
   * Registers a named release step (LIFO with adopted resources). `fn` may be synchronous
   * (always runs) or return a promise (bounded by what is left of the budget); it receives a
   * signal that aborts when the step overruns. Same acceptance rules as `adopt`.
   */
  defer(name: string, fn: (signal: AbortSignal) => void | Promise<void>): void {
    this.#addStep({ name, release: fn });
  }

  #addStep(step: Step): void {
    const stack = this.#stack;
    if (stack === undefined || this.#phase === "release" || this.#phase === "closed") {
      releaseLate(step, this.name);
      throw new ClientClosedError(this.name);
    }
    stack.defer(() => this.#runStep(step));
  }

  /**
   * The owner's temp directory, created lazily (synchronously) on first call; removed
   * synchronously at the very end of dispose. Throws `ClientClosedError` once the release
   * phase has started.
   */
  tempDir(): string {
    if (this.#phase === "release" || this.#phase === "closed") {
      throw new ClientClosedError(this.name);
    }
    this.#tempDir ??= new TempDir();
    return this.#tempDir.path;
  }

  /** Disposes per the class docs; every call returns the same promise. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disposeAsync();
  }

  /** Same as `[Symbol.asyncDispose]()`: one shared promise. */
  disposeAsync(): Promise<void> {
    if (this.#disposing) return this.#disposing;
    this.#phase = "grace";
    this.#disposing = this.#dispose();
    return this.#disposing;
  }

  async #dispose(): Promise<void> {
    const t0 = performance.now();
    const ctx: DisposeContext = {
      deadlineAt: t0 + this.disposeTimeoutMs,
      timedOut: [],
      errors: [],
      failed: [],
      steps: [],
    };
    this.#ctx = ctx;
    let drainedInGrace = this.#inflight.size === 0;
    try {
      // Grace: expiry is normal. The lifetime signal ends it early (its work is aborted anyway).
      if (!drainedInGrace && this.graceMs > 0) {
        const graceMs = Math.min(this.graceMs, this.#remaining());
        drainedInGrace = await settledWithin(this.#settledList(), graceMs, this.#lifetime);
      }
      this.#phase = "abort";
      if (!this.#controller.signal.aborted) {
        this.#controller.abort(new ClientClosedError(this.name));
      }
      if (this.#inflight.size > 0) {
        await settledWithin(this.#settledList(), this.#remaining());
        for (const op of this.#inflight.values()) ctx.timedOut.push(`in-flight:${op.name}`);
      }
      this.#phase = "release";
      const stack = this.#stack;
      this.#stack = undefined;
      if (stack) {
        try {
          await stack.disposeAsync();
        } catch (err) {
          // Steps record their own failures; this only catches a bug in the bookkeeping.
          ctx.errors.push(err);
          ctx.failed.push("release steps");
        }
      }
    } finally {
      this.#removeTempDir(ctx);
      this.#phase = "closed";
    }
    const elapsedMs = roundMs(performance.now() - t0);
    this.#report = {
      elapsedMs,
      timedOut: ctx.timedOut,
      errors: ctx.errors,
      failed: ctx.failed,
      steps: ctx.steps,
      drainedInGrace,
    };
    // Drop references so a closed owner holds nothing alive.
    this.#ctx = undefined;
    this.#inflight = new Map();
    this.#lifetime = undefined;
    logger.debug("{name} disposed in {elapsedMs} ms ({errors} error(s), {timedOut} timed out)", {
      name: this.name,
      elapsedMs,
      errors: ctx.errors.length,
      timedOut: ctx.timedOut.length,
    });
    settleDispose(this.name, this.#report, this.strictDispose);
  }

  #remaining(): number {
    const ctx = this.#ctx;
    return ctx ? Math.max(0, ctx.deadlineAt - performance.now()) : this.disposeTimeoutMs;
  }

  #settledList(): Promise<void>[] {
    return [...this.#inflight.values()].map((op) => op.settled);
  }

  async #runStep(step: Step): Promise<void> {
    const ctx = this.#ctx!;
    const t0 = performance.now();
    const done = (status: DisposeStepReport["status"], error?: unknown) => {
      ctx.steps.push({ name: step.name, status, elapsedMs: roundMs(performance.now() - t0) });
      if (status === "failed") {
        ctx.errors.push(error);
        ctx.failed.push(step.name);
      } else if (status === "timedOut") {
        ctx.timedOut.push(step.name);
      }
    };
    const controller = new AbortController();
    let result: unknown;
    try {
      result = step.release(controller.signal);
    } catch (err) {
      done("failed", err);
      return;
    }
    if (!isPromiseLike(result)) {
      done("ok");
      return;
    }
    const promise = Promise.resolve(result);
    let settled = false;
    let abandoned = false;
    // Registered before deadline()'s own handler, so `settled` is set by the time it rejects.
    promise.then(() => {
      settled = true;
    }, (error) => {
      settled = true;
      if (abandoned) {
        logger.warn("Release step {step} of {name} failed after its deadline: {error}", {
          step: step.name,
          name: this.name,
          error,
        });
      }
    });
    try {
      await deadline(promise, this.#remaining());
      done("ok");
    } catch (err) {
      if (settled) {
        done("failed", err);
        return;
      }
      abandoned = true;
      done("timedOut");
      controller.abort(
        new DOMException(
          `${this.name}: release step ${step.name} overran the budget`,
          "TimeoutError",
        ),
      );
    }
  }

  #removeTempDir(ctx: DisposeContext): void {
    const dir = this.#tempDir;
    this.#tempDir = undefined;
    if (!dir?.created) {
      dir?.[Symbol.dispose]();
      return;
    }
    const t0 = performance.now();
    try {
      dir[Symbol.dispose]();
      ctx.steps.push({
        name: "temp dir",
        status: "ok",
        elapsedMs: roundMs(performance.now() - t0),
      });
    } catch (err) {
      ctx.steps.push({
        name: "temp dir",
        status: "failed",
        elapsedMs: roundMs(performance.now() - t0),
      });
      ctx.errors.push(err);
      ctx.failed.push("temp dir");
    }
  }
}

function noop(): void {}

/** Releases a step that arrived after the release phase began: best effort, never awaited. */
function releaseLate(step: Step, owner: string): void {
  const onError = (error: unknown) =>
    logger.warn("Late release of {step} on closed {owner} failed: {error}", {
      step: step.name,
      owner,
      error,
    });
  try {
    const result = step.release(AbortSignal.abort(new ClientClosedError(owner)));
    if (isPromiseLike(result)) Promise.resolve(result).catch(onError);
  } catch (error) {
    onError(error);
  }
}
