/**
 * A helper Worker of the parallel archive build (`_archive_parallel.ts`): rebuilds the
 * replica's dataset from the init message, then builds the pieces it is sent, one at a time,
 * posting each one's DEFLATE bytes back transferred.
 *
 * Its import graph is relative paths and `node:` only, so it loads under any configuration.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { AsciiWriter } from "./_ascii.ts";
import { buildPiece, PIECE_ROWS } from "./_archive_pieces.ts";
import { Dataset } from "./_dataset.ts";
import type { PieceReply, PieceRequest } from "./_archive_parallel.ts";

let dataset: Dataset | undefined;
const buffer = new AsciiWriter(PIECE_ROWS * 160);

self.onmessage = (e: MessageEvent<PieceRequest>) => {
  const msg = e.data;
  if (msg.kind === "init") {
    dataset = new Dataset(msg.symbols, msg.seed, msg.fixtures, msg.csv);
    return;
  }
  let reply: PieceReply;
  try {
    const spec = dataset?.spec(msg.market, msg.symbol);
    if (!dataset || !spec) {
      throw new Error(`Piece worker does not list ${msg.market} ${msg.symbol}`);
    }
    const piece = buildPiece(dataset, spec, msg.job, buffer);
    // Transfer a buffer of its own (never a shared pool the worker keeps using).
    const d = piece.deflated;
    const own = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength ? d : d.slice();
    reply = { index: msg.index, ok: true, piece: { ...piece, deflated: own } };
    self.postMessage(reply, [own.buffer as ArrayBuffer]);
    return;
  } catch (err) {
    reply = {
      index: msg.index,
      ok: false,
      message: err instanceof Error ? err.message : String(err),
    };
  }
  self.postMessage(reply);
};
