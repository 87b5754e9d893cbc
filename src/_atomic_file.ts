/**
 * Crash-safe file replacement, shared by the cache and the export writers: write a uniquely
 * named temp file in the target's directory, then rename it over the target. A reader sees
 * the old file or the new one, never a part; an interrupted write (Ctrl-C, error, abort)
 * removes its temp file and leaves an existing target untouched.
 *
 * @module
 */
import { basename, dirname, join } from "@std/path";

/**
 * The infix of temp files: `{final name}.tmp-{pid}-{random}`.
 *
 * @example
 * ```ts
 * import { TEMP_INFIX } from "./_atomic_file.ts";
 * "BTCUSDT-1m-2024-01-01.arrow.tmp-42-x1y2".includes(TEMP_INFIX); // true
 * ```
 */
export const TEMP_INFIX = ".tmp-";

/**
 * Options for {@linkcode tempPathFor}.
 *
 * @example
 * ```ts
 * import type { TempPathOptions } from "./_atomic_file.ts";
 * const options: TempPathOptions = { hidden: true };
 * ```
 */
export interface TempPathOptions {
  /** Prefix the name with a dot, so that a partial output does not show in listings. */
  hidden?: boolean;
}

/**
 * A fresh temp path next to `path`, unique across processes (pid) and calls (random):
 * `{dir}/{name}.tmp-{pid}-{random}`, or `{dir}/.{name}.tmp-{pid}-{random}` when hidden.
 *
 * @example
 * ```ts
 * import { tempPathFor } from "./_atomic_file.ts";
 * tempPathFor("/data/btc.csv", { hidden: true }).startsWith("/data/.btc.csv.tmp-"); // true
 * ```
 */
export function tempPathFor(path: string, options: TempPathOptions = {}): string {
  const rnd = crypto.getRandomValues(new Uint32Array(2));
  const suffix = `${TEMP_INFIX}${Deno.pid}-${rnd[0].toString(36)}${rnd[1].toString(36)}`;
  return options.hidden ? join(dirname(path), `.${basename(path)}${suffix}`) : path + suffix;
}

/**
 * Options for {@linkcode writeFileAtomic}.
 *
 * @example
 * ```ts
 * import type { AtomicWriteOptions } from "./_atomic_file.ts";
 * const options: AtomicWriteOptions = { fsync: true, createDir: true };
 * ```
 */
export interface AtomicWriteOptions extends TempPathOptions {
  /** Checked before the temp file is opened, after `write` and before the rename. */
  signal?: AbortSignal;
  /** Flush the temp file to disk before the rename (survives power loss, costs a sync). */
  fsync?: boolean;
  /** Create a missing directory (first write, or a concurrent prune) instead of failing. */
  createDir?: boolean;
}

/**
 * Runs `write` against a fresh temp file next to `path` and renames it to `path` when
 * `write` resolves and `signal` is not aborted. On any failure the temp file is removed and
 * the error rethrown. A concurrent writer of the same path is harmless: each renames its
 * own complete temp file, the last rename wins.
 *
 * @returns the number of bytes written
 * @example
 * ```ts
 * import { writeAll, writeFileAtomic } from "./_atomic_file.ts";
 * const path = (await Deno.makeTempDir()) + "/x.txt";
 * await writeFileAtomic(path, (file) => writeAll(file, new Uint8Array(3))); // 3
 * ```
 */
export async function writeFileAtomic(
  path: string,
  write: (file: Deno.FsFile) => Promise<void>,
  options: AtomicWriteOptions = {},
): Promise<number> {
  const { signal, fsync = false, createDir = false } = options;
  signal?.throwIfAborted();
  const temp = tempPathFor(path, options);
  const file = await openNew(temp, createDir);
  let closed = false;
  try {
    await write(file);
    signal?.throwIfAborted();
    if (fsync) await file.syncData();
    // The writers write from the start, in order: the position is the size (a sync lseek
    // costs far less than an async fstat, which showed in the profile of 366 cache writes).
    const size = file.seekSync(0, Deno.SeekMode.Current);
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

async function openNew(temp: string, createDir: boolean): Promise<Deno.FsFile> {
  const opts = { write: true, createNew: true } as const;
  for (let attempt = 1;; attempt++) {
    try {
      return await Deno.open(temp, opts);
    } catch (err) {
      if (!createDir || !(err instanceof Deno.errors.NotFound) || attempt === 3) throw err;
    }
    await Deno.mkdir(dirname(temp), { recursive: true });
  }
}

/**
 * Options for {@linkcode writeAll}.
 *
 * @example
 * ```ts
 * import type { WriteAllOptions } from "./_atomic_file.ts";
 * const options: WriteAllOptions = { chunkSize: 1 << 20, onProgress: (n, total) => {} };
 * ```
 */
export interface WriteAllOptions {
  /** Checked before each chunk: aborting stops the write between chunks. */
  signal?: AbortSignal;
  /** Called after each chunk reaches the file (bytes written, total). */
  onProgress?: (written: number, total: number) => void;
  /** Bytes per write call. @default {Infinity} */
  chunkSize?: number;
}

/**
 * Writes all of `bytes` (a single `write` may be short), in chunks of `chunkSize`.
 *
 * @example
 * ```ts
 * import { writeAll } from "./_atomic_file.ts";
 * using file = await Deno.open(await Deno.makeTempFile(), { write: true });
 * await writeAll(file, new TextEncoder().encode("hello\n"));
 * ```
 */
export async function writeAll(
  file: Deno.FsFile,
  bytes: Uint8Array,
  options: WriteAllOptions = {},
): Promise<void> {
  const { signal, onProgress, chunkSize = Infinity } = options;
  let written = 0;
  while (written < bytes.length) {
    signal?.throwIfAborted();
    const end = Math.min(bytes.length, written + chunkSize);
    written += await file.write(bytes.subarray(written, end));
    onProgress?.(written, bytes.length);
  }
}
