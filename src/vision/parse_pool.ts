/**
 * A pool of module Workers that turn kline zips into columns off the main thread: read (or
 * receive) → inflate + CRC → parse, with the columns' buffer transferred back (zero-copy).
 *
 * @module
 */
import { numberOption } from "../_options.ts";
import { allocateColumns, type KlineColumns } from "../klines.ts";
import { ArchiveError, ClientClosedError } from "../errors.ts";
import { runParseJob } from "./_parse_job.ts";
import type { WarmUpRequest, WorkerError, WorkerReply, WorkerRequest } from "./_parse_protocol.ts";

/**
 * The default number of parse workers: the CPU count, at most 4 (each worker holds ~23 MB,
 * and beyond 4 the downloads rather than the parsing set the pace).
 *
 * @example
 * ```ts
 * import { defaultParseWorkers } from "@vision-data/client/vision";
 * defaultParseWorkers() >= 1; // true
 * ```
 */
export function defaultParseWorkers(): number {
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency ?? 1));
}

/** Options for {@linkcode ParsePool}. */
export interface ParsePoolOptions {
  /**
   * How many workers at most (default {@linkcode defaultParseWorkers}). `0`
   * parses on the calling thread instead (no workers at all).
   */
  workers?: number;
  /**
   * Idle workers are terminated after this long without work (default 1000 ms) and
   * respawned on the next job. An idle Worker keeps Deno's event loop alive and cannot be
   * unref'd, so this bounds how long a pool that was never disposed delays process exit.
   */
  idleTimeoutMs?: number;
}

/** Options for one {@linkcode ParsePool} job. */
export interface ParseJobOptions {
  /** The archive's name for error messages (default: the path's last segment, or `"zip"`). */
  file?: string;
  /** Aborting rejects the job with the signal's reason (a running worker's result is dropped). */
  signal?: AbortSignal;
}

/** Options for {@linkcode ParsePool.parseZipBytes}. */
export interface ParseBytesOptions extends ParseJobOptions {
  /**
   * Transfer the zip's buffer to the worker instead of copying it. The caller's bytes become
   * unusable (detached); only done when `zip` spans its whole `ArrayBuffer`.
   */
  transfer?: boolean;
}

interface Job {
  request: WorkerRequest;
  transfer: Transferable[];
  resolve(columns: KlineColumns): void;
  reject(reason: unknown): void;
  settled: boolean;
  cleanup(): void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

const NAME = "ParsePool";
/**
 * Synthetic rows each worker parses in `warmUp()` (~2 ms). Measured on the 2-core bench
 * machine: a cold monthly year ~4 % faster with 2000 rows; 4× as many gained nothing more.
 */
const WARM_UP_ROWS = 2000;

/**
 * Parses Binance Vision kline zips into columns on a pool of module Workers.
 *
 * Workers start lazily on the first job (a pool that never parses starts none), each runs
 * one job at a time, and idle ones are terminated after `idleTimeoutMs`. Errors come back
 * as the same classes (`ArchiveError` with `file`/`line`, `Deno.errors.NotFound`, …).
 * Disposing terminates every worker and rejects pending jobs with `ClientClosedError`.
 *
 * @example
 * ```ts ignore
 * import { ParsePool } from "@vision-data/client/vision";
 * await using pool = new ParsePool({ workers: 2 });
 * const columns = await pool.parseZipFile("/tmp/BTCUSDT-1m-2024-01.zip");
 * columns.close.length; // 44640
 * ```
 */
export class ParsePool implements AsyncDisposable {
  /** The most workers this pool runs at once (0: parses on the calling thread). */
  readonly size: number;
  readonly #idleTimeoutMs: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #spawned = 0;

  /**
   * Creates a ParsePool.
   *
   * @param options worker count and idle timeout
   */
  constructor(options: ParsePoolOptions = {}) {
    const workers = numberOption("workers", options.workers, defaultParseWorkers(), {
      min: 0,
      integer: true,
    });
    const idle = numberOption("idleTimeoutMs", options.idleTimeoutMs, 1000, { min: 0 });
    this.size = workers;
    this.#idleTimeoutMs = idle;
  }

  /** Workers currently alive. */
  get liveWorkers(): number {
    return this.#slots.length;
  }

  /** Workers started over the pool's life (for tests and diagnostics). */
  get spawnedWorkers(): number {
    return this.#spawned;
  }

  /**
   * Starts all workers now rather than on the first job, so their start-up (tens of ms)
   * overlaps the first downloads, and has each parse a small synthetic CSV so the parser's
   * hot loop is already optimized when the first real file arrives. They still stop after
   * `idleTimeoutMs` without work.
   *
   * @example
   * ```ts ignore
   * import { ParsePool } from "@vision-data/client/vision";
   * await using pool = new ParsePool();
   * pool.warmUp();
   * ```
   */
  warmUp(): void {
    if (this.#closed) throw new ClientClosedError(NAME);
    while (this.#slots.length < this.size) {
      const slot = this.#spawn();
      // Queued ahead of any job: the worker warms its parser while the first downloads run.
      const warm: WarmUpRequest = { kind: "warm", rows: WARM_UP_ROWS };
      slot.worker.postMessage(warm);
    }
    this.#armIdleTimer();
  }

  /**
   * Reads the zip at `path` in a worker, inflates it, checks its CRC and parses the CSV.
   *
   * @param path a local file path
   * @param options file name for errors, abort signal
   * @returns the columns (their buffer was transferred from the worker)
   *
   * @example
   * ```ts ignore
   * import { ParsePool } from "@vision-data/client/vision";
   * await using pool = new ParsePool();
   * const c = await pool.parseZipFile("BTCUSDT-1m-2024-01-01.zip");
   * ```
   */
  parseZipFile(path: string, options: ParseJobOptions = {}): Promise<KlineColumns> {
    const file = options.file ?? (path.split(/[\\/]/).pop() || path);
    return this.#submit({ id: 0, kind: "path", path, file }, [], options.signal);
  }

  /**
   * Parses zip bytes in a worker (copied to it, or transferred with `transfer: true`).
   *
   * @param zip the archive bytes
   * @param options file name for errors, abort signal, transfer
   * @returns the columns
   *
   * @example
   * ```ts ignore
   * import { ParsePool } from "@vision-data/client/vision";
   * await using pool = new ParsePool();
   * const zip = await Deno.readFile("BTCUSDT-1m-2024-01-01.zip");
   * const c = await pool.parseZipBytes(zip, { file: "BTCUSDT-1m-2024-01-01.zip", transfer: true });
   * ```
   */
  parseZipBytes(zip: Uint8Array, options: ParseBytesOptions = {}): Promise<KlineColumns> {
    const whole = zip.byteOffset === 0 && zip.byteLength === zip.buffer.byteLength &&
      zip.buffer instanceof ArrayBuffer;
    const transfer = options.transfer && whole ? [zip.buffer as ArrayBuffer] : [];
    // Posting a view clones its whole buffer: copy just the view when it is part of one.
    const bytes = whole ? zip : zip.slice();
    const file = options.file ?? "zip";
    return this.#submit({ id: 0, kind: "bytes", zip: bytes, file }, transfer, options.signal);
  }

  #submit(
    request: WorkerRequest,
    transfer: Transferable[],
    signal: AbortSignal | undefined,
  ): Promise<KlineColumns> {
    if (this.#closed) return Promise.reject(new ClientClosedError(NAME));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.size === 0) return parseInline(request);
    request.id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<KlineColumns>();
    const onAbort = () => {
      const at = this.#queue.indexOf(job);
      if (at >= 0) this.#queue.splice(at, 1);
      // A running job's worker finishes (a file takes tens of ms); its result is dropped.
      settle(job, () => reject(signal!.reason));
      this.#armIdleTimer();
    };
    const job: Job = {
      request,
      transfer,
      resolve,
      reject,
      settled: false,
      cleanup: () => signal?.removeEventListener("abort", onAbort),
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#queue.push(job);
    this.#pump();
    return promise;
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.job === undefined);
      if (!slot) {
        if (this.#slots.length >= this.size) break;
        slot = this.#spawn();
      }
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.worker.postMessage(job.request, job.transfer);
    }
    this.#armIdleTimer();
  }

  #spawn(): Slot {
    const worker = new Worker(new URL("./_parse_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const slot: Slot = { worker };
    worker.onmessage = (e: MessageEvent<WorkerReply>) => this.#onReply(slot, e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#onCrash(slot, new Error(`Parse worker failed: ${e.message}`));
    };
    worker.onmessageerror = () => {
      this.#onCrash(slot, new Error("Parse worker sent a message that could not be read"));
    };
    this.#slots.push(slot);
    this.#spawned++;
    return slot;
  }

  #onReply(slot: Slot, reply: WorkerReply): void {
    const job = slot.job;
    slot.job = undefined;
    if (job && job.request.id === reply.id) {
      if (reply.ok) {
        settle(job, () => job.resolve(allocateColumns(reply.rows, reply.buffer)));
      } else {
        settle(job, () => job.reject(rebuildError(reply.error)));
      }
    }
    this.#pump();
  }

  #onCrash(slot: Slot, error: Error): void {
    slot.worker.terminate();
    this.#slots.splice(this.#slots.indexOf(slot), 1);
    const job = slot.job;
    if (job) settle(job, () => job.reject(error));
    this.#pump();
  }

  /** Terminates idle workers once nothing has run for `idleTimeoutMs`. */
  #armIdleTimer(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    if (this.#closed || this.#slots.length === 0) return;
    if (this.#queue.length > 0 || this.#slots.some((s) => s.job)) return;
    const timer = setTimeout(() => {
      this.#idleTimer = undefined;
      for (const slot of this.#slots.splice(0)) slot.worker.terminate();
    }, this.#idleTimeoutMs);
    // The timer itself must never be what keeps a process alive.
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  /**
   * Terminates every worker (synchronously: a busy one stops mid-parse) and rejects queued
   * and running jobs with `ClientClosedError`. Idempotent.
   *
   * @example
   * ```ts ignore
   * import { ParsePool } from "@vision-data/client/vision";
   * const pool = new ParsePool();
   * await pool[Symbol.asyncDispose]();
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const error = new ClientClosedError(NAME);
    for (const slot of this.#slots.splice(0)) {
      slot.worker.terminate();
      const job = slot.job;
      if (job) settle(job, () => job.reject(error));
    }
    for (const job of this.#queue.splice(0)) settle(job, () => job.reject(error));
    return Promise.resolve();
  }
}

function settle(job: Job, fn: () => void): void {
  if (job.settled) return;
  job.settled = true;
  job.cleanup();
  fn();
}

/** The `workers: 0` path: the same work on the calling thread. */
function parseInline(request: WorkerRequest): Promise<KlineColumns> {
  try {
    return Promise.resolve(runParseJob(request));
  } catch (err) {
    return Promise.reject(err);
  }
}

const STANDARD_ERRORS: Record<string, ErrorConstructor | undefined> = {
  TypeError,
  RangeError,
  SyntaxError,
};

/** Errors cross the worker boundary as plain data; give them back their class. */
function rebuildError(e: WorkerError): Error {
  if (e.name === "ArchiveError") return new ArchiveError(e.message, { file: e.file, line: e.line });
  const known = (Deno.errors as unknown as Record<string, ErrorConstructor | undefined>)[e.name] ??
    STANDARD_ERRORS[e.name];
  if (known) return new known(e.message);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
