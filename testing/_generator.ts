/**
 * Archive generation off the request path: big archives (a month of 1s klines is 2.7 M rows,
 * ~390 MB of CSV to deflate) are built in a Worker, so the replica keeps answering every other
 * request meanwhile, and disposal stops a generation at once (the worker is terminated).
 * Small archives are still built in process: a worker round trip would cost more than them.
 *
 * @module
 */
import { intervalMs } from "../src/market.ts";
import {
  type ArchiveCache,
  type ArchiveRef,
  buildArchive,
  type BuiltArchive,
  etagFor,
} from "./_archive.ts";
import type { Dataset, SymbolSpec } from "./_dataset.ts";
import type { GeneratorInit, GeneratorJob, GeneratorReply } from "./_generator_protocol.ts";

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

/** What the generator builds from. */
export interface ArchiveGeneratorOptions {
  /** The replica's dataset (the in-process path). */
  dataset: Dataset;
  /** The replica's built-archive cache (both paths fill it). */
  cache: ArchiveCache;
  /** DEFLATE level. */
  zipLevel: number;
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
      published,
      zipLevel,
    };
    const promise = new Promise<BuiltArchive | null>((resolve, reject) => {
      this.#queue.push({ resolve, reject, job });
    }).finally(() => this.#inFlight.delete(ref.key));
    this.#inFlight.set(ref.key, promise);
    this.#pump();
    return promise;
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
    if (reply.zip === null) return p.resolve(null);
    const built: BuiltArchive = {
      zip: new Uint8Array(reply.zip),
      sha256: reply.sha256,
      etag: etagFor(p.job.key, this.#o.dataset.seed),
      lastModified: p.job.published,
    };
    this.#o.cache.set(p.job.key, built);
    p.resolve(built);
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

  /** Stops any generation at once; later builds of big archives fail. */
  close(): void {
    this.#closed = true;
    this.#fail(new Error("Replica disposed"));
  }
}
