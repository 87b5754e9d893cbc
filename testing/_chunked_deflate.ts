/**
 * DEFLATE in independent pieces (pigz-style): the data is cut at fixed byte offsets, each piece
 * is compressed on its own and ended with a sync flush (byte-aligned, not final), the last one
 * finished; the pieces concatenated are one valid raw DEFLATE stream. The bytes depend only on
 * the data and the level — never on which thread or process compressed which piece — so every
 * path that builds an archive serves the same bytes.
 *
 * @module
 */
import { constants, deflateRawSync } from "node:zlib";

/** Bytes of uncompressed data per piece (a piece is a unit of work a helper can take). */
export const DEFLATE_PIECE_BYTES = 4 * 1024 * 1024;

/** The `[start, end)` byte ranges the data is cut into (at least one, even when empty). */
export function deflatePieces(length: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < length; a += DEFLATE_PIECE_BYTES) {
    out.push([a, Math.min(length, a + DEFLATE_PIECE_BYTES)]);
  }
  return out.length > 0 ? out : [[0, 0]];
}

/** Compresses one piece: sync-flushed, or finished when it is the last. */
export function deflatePiece(piece: Uint8Array, level: number, last: boolean): Uint8Array {
  return deflateRawSync(piece, {
    level,
    finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
  });
}

/**
 * Compresses `data` piece by piece on this thread; the same bytes as compressing the pieces
 * anywhere else and concatenating them in order.
 *
 * @example
 * ```ts ignore
 * import { inflateRawSync } from "node:zlib";
 * const data = new TextEncoder().encode("1,2\n".repeat(10));
 * inflateRawSync(deflateInPieces(data, 1)).length; // 40
 * ```
 */
export function deflateInPieces(data: Uint8Array, level: number): Uint8Array {
  const ranges = deflatePieces(data.length);
  const parts = ranges.map(([a, b], i) =>
    deflatePiece(data.subarray(a, b), level, i === ranges.length - 1)
  );
  return concatBytes(parts);
}

/** The pieces one after another in one buffer. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
