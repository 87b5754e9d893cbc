/**
 * Offline stand-in for the parts of `@std/path` this project uses, over `node:path`.
 *
 * @module
 */
import nodePath from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Joins path segments and normalizes the result.
 *
 * @example
 * ```ts
 * import { join } from "@std/path";
 * join("a", "b");
 * ```
 */
export function join(...paths: string[]): string {
  return nodePath.join(...paths);
}

/**
 * The directory part of a path.
 *
 * @example
 * ```ts
 * import { dirname } from "@std/path";
 * dirname("/a/b");
 * ```
 */
export function dirname(path: string | URL): string {
  return nodePath.dirname(path instanceof URL ? fileURLToPath(path) : path);
}

/**
 * The last part of a path, without `suffix` when given.
 *
 * @example
 * ```ts
 * import { basename } from "@std/path";
 * basename("/a/b.zip", ".zip");
 * ```
 */
export function basename(path: string | URL, suffix = ""): string {
  return nodePath.basename(path instanceof URL ? fileURLToPath(path) : path, suffix);
}

/**
 * Resolves segments into an absolute path.
 *
 * @example
 * ```ts
 * import { resolve } from "@std/path";
 * resolve("a");
 * ```
 */
export function resolve(...paths: string[]): string {
  return nodePath.resolve(...paths);
}

/**
 * Converts a `file:` URL to a path.
 *
 * @example
 * ```ts
 * import { fromFileUrl } from "@std/path";
 * fromFileUrl("file:///tmp");
 * ```
 */
export function fromFileUrl(url: string | URL): string {
  return fileURLToPath(url);
}

/**
 * Converts a path to a relative one from `from` to `to`.
 *
 * @example
 * ```ts
 * import { relative } from "@std/path";
 * relative("/a", "/a/b");
 * ```
 */
export function relative(from: string, to: string): string {
  return nodePath.relative(from, to);
}

/** The platform's path separator. */
export const SEPARATOR: string = nodePath.sep;
