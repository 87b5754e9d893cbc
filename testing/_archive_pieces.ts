/**
 * Big kline archives built in pieces: the period is cut into time slices of a fixed number of
 * candles; each slice's CSV is formatted into a reused buffer, CRC'd and deflated on its own
 * (sync-flushed, the last finished — see `_chunked_deflate.ts`). Pieces are independent, so any
 * thread can build any of them; the cut depends only on the archive (interval, period, mounted
 * days), never on who builds it, so every path serves the same bytes.
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { type Interval, intervalMs } from "../src/market.ts";
import type { KlineKind } from "../src/kline_kind.ts";
import { AsciiWriter } from "./_ascii.ts";
import { concatBytes, deflatePiece } from "./_chunked_deflate.ts";
import type { Dataset, SymbolSpec } from "./_dataset.ts";
import { createZip } from "./_zip_writer.ts";

/** Candles per piece (a 1s piece is ~9 h, ~5 MB of CSV). */
export const PIECE_ROWS = 32_768;

/** One piece to build: the archive's period and the slice `[from, to)` of open times. */
export interface PieceJob {
  interval: Interval;
  /** The period's start (its CSV rules) and the replica "now" the period was built at. */
  start: number;
  now: number;
  kind: KlineKind;
  from: number;
  to: number;
  /** First piece (carries the header) / last piece (finishes the DEFLATE stream). */
  first: boolean;
  last: boolean;
  level: number;
}

/** A built piece. */
export interface Piece {
  /** Raw DEFLATE bytes (sync-flushed, or finished when last). */
  deflated: Uint8Array;
  /** CRC-32 of the piece's CSV bytes. */
  crc32: number;
  /** CSV bytes. */
  size: number;
  /** Candles in it. */
  rows: number;
}

/**
 * The time slices of an archive period, or null when it is built whole (mounted real days, a
 * calendar interval, or fewer than two pieces' worth of candles).
 */
export function pieceRanges(
  dataset: Dataset,
  spec: SymbolSpec,
  interval: Interval,
  period: { start: number; end: number },
  kind: KlineKind,
): [number, number][] | null {
  if (interval === "1M" || (kind === "trades" && dataset.hasFixtures(spec, interval))) return null;
  const span = PIECE_ROWS * intervalMs(interval);
  if (period.end - period.start < 2 * span) return null;
  const out: [number, number][] = [];
  for (let t = period.start; t < period.end; t += span) {
    out.push([t, Math.min(period.end, t + span)]);
  }
  return out;
}

/** The jobs of an archive's pieces (see {@linkcode pieceRanges}). */
export function pieceJobs(
  ranges: readonly [number, number][],
  q: Omit<PieceJob, "from" | "to" | "first" | "last">,
): PieceJob[] {
  return ranges.map(([from, to], i) => ({
    ...q,
    from,
    to,
    first: i === 0,
    last: i === ranges.length - 1,
  }));
}

/** Builds one piece, formatting into `buffer` (reused: its content is replaced). */
export function buildPiece(
  dataset: Dataset,
  spec: SymbolSpec,
  job: PieceJob,
  buffer: AsciiWriter,
): Piece {
  buffer.pos = 0;
  const rows = dataset.writePeriodCsvPiece(buffer, { ...job, spec }, job.from, job.to, job.first);
  const csv = buffer.bytes();
  return {
    deflated: deflatePiece(csv, job.level, job.last),
    crc32: crc32(csv) >>> 0,
    size: csv.length,
    rows,
  };
}

/** The zip of an archive's pieces (in order), or null when they hold no candles. */
export function zipOfPieces(
  name: string,
  pieces: readonly Piece[],
  modified: Date,
): Uint8Array<ArrayBuffer> | null {
  if (pieces.every((p) => p.rows === 0)) return null;
  let crc = 0;
  let size = 0;
  for (const p of pieces) {
    crc = crc32Combine(crc, p.crc32, p.size);
    size += p.size;
  }
  const body = concatBytes(pieces.map((p) => p.deflated));
  return createZip([{
    name,
    data: new Uint8Array(0),
    modified,
    deflated: { body, crc32: crc, size },
  }]);
}

/** Sequential build of every piece on this thread (the in-process and Worker paths). */
export function buildPieces(
  dataset: Dataset,
  spec: SymbolSpec,
  jobs: readonly PieceJob[],
): Piece[] {
  const buffer = new AsciiWriter(PIECE_ROWS * 160);
  return jobs.map((job) => buildPiece(dataset, spec, job, buffer));
}

// ---- CRC-32 of a concatenation from the parts' CRCs (zlib's crc32_combine) ----
function gf2Times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  for (let i = 0; vec !== 0; i++, vec >>>= 1) if (vec & 1) sum ^= mat[i];
  return sum >>> 0;
}

function gf2Square(square: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(mat, mat[n]);
}

/**
 * CRC-32 of `A ‖ B` from `crc(A)`, `crc(B)` and `B`'s length: pieces built on different
 * threads are CRC'd there, and the zip stores one CRC of the whole entry.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the CRC-32 polynomial: the operator for one zero bit
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row;
  gf2Square(even, odd); // two zero bits
  gf2Square(odd, even); // four
  let crc = crcA >>> 0;
  let len = lengthB;
  // Apply len zero bytes to crcA (the first square gives the operator for one byte).
  for (;;) {
    gf2Square(even, odd);
    if (len % 2 === 1) crc = gf2Times(even, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
    gf2Square(odd, even);
    if (len % 2 === 1) crc = gf2Times(odd, crc);
    len = Math.floor(len / 2);
    if (len === 0) break;
  }
  return (crc ^ crcB) >>> 0;
}
