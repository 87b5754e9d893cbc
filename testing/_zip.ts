/**
 * A single-file ZIP builder for tests, on top of the project's zip writer.
 *
 * @module
 */
import { createZip as createZipArchive } from "./_zip_writer.ts";

/** Options for {@linkcode createZip}. */
export interface CreateZipOptions {
  /** Compression method. @default {"deflate"} */
  method?: "deflate" | "store";
  /** DEFLATE level 0–9. @default {6} */
  level?: number;
  /** The entry's modification time (DOS date/time, UTC fields). @default {none: zero fields} */
  modified?: Date;
}

/**
 * Wraps `data` in a ZIP archive holding one file named `name` (what a Vision archive is).
 *
 * @example
 * ```ts
 * import { createZip } from "@vision-data/client/testing";
 * const zip = createZip("a.csv", new TextEncoder().encode("1,2\n"));
 * zip[0] === 0x50 && zip[1] === 0x4b; // "PK"
 * ```
 */
export function createZip(
  name: string,
  data: Uint8Array,
  options: CreateZipOptions = {},
): Uint8Array<ArrayBuffer> {
  return createZipArchive([{
    name,
    data,
    method: options.method,
    level: options.level,
    modified: options.modified,
  }]);
}
