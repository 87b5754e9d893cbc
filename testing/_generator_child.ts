/**
 * The replica's out-of-process archive generator: reads one build request (JSON) from stdin,
 * writes the zip's SHA-256 (64 hex digits) and then the zip to stdout, and exits; it writes
 * nothing when the period holds no rows. The archive's pieces are built on this thread and
 * helper Workers at once (`makeArchiveParallel`). A process, not a Worker, for the biggest archives:
 * disposal must stop a generation at once, and killing a process is the one way to end a
 * DEFLATE that is running (a Worker's `terminate()` waits for it).
 *
 * Its import graph is relative paths and `node:` only, so it runs with `--no-config`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { makeArchiveParallel } from "./_archive_parallel.ts";
import { Dataset } from "./_dataset.ts";
import type { ChildRequest } from "./_generator_protocol.ts";

async function main(): Promise<void> {
  const text = await new Response(Deno.stdin.readable).text();
  const { init, job } = JSON.parse(text) as ChildRequest;
  const fixtures = init.fixtures.map((f) => ({
    ...f,
    csv: new Uint8Array(Buffer.from(f.csv, "base64")),
  }));
  const dataset = new Dataset(init.symbols, init.seed, fixtures, init.csv);
  const spec = dataset.spec(job.market, job.symbol);
  if (!spec) throw new Error(`Generator does not list ${job.market} ${job.symbol}`);
  // Pieces spread over this thread and helper Workers: killing the process ends them all.
  const built = await makeArchiveParallel(
    dataset,
    { ...init, fixtures },
    { ...job, kind: job.klineKind },
    spec,
    job.published,
    job.zipLevel,
  );
  if (built === null) return;
  const out = Deno.stdout.writable.getWriter();
  await out.write(new TextEncoder().encode(built.sha256));
  await out.write(built.zip);
  await out.close();
}

if (import.meta.main) await main();
