/**
 * Binance Vision `.CHECKSUM` files (`sha256sum` format) and incremental SHA-256.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { ArchiveError } from "../errors.ts";

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * The SHA-256 from a `.CHECKSUM` file: `<64 hex>  <file name>`, with or without a trailing
 * newline. Lenient: the hash is the first whitespace-separated token; the name, when
 * present and `expectedName` is given, must match it (a leading `*`, sha256sum's binary
 * marker, is ignored).
 *
 * @param text the file's content
 * @param expectedName the zip's bare file name, to catch a checksum of the wrong file
 * @returns the hash in lowercase hex
 * @throws {ArchiveError} when there is no 64-hex-digit hash, or the name differs
 *
 * @example
 * ```ts
 * import { parseChecksumFile } from "@vision-data/client/vision";
 * const text = "2f79af36e0ab40e450368ff23a8970072bf205f01ee2af460268177068e4bc98" +
 *   "  BTCUSDT-1m-2025-04-11.zip";
 * parseChecksumFile(text, "BTCUSDT-1m-2025-04-11.zip"); // "2f79af36…"
 * ```
 */
export function parseChecksumFile(text: string, expectedName?: string): string {
  const file = expectedName ? `${expectedName}.CHECKSUM` : undefined;
  const [hash, name] = text.trim().split(/\s+/, 2);
  if (!hash || !SHA256_HEX.test(hash)) {
    const shown = JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
    throw new ArchiveError(
      `${file ?? "CHECKSUM file"}: expected a 64-hex-digit SHA-256 first, got ${shown}`,
      { file },
    );
  }
  if (expectedName !== undefined && name !== undefined) {
    const bare = name.replace(/^\*/, "");
    if (bare !== expectedName) {
      throw new ArchiveError(
        `${file}: names ${JSON.stringify(bare)}, expected ${JSON.stringify(expectedName)}`,
        { file },
      );
    }
  }
  return hash.toLowerCase();
}

/** An incremental SHA-256 (see {@linkcode createSha256}). */
export interface Sha256 {
  /** Feeds the next chunk. */
  update(chunk: Uint8Array): void;
  /** Finishes and returns the hash in lowercase hex (call once). */
  digestHex(): string;
}

/**
 * An incremental SHA-256 over `node:crypto`, to hash a download chunk by chunk while it
 * streams (no second pass over the bytes).
 *
 * @returns the hasher
 *
 * @example
 * ```ts
 * import { createSha256 } from "@vision-data/client/vision";
 * const h = createSha256();
 * h.update(new TextEncoder().encode("abc"));
 * h.digestHex(); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 */
export function createSha256(): Sha256 {
  const hash = createHash("sha256");
  return {
    update(chunk: Uint8Array): void {
      hash.update(chunk);
    },
    digestHex(): string {
      return hash.digest("hex");
    },
  };
}
