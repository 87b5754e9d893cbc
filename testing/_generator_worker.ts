/**
 * The module Worker behind the replica's `ArchiveGenerator`: rebuilds the replica's dataset
 * from the init message, then builds archives one at a time with the same recipe as the
 * in-process path (`makeArchive`), posting each zip back transferred.
 *
 * Its import graph is relative paths and `node:` only, so it loads the same under deno.json
 * and the offline import map.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { makeArchive } from "./_archive.ts";
import { Dataset } from "./_dataset.ts";
import type { GeneratorInit, GeneratorJob, GeneratorReply } from "./_generator_protocol.ts";

let dataset: Dataset | undefined;

self.onmessage = (e: MessageEvent<GeneratorInit | GeneratorJob>) => {
  const msg = e.data;
  if (msg.kind === "init") {
    dataset = new Dataset(msg.symbols, msg.seed, msg.fixtures, msg.csv);
    return;
  }
  let reply: GeneratorReply;
  try {
    const spec = dataset?.spec(msg.market, msg.symbol);
    if (!dataset || !spec) throw new Error(`Generator does not list ${msg.market} ${msg.symbol}`);
    const built = makeArchive(
      dataset,
      { ...msg, kind: msg.klineKind },
      spec,
      msg.published,
      msg.zipLevel,
    );
    if (built === null) {
      reply = { id: msg.id, ok: true, zip: null, sha256: "" };
    } else {
      const whole = built.zip.byteOffset === 0 && built.zip.buffer.byteLength === built.zip.length;
      const zip = whole ? built.zip.buffer as ArrayBuffer : built.zip.slice().buffer as ArrayBuffer;
      reply = { id: msg.id, ok: true, zip, sha256: built.sha256 };
      self.postMessage(reply, [zip]);
      return;
    }
  } catch (err) {
    reply = { id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  self.postMessage(reply);
};
