/**
 * Where the cache lives when no directory is given.
 *
 * @module
 */
import { join, resolve } from "@std/path";

/** Options for {@linkcode defaultCacheDir} (for tests and unusual environments). */
export interface DefaultCacheDirOptions {
  /** The operating system; defaults to `Deno.build.os`. */
  os?: typeof Deno.build.os;
  /** Environment lookup; defaults to `Deno.env.get`. */
  env?: (name: string) => string | undefined;
}

/**
 * The environment variable that overrides the default cache directory.
 *
 * @example
 * ```ts
 * import { CACHE_DIR_ENV } from "@vision-data/client/cache";
 * Deno.env.set(CACHE_DIR_ENV, "/data/vision-cache");
 * ```
 */
export const CACHE_DIR_ENV = "VISION_DATA_CACHE_DIR";

/**
 * The default cache directory: `$VISION_DATA_CACHE_DIR` when set, else the platform's
 * user cache directory + `/vision-data` — Linux and other Unixes: `$XDG_CACHE_HOME` (when
 * absolute) or `~/.cache`; macOS: `~/Library/Caches`; Windows: `%LOCALAPPDATA%`. Falls back
 * to `./.cache/vision-data` when no home directory is known. Needs `--allow-env`.
 *
 * @example
 * ```ts
 * import { defaultCacheDir } from "@vision-data/client/cache";
 * console.log(defaultCacheDir()); // e.g. /home/me/.cache/vision-data
 * ```
 */
export function defaultCacheDir(options: DefaultCacheDirOptions = {}): string {
  const os = options.os ?? Deno.build.os;
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const get = (name: string): string | undefined => env(name) || undefined;
  const override = get(CACHE_DIR_ENV);
  if (override) return resolve(override);
  let base: string | undefined;
  if (os === "windows") {
    base = get("LOCALAPPDATA") ?? withHome(get("USERPROFILE"), "AppData", "Local");
  } else if (os === "darwin") {
    base = withHome(get("HOME"), "Library", "Caches");
  } else {
    const xdg = get("XDG_CACHE_HOME");
    // The XDG spec says relative values are invalid and must be ignored.
    base = xdg?.startsWith("/") ? xdg : withHome(get("HOME"), ".cache");
  }
  return base ? join(base, "vision-data") : resolve(".cache", "vision-data");
}

function withHome(home: string | undefined, ...parts: string[]): string | undefined {
  return home ? join(home, ...parts) : undefined;
}
