/**
 * Small filesystem helpers for the cache: bounded-concurrency mapping, tolerant directory
 * listing and removal, positional reads.
 *
 * @module
 */

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results keep input order.
 * Stops starting new calls once one fails or `signal` aborts (in-flight ones are awaited).
 */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      signal?.throwIfAborted();
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const n = Math.max(1, Math.min(limit, items.length));
  const results = await Promise.allSettled(Array.from({ length: n }, worker));
  const rejected = results.find((r) => r.status === "rejected");
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
  return out;
}

/** Entries of a directory, or none when it does not exist. */
export async function readDirSafe(dir: string): Promise<Deno.DirEntry[]> {
  const out: Deno.DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir)) out.push(e);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
      return [];
    }
    throw err;
  }
  return out;
}

/** Reads exactly `length` bytes at `position` (fewer only at end of file). */
export async function readAt(
  file: Deno.FsFile,
  position: number,
  length: number,
): Promise<Uint8Array> {
  await file.seek(position, Deno.SeekMode.Start);
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * Removes a file, ignoring "not found"; returns whether it removed something.
 *
 * @example
 * ```ts
 * import { removeIfExists } from "./_fs.ts";
 * await removeIfExists("/no/such/file"); // false
 * ```
 */
export async function removeIfExists(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
