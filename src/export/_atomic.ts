/**
 * Atomic file output: write to a hidden temp file next to the target, then rename, so an
 * interrupted write (Ctrl-C, error, abort) never leaves a partial file under the real name.
 *
 * @module
 */
import { basename, dirname, join } from "@std/path";

/** Writes all of `bytes` (a single `write` may be short). */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}

/** The temp-file marker: `.{name}.tmp-{random}` in the target's directory. */
export const TEMP_MARKER = ".tmp-";

/**
 * Runs `write` against a fresh temp file in `path`'s directory and renames it to `path`
 * when `write` resolves and `signal` is not aborted. On any failure the temp file is
 * removed and the error rethrown; an existing `path` is left untouched.
 *
 * @returns the number of bytes written
 */
export async function writeFileAtomic(
  path: string,
  write: (file: Deno.FsFile) => Promise<void>,
  signal?: AbortSignal,
): Promise<number> {
  signal?.throwIfAborted();
  const random = crypto.randomUUID().slice(0, 8);
  const temp = join(dirname(path), `.${basename(path)}${TEMP_MARKER}${random}`);
  const file = await Deno.open(temp, { write: true, createNew: true });
  let closed = false;
  try {
    await write(file);
    signal?.throwIfAborted();
    const { size } = await file.stat();
    file.close();
    closed = true;
    signal?.throwIfAborted();
    await Deno.rename(temp, path);
    return size;
  } catch (err) {
    if (!closed) file.close();
    try {
      Deno.removeSync(temp);
    } catch {
      // Already gone; the write's own error is the one worth reporting.
    }
    throw err;
  }
}
