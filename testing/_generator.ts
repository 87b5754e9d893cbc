/**
 * Archive generation off the request path, so the replica keeps answering every other request
 * meanwhile. Small archives are built in process (a round trip would cost more than them);
 * medium ones (a 1m month, a 1s day: well under 2 s) in Workers; the biggest (a month of 1s
 * klines is 2.7 M rows, ~390 MB of CSV to deflate, many seconds) in a child process, because
 * disposal must stop them at once and a Worker's `terminate()` only takes effect once its
 * running job returns — a killed process stops now. Without the `run` permission the biggest
 * go to the Workers too.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { fileURLToPath as fromFileUrl } from "node:url";
import { intervalMs } from "../src/market.ts";
import {
  type ArchiveCache,
  type ArchiveRef,
  buildArchive,
  type BuiltArchive,
  etagFor,
} from "./_archive.ts";
import type { Dataset, SymbolSpec } from "./_dataset.ts";
import type {
  ChildRequest,
  GeneratorInit,
  GeneratorJob,
  GeneratorReply,
} from "./_generator_protocol.ts";

/**
 * Archives with at least this many rows are built in the worker. Below it (a 1m day, 1h
 * months) building in process takes well under 100 ms and needs no worker at all.
 */
export const OFF_THREAD_ROWS = 20_000;

/**
 * Workers at most: a second one keeps a 1m month from queueing behind a 1s month that takes
 * seconds; more would only compete for the same cores.
 */
export const MAX_GENERATORS = 2;

/** Archives with at least this many rows are built in a child process (see the module doc). */
export const OUT_OF_PROCESS_ROWS = 250_000;

const CHILD = new URL("./_generator_child.ts", import.meta.url).href;
// The generator process starts helper Workers from its own modules: a local checkout needs
// read access to them (and only them); remote modules load without it.
const CHILD_READ = new URL("../", import.meta.url).protocol === "file:"
  ? [`--allow-read=${fromFileUrl(new URL("../", import.meta.url))}`]
  : [];

/** What the generator builds from. */
export interface ArchiveGeneratorOptions {
  /** The replica's dataset (the in-process path). */
  dataset: Dataset;
  /** The replica's built-archive cache (both paths fill it). */
  cache: ArchiveCache;
  /** DEFLATE level; undefined: the default for each archive's size (`archiveZipLevel`). */
  zipLevel?: number;
  /** How the worker rebuilds the same dataset. */
  init: Omit<GeneratorInit, "kind">;
}

interface Pending {
  resolve: (built: BuiltArchive | null) => void;
  reject: (error: Error) => void;
  job: GeneratorJob;
}

interface Slot {
  worker: Worker;
  job?: Pending;
}

/** Builds archives in process or in lazily started workers; shares builds in flight. */
export class ArchiveGenerator {
  readonly #o: ArchiveGeneratorOptions;
  readonly #inFlight = new Map<string, Promise<BuiltArchive | null>>();
  readonly #queue: Pending[] = [];
  readonly #slots: Slot[] = [];
  readonly #children = new Set<Deno.ChildProcess>();
  #nextId = 1;
  #closed = false;

  constructor(options: ArchiveGeneratorOptions) {
    this.#o = options;
  }

  /** Archives being built in a worker right now (queued ones included). */
  get generating(): number {
    return this.#inFlight.size;
  }

  /**
   * The archive of a published period: at once when cached or small, else a promise of the
   * worker's build (one build per archive, however many requests wait for it).
   */
  build(
    ref: ArchiveRef,
    spec: SymbolSpec,
    published: number,
  ): BuiltArchive | null | Promise<BuiltArchive | null> {
    const { dataset, cache, zipLevel } = this.#o;
    const rows = (ref.period.end - ref.period.start) / intervalMs(ref.interval, ref.period.start);
    if (rows < OFF_THREAD_ROWS) {
      return buildArchive(dataset, cache, ref, spec, published, zipLevel);
    }
    const shared = this.#inFlight.get(ref.key);
    if (shared) return shared;
    const hit = cache.get(ref.key);
    if (hit) return hit;
    if (this.#closed) return Promise.reject(new Error("Replica disposed"));
    const job: GeneratorJob = {
      kind: "build",
      id: this.#nextId++,
      key: ref.key,
      market: spec.marketType,
      symbol: spec.symbol,
      interval: ref.interval,
      period: ref.period,
      zipName: ref.zipName,
      klineKind: ref.kind,
      published,
      zipLevel,
    };
    const built = rows >= OUT_OF_PROCESS_ROWS && canRun()
      ? this.#inChild(job)
      : new Promise<BuiltArchive | null>((resolve, reject) => {
        this.#queue.push({ resolve, reject, job });
        this.#pump();
      });
    const promise = built.then((b) => {
      if (b) this.#o.cache.set(job.key, b);
      return b;
    }).finally(() => this.#inFlight.delete(ref.key));
    this.#inFlight.set(ref.key, promise);
    return promise;
  }

  #built(job: GeneratorJob, zip: Uint8Array, sha256: string): BuiltArchive {
    const etag = etagFor(job.key, this.#o.dataset.seed);
    return { zip, sha256, etag, lastModified: job.published };
  }

  /** Builds in a child process: stdin gets the request, stdout gives SHA-256 hex + zip. */
  async #inChild(job: GeneratorJob): Promise<BuiltArchive | null> {
    const { init } = this.#o;
    const request: ChildRequest = {
      init: {
        symbols: init.symbols,
        seed: init.seed,
        csv: init.csv,
        // Only this symbol's fixtures (in order: the first one may define its listing).
        fixtures: init.fixtures
          .filter((f) => f.marketType === job.market && f.symbol.toUpperCase() === job.symbol)
          .map((f) => ({ ...f, csv: Buffer.from(f.csv).toString("base64") })),
      },
      job,
    };
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-config", "--no-lock", "--no-prompt", ...CHILD_READ, CHILD],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#children.add(child);
    try {
      const output = child.output();
      const stdin = child.stdin.getWriter();
      await stdin.write(new TextEncoder().encode(JSON.stringify(request))).catch(() => {});
      await stdin.close().catch(() => {});
      const { success, stdout, stderr } = await output;
      if (this.#closed) throw new Error("Replica disposed");
      if (!success) {
        throw new Error(`Archive generator failed: ${new TextDecoder().decode(stderr).trim()}`);
      }
      if (stdout.length === 0) return null;
      return this.#built(
        job,
        stdout.subarray(64),
        new TextDecoder().decode(stdout.subarray(0, 64)),
      );
    } finally {
      this.#children.delete(child);
    }
  }

  /** Hands queued jobs to idle workers, starting one when all are busy and there is room. */
  #pump(): void {
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.job === undefined);
      if (!slot) {
        if (this.#slots.length >= MAX_GENERATORS) return;
        slot = this.#spawn();
      }
      slot.job = this.#queue.shift()!;
      slot.worker.postMessage(slot.job.job);
    }
  }

  #spawn(): Slot {
    const worker = new Worker(new URL("./_generator_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const slot: Slot = { worker };
    worker.onmessage = (e: MessageEvent<GeneratorReply>) => this.#onReply(slot, e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#fail(new Error(`Archive generator failed: ${e.message}`));
    };
    worker.onmessageerror = () =>
      this.#fail(new Error("Archive generator sent an unreadable reply"));
    const init: GeneratorInit = { kind: "init", ...this.#o.init };
    worker.postMessage(init);
    this.#slots.push(slot);
    return slot;
  }

  #onReply(slot: Slot, reply: GeneratorReply): void {
    const p = slot.job;
    if (!p || p.job.id !== reply.id) return;
    slot.job = undefined;
    this.#pump();
    if (!reply.ok) return p.reject(new Error(reply.message));
    p.resolve(reply.zip && this.#built(p.job, new Uint8Array(reply.zip), reply.sha256));
  }

  /** Ends every worker (mid-build: it stops at once) and fails every build in flight. */
  #fail(error: Error): void {
    const pending = [...this.#queue.splice(0)];
    for (const slot of this.#slots.splice(0)) {
      slot.worker.terminate();
      if (slot.job) pending.push(slot.job);
    }
    for (const p of pending) p.reject(error);
  }

  /**
   * Stops every generation: child processes are killed (they stop at once) and awaited,
   * Workers terminated; builds in flight and later builds of big archives fail.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#fail(new Error("Replica disposed"));
    const children = [...this.#children];
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }
    await Promise.allSettled([...children.map((c) => c.status), ...this.#inFlight.values()]);
  }
}

/** Whether this process may start the generator process (the `run` permission for deno). */
function canRun(): boolean {
  try {
    return Deno.permissions.querySync({ name: "run", command: Deno.execPath() }).state ===
      "granted";
  } catch {
    return false;
  }
}
