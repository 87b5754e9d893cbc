/**
 * An aggTrades archive parsed piece by piece: the CSV entry is inflated as a stream
 * (`DecompressionStream("deflate-raw")`) and parsed every few MiB at a line boundary, so
 * memory holds the zip and one piece's columns — never the whole CSV (a busy day's is
 * ~180 MB) nor the whole day's columns. CRC-32 and size are checked against the central
 * directory at the end (the zip's SHA-256 was verified against its CHECKSUM before).
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { ArchiveError } from "../errors.ts";
import { findSingleEntry, zipEntryData } from "../vision/zip.ts";
import { parseAggTradesCsv } from "./_csv.ts";
import type { AggTradeColumns } from "./columns.ts";

const LF = 10;
/** Compressed bytes handed to the inflater at once (≈ 1 MiB of CSV out). */
const INPUT_SLICE = 1 << 18;

/** CSV bytes parsed at once (≈ 60 000 rows of a busy day). */
export const PIECE_BYTES = 4 << 20;

/**
 * The columns of the archive `zip` (named `zipName`), in file order, one piece (about
 * `pieceBytes` of CSV; the inflater's output for `inputSlice` compressed bytes at least) at a
 * time.
 *
 * @throws {ArchiveError} on a malformed archive or row, a CRC or size mismatch
 */
export async function* parseAggTradesZip(
  zip: Uint8Array,
  zipName: string,
  sizes: { pieceBytes?: number; inputSlice?: number } = {},
): AsyncGenerator<AggTradeColumns> {
  const pieceBytes = sizes.pieceBytes ?? PIECE_BYTES;
  const entry = findSingleEntry(zip, { file: zipName });
  const data = zipEntryData(zip, entry, { file: zipName });
  const where = `${zipName} (entry ${entry.name})`;
  if (entry.method !== 0 && entry.method !== 8) {
    throw new ArchiveError(
      `${where}: unsupported compression method ${entry.method} (only 0 STORED and 8 DEFLATE)`,
      { file: zipName },
    );
  }
  // Fed in slices: the inflater answers each input chunk with its whole output.
  const input = ReadableStream.from<BufferSource>(slices(data, sizes.inputSlice ?? INPUT_SLICE));
  const source = (entry.method === 0 ? input : input.pipeThrough(
    new DecompressionStream("deflate-raw"),
  )) as ReadableStream<Uint8Array>;
  let crc = 0;
  let total = 0;
  let line = 1;
  let first = true;
  let parts: Uint8Array[] = [];
  let held = 0;
  /** Parses the held bytes up to their last line end (all of them at the end). */
  const take = (final: boolean): AggTradeColumns | undefined => {
    const buf = parts.length === 1 ? parts[0] : concat(parts, held);
    const cut = final ? buf.length : buf.lastIndexOf(LF) + 1;
    if (cut === 0) {
      parts = [buf]; // one line longer than a piece: wait for its end
      return undefined;
    }
    const piece = buf.subarray(0, cut);
    const columns = parseAggTradesCsv(piece, entry.name, { header: first, firstLine: line });
    // Lines consumed: one per row, plus the header of the first piece if it had one.
    line += first ? countLines(piece) : columns.aggTradeId.length;
    first = false;
    const rest = buf.slice(cut);
    parts = rest.length > 0 ? [rest] : [];
    held = rest.length;
    return columns;
  };
  for await (const bytes of source) {
    total += bytes.length;
    if (total > entry.size) {
      throw new ArchiveError(
        `${where}: inflates to more than the ${entry.size} bytes the directory says`,
        {
          file: zipName,
        },
      );
    }
    crc = crc32(bytes, crc);
    parts.push(bytes);
    held += bytes.length;
    if (held >= pieceBytes) {
      const columns = take(false);
      if (columns && columns.aggTradeId.length > 0) yield columns;
    }
  }
  if (total !== entry.size) {
    throw new ArchiveError(
      `${where}: corrupt (${total} bytes inflated, directory says ${entry.size})`,
      { file: zipName },
    );
  }
  if (crc >>> 0 !== entry.crc32) {
    throw new ArchiveError(`${where}: CRC-32 mismatch`, { file: zipName });
  }
  if (held > 0) {
    const columns = take(true);
    if (columns && columns.aggTradeId.length > 0) yield columns;
  }
}

function* slices(bytes: Uint8Array, size: number): Generator<Uint8Array<ArrayBuffer>> {
  for (let at = 0; at < bytes.length; at += size) {
    yield bytes.subarray(at, at + size) as Uint8Array<ArrayBuffer>;
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, i + 1)) n++;
  return n;
}
