/**
 * Offline stand-in for the parts of `@std/fs` this project uses.
 *
 * @module
 */

/**
 * Creates a directory (and its parents) unless it exists.
 *
 * @example
 * ```ts
 * import { ensureDir } from "@std/fs";
 * await ensureDir(await Deno.makeTempDir());
 * ```
 */
export async function ensureDir(dir: string | URL): Promise<void> {
  try {
    const info = await Deno.lstat(dir);
    if (!info.isDirectory) throw new Error(`Ensure path exists, expected 'dir', got 'file'`);
    return;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  await Deno.mkdir(dir, { recursive: true });
}

/**
 * Synchronous {@linkcode ensureDir}.
 *
 * @example
 * ```ts
 * import { ensureDirSync } from "@std/fs";
 * ensureDirSync(Deno.makeTempDirSync());
 * ```
 */
export function ensureDirSync(dir: string | URL): void {
  Deno.mkdirSync(dir, { recursive: true });
}

/** Options for {@linkcode exists}. */
export interface ExistsOptions {
  /** Require a regular file. */
  isFile?: boolean;
  /** Require a directory. */
  isDirectory?: boolean;
}

/**
 * Whether a path exists (optionally as a file or directory).
 *
 * @example
 * ```ts
 * import { exists } from "@std/fs";
 * await exists("/");
 * ```
 */
export async function exists(path: string | URL, options?: ExistsOptions): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    if (options?.isFile && !info.isFile) return false;
    if (options?.isDirectory && !info.isDirectory) return false;
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Synchronous {@linkcode exists}.
 *
 * @example
 * ```ts
 * import { existsSync } from "@std/fs";
 * existsSync("/");
 * ```
 */
export function existsSync(path: string | URL, options?: ExistsOptions): boolean {
  try {
    const info = Deno.statSync(path);
    if (options?.isFile && !info.isFile) return false;
    if (options?.isDirectory && !info.isDirectory) return false;
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
