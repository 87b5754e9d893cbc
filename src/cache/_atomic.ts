/**
 * Crash-safe file replacement: write a uniquely named temp file in the target's directory,
 * then rename it over the target. A reader sees the old file or the new one, never a part.
 *
 * @module
 */
import { dirname } from "@std/path";

/** The infix of temp files: `{final name}.tmp-{pid}-{random}`. */
export const TEMP_INFIX = ".tmp-";

/** Whether a file name is one of our temp files (`*.arrow.tmp-*`). */
export function isTempName(name: string): boolean {
  return name.includes(".arrow" + TEMP_INFIX);
}

/** A fresh temp path next to `path`, unique across processes (pid) and calls (random). */
export function tempPathFor(path: string): string {
  const rnd = crypto.getRandomValues(new Uint32Array(2));
  return `${path}${TEMP_INFIX}${Deno.pid}-${rnd[0].toString(36)}${rnd[1].toString(36)}`;
}

/** Options for {@linkcode writeFileAtomic}. */
export interface AtomicWriteOptions {
  /** Aborting stops the write between chunks; the temp file is removed, the target untouched. */
  signal?: AbortSignal;
  /** Called after each chunk reaches the temp file. */
  onProgress?: (written: number, total: number) => void;
  /** Flush the temp file to disk before the rename (survives power loss, costs a sync). */
  fsync?: boolean;
  /** Bytes per write call. @default {1048576} */
  chunkSize?: number;
}

/**
 * Writes `bytes` to `path` atomically. A concurrent writer of the same path is harmless:
 * each renames its own complete temp file, the last rename wins.
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const { signal, onProgress, fsync = false, chunkSize = 1 << 20 } = options;
  signal?.throwIfAborted();
  const tmp = tempPathFor(path);
  const file = await openNew(tmp);
  try {
    try {
      let written = 0;
      while (written < bytes.length) {
        signal?.throwIfAborted();
        const end = Math.min(bytes.length, written + chunkSize);
        written += await file.write(bytes.subarray(written, end));
        onProgress?.(written, bytes.length);
      }
      signal?.throwIfAborted();
      if (fsync) await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await removeIfExists(tmp);
    throw err;
  }
}

async function openNew(tmp: string): Promise<Deno.FsFile> {
  const opts = { write: true, createNew: true } as const;
  for (let attempt = 1;; attempt++) {
    try {
      return await Deno.open(tmp, opts);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound) || attempt === 3) throw err;
    }
    // The directory is missing (first write, or a concurrent `clear()` pruned it).
    await Deno.mkdir(dirname(tmp), { recursive: true });
  }
}

/** Removes a file, ignoring "not found"; returns whether it removed something. */
export async function removeIfExists(path: string): Promise<boolean> {
  try {
    await Deno.remove(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
