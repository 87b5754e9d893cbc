/**
 * The module Worker behind {@linkcode ParsePool}: runs one job at a time (the pool queues)
 * and posts the columns back with their single buffer transferred (zero-copy).
 *
 * Its runtime import graph is relative paths and `node:` only (no bare specifiers, no
 * `apache-arrow`), so it loads the same under deno.json and the offline import map and
 * starts fast. (Deno 2.9 workers do inherit the parent's import map; this does not rely on it.)
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { runParseJob, warmUpParser } from "./_parse_job.ts";
import type { WarmUpRequest, WorkerReply, WorkerRequest } from "./_parse_protocol.ts";

self.onmessage = (e: MessageEvent<WorkerRequest | WarmUpRequest>) => {
  const request = e.data;
  if (request.kind === "warm") {
    warmUpParser(request.rows);
    return;
  }
  const { id } = request;
  let reply: WorkerReply;
  try {
    // The zip was transferred or copied here: this worker owns it.
    const columns = runParseJob(request, { ownsZip: true });
    const buffer = columns.openTime.buffer as ArrayBuffer;
    reply = { id, ok: true, rows: columns.openTime.length, buffer };
    self.postMessage(reply, [buffer]);
    return;
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    const { file, line } = error as { file?: string; line?: number };
    reply = { id, ok: false, error: { name: error.name, message: error.message, file, line } };
  }
  self.postMessage(reply);
};
