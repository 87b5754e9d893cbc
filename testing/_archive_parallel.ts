/**
 * The parallel build of a big kline archive: its pieces (`_archive_pieces.ts`) are built by
 * this thread and helper Workers at once, then joined in order — the same bytes as the
 * sequential build, since a piece's bytes do not depend on who built it. Used by the
 * out-of-process generator, whose death (kill on dispose) ends its helpers too.
 *
 * @module
 */
import type { MarketType } from "../src/market.ts";
import {
  type ArchiveRef,
  archiveZipLevel,
  type BuiltArchive,
  builtArchive,
  etagFor,
  makeArchive,
  periodDataEnd,
  periodRows,
} from "./_archive.ts";
import { AsciiWriter } from "./_ascii.ts";
import {
  buildPiece,
  type Piece,
  PIECE_ROWS,
  type PieceJob,
  pieceJobs,
  pieceRanges,
  zipOfPieces,
} from "./_archive_pieces.ts";
import type { Dataset, SymbolSpec } from "./_dataset.ts";
import type { GeneratorInit } from "./_generator_protocol.ts";

/** A message to a piece worker: the dataset (first), then pieces to build. */
export type PieceRequest =
  | GeneratorInit
  | { kind: "piece"; index: number; market: MarketType; symbol: string; job: PieceJob };

/** A piece worker's answer. */
export type PieceReply =
  | { index: number; ok: true; piece: Piece }
  | { index: number; ok: false; message: string };

/** Pieces handed to a helper ahead, so it never waits while this thread builds one. */
const AHEAD = 2;

/** Helper Workers: the other cores (at least one, at most three). */
export function defaultHelpers(): number {
  return Math.max(1, Math.min(3, (navigator.hardwareConcurrency ?? 2) - 1));
}

/**
 * Builds an archive like `makeArchive`, its pieces spread over this thread and `helpers`
 * Workers (archives built whole go through `makeArchive` as they are).
 */
export async function makeArchiveParallel(
  dataset: Dataset,
  init: Omit<GeneratorInit, "kind">,
  ref: Pick<ArchiveRef, "key" | "interval" | "period" | "zipName" | "kind">,
  spec: SymbolSpec,
  published: number,
  zipLevel: number | undefined,
  helpers: number = defaultHelpers(),
): Promise<BuiltArchive | null> {
  const ranges = pieceRanges(dataset, spec, ref.interval, ref.period, ref.kind);
  if (!ranges || helpers < 1) return makeArchive(dataset, ref, spec, published, zipLevel);
  const jobs = pieceJobs(ranges, {
    interval: ref.interval,
    start: ref.period.start,
    now: periodDataEnd(ref.interval, ref.period),
    kind: ref.kind,
    level: archiveZipLevel(zipLevel, periodRows(ref.interval, ref.period)),
  });
  const pieces: Piece[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  let failure: Error | undefined;
  const { promise: finished, resolve, reject } = Promise.withResolvers<void>();
  finished.catch(() => {}); // a failure is rethrown below, whenever it happens
  const complete = () => {
    if (++done === jobs.length) resolve();
  };
  const workers: Worker[] = [];
  const send = (w: Worker) => {
    if (next >= jobs.length || failure) return;
    const index = next++;
    const msg: PieceRequest = {
      kind: "piece",
      index,
      market: spec.marketType,
      symbol: spec.symbol,
      job: jobs[index],
    };
    w.postMessage(msg);
  };
  const fail = (error: Error) => {
    failure ??= error;
    reject(failure);
  };
  try {
    for (let i = 0; i < helpers; i++) {
      const w = new Worker(new URL("./_piece_worker.ts", import.meta.url).href, { type: "module" });
      workers.push(w);
      w.onmessage = (e: MessageEvent<PieceReply>) => {
        const r = e.data;
        if (!r.ok) return fail(new Error(r.message));
        pieces[r.index] = r.piece;
        complete();
        send(w);
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        fail(new Error(`Piece worker failed: ${e.message}`));
      };
      const initMsg: PieceRequest = { kind: "init", ...init };
      w.postMessage(initMsg);
      for (let k = 0; k < AHEAD; k++) send(w);
    }
    // This thread builds pieces too, yielding between them so helpers' replies are taken in.
    const buffer = new AsciiWriter(PIECE_ROWS * 160);
    while (next < jobs.length && !failure) {
      const index = next++;
      pieces[index] = buildPiece(dataset, spec, jobs[index], buffer);
      complete();
      await new Promise((r) => setTimeout(r, 0));
    }
    if (done < jobs.length) await finished;
    if (failure) throw failure;
  } finally {
    for (const w of workers) w.terminate();
  }
  const zip = zipOfPieces(ref.zipName.replace(/\.zip$/, ".csv"), pieces, new Date(published));
  return zip && builtArchive(zip, etagFor(ref.key, dataset.seed), published);
}
