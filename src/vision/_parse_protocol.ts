/**
 * Messages between {@linkcode ParsePool} and `_parse_worker.ts` (types only).
 *
 * @module
 */

/** A job: a zip on disk, or zip bytes. */
export type WorkerRequest =
  & { id: number; file: string }
  & ({ kind: "path"; path: string } | { kind: "bytes"; zip: Uint8Array });

/**
 * Not a job: parse a small synthetic CSV so the hot loop is optimized before the first
 * real file arrives. The worker sends no reply.
 */
export interface WarmUpRequest {
  kind: "warm";
  /** Synthetic rows to parse. */
  rows: number;
}

/** A serialized error (rebuilt as the right class on the main side). */
export interface WorkerError {
  name: string;
  message: string;
  file?: string;
  line?: number;
}

/** The answer: the columns' buffer (transferred) and row count, or an error. */
export type WorkerReply =
  | { id: number; ok: true; rows: number; buffer: ArrayBuffer }
  | { id: number; ok: false; error: WorkerError };
