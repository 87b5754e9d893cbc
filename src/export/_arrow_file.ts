/**
 * The Arrow IPC file writer of the streaming exports, for any chunk type: one record batch
 * per chunk, the footer at the end. apache-arrow's writer queues its bytes; a pump hands them
 * to the sink, and each chunk waits until its bytes are taken, so at most one chunk's bytes
 * are queued.
 *
 * @module
 */
import { type RecordBatch, RecordBatchFileWriter } from "apache-arrow";
import type { ChunkWriter } from "./_parquet_wasm.ts";

/** An Arrow IPC file writer into `sink`; `empty` is the chunk written when there was none. */
export function recordBatchArrowWriter<T>(
  sink: (bytes: Uint8Array) => Promise<unknown>,
  toBatch: (chunk: T) => RecordBatch,
  empty: () => T,
): ChunkWriter<T> {
  const writer = new RecordBatchFileWriter();
  let taken = 0;
  let failed: unknown;
  let wake: (() => void) | undefined;
  const pump = (async () => {
    try {
      for await (const bytes of writer) {
        await sink(bytes);
        taken += bytes.byteLength;
        wake?.();
      }
    } catch (err) {
      failed = err;
      wake?.();
    }
  })();
  let queued = 0;
  const drained = async (bytes: number) => {
    queued += bytes;
    // `bytes` underestimates (no message headers or padding): waiting for it is safe.
    while (taken < queued && failed === undefined) {
      await new Promise<void>((resolve) => wake = resolve);
    }
    if (failed !== undefined) throw failed;
  };
  let started = false;
  return {
    async write(chunk) {
      started = true;
      const batch = toBatch(chunk);
      writer.write(batch);
      await drained(batch.data.children.reduce((s, c) => s + (c.values?.byteLength ?? 0), 0));
    },
    async finish() {
      if (!started) writer.write(toBatch(empty()));
      writer.close(); // writes the footer
      await pump;
      if (failed !== undefined) throw failed;
    },
    async abort() {
      writer.abort();
      await pump;
    },
  };
}
