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

/** Builds archives in process or in one lazily started worker; shares builds in flight. */
export class ArchiveGenerator {
  readonly #o: ArchiveGeneratorOptions;
  readonly #inFlight = new Map<string, Promise<BuiltArchive | null>>();
  readonly #pending = new Map<number, Pending>();
  #worker: Worker | undefined;
  #nextId = 1;
  #closed = false;

  constructor(options: ArchiveGeneratorOptions) {
    this.#o = options;
  }

  /** Archives being built in the worker right now (queued ones included). */
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
      this.#pending.set(job.id, { resolve, reject, job });
    }).finally(() => this.#inFlight.delete(ref.key));
    this.#inFlight.set(ref.key, promise);
    this.#spawn().postMessage(job);
    return promise;
  }

  #spawn(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL("./_generator_worker.ts", import.meta.url).href, {
      type: "module",
    });
    worker.onmessage = (e: MessageEvent<GeneratorReply>) => this.#onReply(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#fail(new Error(`Archive generator failed: ${e.message}`));
    };
    worker.onmessageerror = () =>
      this.#fail(new Error("Archive generator sent an unreadable reply"));
    const init: GeneratorInit = { kind: "init", ...this.#o.init };
    worker.postMessage(init);
    this.#worker = worker;
    return worker;
  }

  #onReply(reply: GeneratorReply): void {
    const p = this.#pending.get(reply.id);
    if (!p) return;
    this.#pending.delete(reply.id);
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

  /** Ends the worker (mid-build: it stops at once) and fails every build in flight. */
  #fail(error: Error): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }

  /** Stops any generation at once; later builds of big archives fail. */
  close(): void {
    this.#closed = true;
    this.#fail(new Error("Replica disposed"));
  }
}
