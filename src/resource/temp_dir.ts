/**
 * Per-owner temporary directories: one directory per owner, created lazily, removed
 * synchronously on dispose, plus a sweep for directories left behind by crashed processes.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { dirname, join } from "@std/path";
import { ClientClosedError } from "../errors.ts";
import { TempDirError } from "../limit_errors.ts";

const logger = getLogger(["vision-data", "resource"]);

/** Every directory we create starts with this, followed by `<pid>-`. */
export const TEMP_DIR_PREFIX = "vision-data-";

/** Age after which a directory is stale when the owning process cannot be checked. */
export const STALE_TEMP_DIR_AGE_MS: number = 24 * 60 * 60 * 1000;

const NAME_PATTERN = /^vision-data-(\d+)-/;

/**
 * Creates a fresh directory `vision-data-<pid>-<random>` in the OS temp directory.
 *
 * @example
 * ```ts
 * import { createTempDir, removeTempDirSync } from "@vision-data/client/resource";
 * const dir = createTempDir();
 * removeTempDirSync(dir);
 * ```
 */
export function createTempDir(): string {
  try {
    return Deno.makeTempDirSync({ prefix: `${TEMP_DIR_PREFIX}${Deno.pid}-` });
  } catch (err) {
    const reason = err instanceof Deno.errors.NotFound
      ? "the directory does not exist"
      : err instanceof Deno.errors.PermissionDenied
      ? "not writable (permission denied)"
      : err instanceof Error
      ? err.message
      : String(err);
    throw new TempDirError(defaultTempRoot(), reason, { cause: err });
  }
}

/**
 * Removes a directory tree synchronously. Returns `false` when it was already gone (someone
 * else removed it — not an error); other failures throw.
 *
 * @example
 * ```ts
 * import { createTempDir, removeTempDirSync } from "@vision-data/client/resource";
 * const dir = createTempDir();
 * console.log(removeTempDirSync(dir), removeTempDirSync(dir)); // true false
 * ```
 */
export function removeTempDirSync(path: string): boolean {
  try {
    Deno.removeSync(path, { recursive: true });
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Whether a process is alive: `true`/`false` on Linux (via `/proc/<pid>`), `undefined`
 * where that cannot be told (other systems, no read permission).
 *
 * @example
 * ```ts
 * import { isProcessAlive } from "@vision-data/client/resource";
 * console.log(isProcessAlive(Deno.pid)); // true on Linux
 * ```
 */
export function isProcessAlive(pid: number): boolean | undefined {
  if (pid === Deno.pid) return true;
  if (Deno.build.os !== "linux") return undefined;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    return undefined;
  }
}

/** The OS temp directory, as `Deno.makeTempDir` picks it. */
function defaultTempRoot(): string {
  const env = (key: string): string | undefined => {
    try {
      return Deno.env.get(key) || undefined;
    } catch {
      return undefined; // no env permission: fall back to the platform default
    }
  };
  if (Deno.build.os === "windows") {
    return env("TMP") ?? env("TEMP") ?? env("USERPROFILE") ?? "C:\\Windows\\Temp";
  }
  return env("TMPDIR") ?? "/tmp";
}

/** Options for {@linkcode sweepStaleTempDirs}. */
export interface SweepOptions {
  /** Directory to sweep. Default: the OS temp directory. */
  root?: string;
  /** Age after which a directory counts as stale when its pid cannot be checked. */
  maxAgeMs?: number;
  /** Current time in epoch ms (tests). Default `Date.now()`. */
  now?: number;
}

/** What {@linkcode sweepStaleTempDirs} did. */
export interface SweepResult {
  /** Directories removed. */
  removed: string[];
  /** Directories that failed to be removed, with the error. */
  failed: { path: string; error: unknown }[];
}

/** The lock file in each temp dir: its owner holds an exclusive `flock` on it while alive. */
export const TEMP_DIR_LOCK_FILE = ".lock";

/** A dir without a lock file younger than this may be one whose lock is being created. */
const LOCKLESS_GRACE_MS = 60_000;

/**
 * Removes `vision-data-<pid>-*` directories nobody owns any more. Every directory this
 * library creates holds a lock file whose exclusive `flock` its owner keeps until it
 * removes the directory, and the lock dies with the process: a directory whose lock can be
 * taken is stale, one whose lock is held is live — whatever PID namespace the owner runs
 * in (containers sharing `/tmp` see each other's pids as dead). Directories without a lock
 * file (older versions) fall back to pid liveness (Linux `/proc/<pid>`; elsewhere older
 * than `maxAgeMs`), and only once older than a minute. Synchronous: leaves no pending op.
 *
 * @example
 * ```ts
 * import { sweepStaleTempDirs } from "@vision-data/client/resource";
 * const { removed } = sweepStaleTempDirs();
 * console.log(`removed ${removed.length} stale temp dirs`);
 * ```
 */
export function sweepStaleTempDirs(options: SweepOptions = {}): SweepResult {
  const root = options.root ?? defaultTempRoot();
  const maxAgeMs = options.maxAgeMs ?? STALE_TEMP_DIR_AGE_MS;
  const now = options.now ?? Date.now();
  const result: SweepResult = { removed: [], failed: [] };
  for (const entry of Deno.readDirSync(root)) {
    const match = entry.isDirectory ? NAME_PATTERN.exec(entry.name) : null;
    if (!match) continue;
    const pid = Number(match[1]);
    const path = join(root, entry.name);
    try {
      let stale = lockFree(path);
      if (stale === undefined) {
        const mtime = Deno.statSync(path).mtime?.getTime();
        const age = mtime === undefined ? 0 : now - mtime;
        const alive = pid === Deno.pid ? true : isProcessAlive(pid);
        stale = age > LOCKLESS_GRACE_MS &&
          (alive === false || (alive === undefined && age > maxAgeMs));
      }
      if (!stale) continue;
      if (removeTempDirSync(path)) result.removed.push(path);
    } catch (error) {
      result.failed.push({ path, error });
    }
  }
  return result;
}

/**
 * Whether the dir's lock can be taken (nobody holds it: stale), `false` when it is held,
 * `undefined` without a lock file.
 */
function lockFree(dir: string): boolean | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(join(dir, TEMP_DIR_LOCK_FILE), { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  try {
    // Released by close (below) at once: the directory is removed right after.
    return file.tryLockSync(true);
  } finally {
    file.close();
  }
}

let sweptThisProcess = false;

/** Runs the stale sweep at most once per process; never throws (failures are logged). */
function sweepOnce(root: string): void {
  if (sweptThisProcess) return;
  sweptThisProcess = true;
  try {
    const { removed, failed } = sweepStaleTempDirs({ root });
    if (removed.length > 0) {
      logger.debug("Removed {count} stale temp dir(s) in {root}", { count: removed.length, root });
    }
    for (const { path, error } of failed) {
      logger.warn("Could not remove stale temp dir {path}: {error}", { path, error });
    }
  } catch (error) {
    logger.warn("Stale temp dir sweep of {root} failed: {error}", { root, error });
  }
}

/** Options for {@linkcode TempDir}. */
export interface TempDirOptions {
  /** Run {@linkcode sweepStaleTempDirs} (once per process) on first creation. Default `true`. */
  sweep?: boolean;
}

/**
 * A lazily created per-owner temp directory, removed synchronously (recursively) on dispose.
 * Disposal tolerates a directory someone else already removed.
 *
 * @example
 * ```ts
 * import { TempDir } from "@vision-data/client/resource";
 * {
 *   using tmp = new TempDir();
 *   Deno.writeTextFileSync(`${tmp.path}/part.csv`, "1,2,3\n");
 * } // removed here
 * ```
 */
export class TempDir implements Disposable {
  #path: string | undefined;
  #lock: Deno.FsFile | undefined;
  #disposed = false;
  readonly #sweep: boolean;

  /**
   * Creates a TempDir.
   *
   * @param options whether to sweep stale directories on first creation
   */
  constructor(options: TempDirOptions = {}) {
    this.#sweep = options.sweep ?? true;
  }

  /** The directory, created on first access. Throws `ClientClosedError` after dispose. */
  get path(): string {
    if (this.#disposed) throw new ClientClosedError("TempDir");
    if (this.#path === undefined) {
      const path = createTempDir();
      try {
        // Held until dispose: tells every sweep (any process, any PID namespace) it is live.
        this.#lock = Deno.openSync(join(path, TEMP_DIR_LOCK_FILE), { write: true, create: true });
        this.#lock.lockSync(true);
      } catch (err) {
        this.#lock?.close();
        this.#lock = undefined;
        removeTempDirSync(path);
        throw new TempDirError(dirname(path), `cannot lock ${TEMP_DIR_LOCK_FILE}`, { cause: err });
      }
      this.#path = path;
      logger.debug("Created temp dir {path}", { path: this.#path });
      if (this.#sweep) sweepOnce(dirname(this.#path));
    }
    return this.#path;
  }

  /** Whether the directory has been created (and not yet removed). */
  get created(): boolean {
    return this.#path !== undefined;
  }

  /** Removes the directory tree synchronously; a no-op when never created or already gone. */
  [Symbol.dispose](): void {
    this.#disposed = true;
    const path = this.#path;
    this.#path = undefined;
    this.#lock?.close(); // releases the flock
    this.#lock = undefined;
    if (path === undefined) return;
    const removed = removeTempDirSync(path);
    logger.debug("Temp dir {path} {what}", {
      path,
      what: removed ? "removed" : "was already gone",
    });
  }
}
