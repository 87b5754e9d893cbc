/**
 * Reads the single CSV out of a Binance Vision zip: central directory, DEFLATE or STORED,
 * CRC-32 checked. Pure functions on bytes (no I/O).
 *
 * A hand reader over `node:zlib` rather than `@zip.js/zip.js`: we need exactly one entry of a
 * well-formed archive, synchronously inside a parse worker, and `bench/pipeline_bench.ts`
 * measures zip.js's inflate several times slower on these files (the ratio is printed there).
 *
 * @module
 */
import { crc32, inflateRawSync } from "node:zlib";
import { ArchiveError } from "../errors.ts";

/** Options for {@linkcode extractSingleCsv}. */
export interface ExtractOptions {
  /** The archive's name, used in error messages (e.g. `BTCUSDT-1m-2024-01.zip`). */
  file?: string;
}

/** What the central directory says about one entry. */
export interface ZipEntry {
  /** The entry's name inside the archive. */
  name: string;
  /** 0 = STORED, 8 = DEFLATE. */
  method: number;
  /** General-purpose flags (bit 0 encrypted, bit 3 data descriptor). */
  flags: number;
  /** CRC-32 of the uncompressed bytes (unsigned). */
  crc32: number;
  /** Bytes stored in the archive. */
  compressedSize: number;
  /** Bytes after inflating. */
  size: number;
  /** Offset of the entry's local header. */
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const STORED = 0;
const DEFLATE = 8;
const FLAG_ENCRYPTED = 1;

/**
 * Lists the entries of a zip from its central directory. The central directory is the
 * authority: with the data-descriptor flag (bit 3) the local header's sizes and CRC are zero.
 *
 * @param zip the whole archive
 * @param options the archive's name for error messages
 * @returns the entries, in directory order
 * @throws {ArchiveError} when the bytes are not a (complete) zip, or use ZIP64
 *
 * @example
 * ```ts
 * import { listZipEntries } from "./zip.ts";
 * import { createZip } from "@vision-data/client/testing";
 * const zip = createZip("a.csv", new TextEncoder().encode("x\n"));
 * listZipEntries(zip)[0].name; // "a.csv"
 * ```
 */
export function listZipEntries(zip: Uint8Array, options: ExtractOptions = {}): ZipEntry[] {
  const file = options.file ?? "zip archive";
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  const lowest = Math.max(0, zip.length - EOCD_SIZE - MAX_COMMENT);
  for (let p = zip.length - EOCD_SIZE; p >= lowest; p--) {
    if (view.getUint32(p, true) === EOCD_SIGNATURE) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) {
    throw new ArchiveError(
      `${file}: not a zip, or truncated (no end-of-central-directory record in ${zip.length} bytes)`,
      { file },
    );
  }
  const count = view.getUint16(eocd + 10, true);
  const dirSize = view.getUint32(eocd + 12, true);
  const dirOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || dirOffset === 0xffffffff || dirSize === 0xffffffff) {
    throw new ArchiveError(`${file}: ZIP64 archives are not supported`, { file });
  }
  if (dirOffset + dirSize > eocd) {
    throw new ArchiveError(
      `${file}: truncated or corrupt (central directory at ${dirOffset}+${dirSize} runs past ${eocd})`,
      { file },
    );
  }
  const entries: ZipEntry[] = [];
  let p = dirOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > eocd || view.getUint32(p, true) !== CENTRAL_SIGNATURE) {
      throw new ArchiveError(`${file}: corrupt central directory (entry ${k + 1} at ${p})`, {
        file,
      });
    }
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    entries.push({
      flags: view.getUint16(p + 8, true),
      method: view.getUint16(p + 10, true),
      crc32: view.getUint32(p + 16, true),
      compressedSize: view.getUint32(p + 20, true),
      size: view.getUint32(p + 24, true),
      localHeaderOffset: view.getUint32(p + 42, true),
      name: new TextDecoder().decode(zip.subarray(p + 46, p + 46 + nameLength)),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * The stored (compressed) bytes of one entry, a view of `zip`.
 *
 * @throws {ArchiveError} on an encrypted entry, a missing local header or truncated data
 * @example
 * ```ts
 * import { listZipEntries, zipEntryData } from "./zip.ts";
 * import { createZip } from "@vision-data/client/testing";
 * const zip = createZip("a.csv", new TextEncoder().encode("x\n"));
 * zipEntryData(zip, listZipEntries(zip)[0]).length > 0; // true
 * ```
 */
export function zipEntryData(
  zip: Uint8Array,
  entry: ZipEntry,
  options: ExtractOptions = {},
): Uint8Array {
  const file = options.file ?? "zip archive";
  const where = `${file} (entry ${entry.name})`;
  if (entry.flags & FLAG_ENCRYPTED) throw new ArchiveError(`${where}: encrypted`, { file });
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const at = entry.localHeaderOffset;
  if (at + 30 > zip.length || view.getUint32(at, true) !== LOCAL_SIGNATURE) {
    throw new ArchiveError(`${where}: corrupt (no local header at ${at})`, { file });
  }
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const end = start + entry.compressedSize;
  if (end > zip.length) {
    throw new ArchiveError(
      `${where}: truncated (data ends at ${end}, archive has ${zip.length} bytes)`,
      { file },
    );
  }
  return zip.subarray(start, end);
}

/**
 * The bytes of one entry, inflated and CRC-checked.
 *
 * @param zip the whole archive
 * @param entry an entry from {@linkcode listZipEntries}
 * @param options the archive's name for error messages
 * @returns the uncompressed bytes (a plain `Uint8Array`)
 * @throws {ArchiveError} on a truncated or corrupt entry, a CRC mismatch, encryption or an
 *   unsupported compression method
 *
 * @example
 * ```ts
 * import { listZipEntries, readZipEntry } from "./zip.ts";
 * import { createZip } from "@vision-data/client/testing";
 * const zip = createZip("a.csv", new TextEncoder().encode("x\n"));
 * readZipEntry(zip, listZipEntries(zip)[0]).length; // 2
 * ```
 */
export function readZipEntry(
  zip: Uint8Array,
  entry: ZipEntry,
  options: ExtractOptions = {},
): Uint8Array {
  const file = options.file ?? "zip archive";
  const where = `${file} (entry ${entry.name})`;
  const stored = zipEntryData(zip, entry, options);
  let data: Uint8Array;
  if (entry.method === STORED) {
    data = stored;
  } else if (entry.method === DEFLATE) {
    try {
      // One output chunk of the known size (measured ~1.3x faster than the default 16 KiB
      // chunks, which are concatenated at the end), and a cap so a lying directory cannot
      // make us inflate a bomb.
      const out = inflateRawSync(stored, {
        chunkSize: Math.max(64, entry.size + 64),
        maxOutputLength: Math.max(1, entry.size),
      });
      data = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    } catch (cause) {
      const tooLarge = (cause as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
      const problem = tooLarge
        ? `inflates to more than the ${entry.size} bytes the directory says`
        : `corrupt DEFLATE data (${(cause as Error).message})`;
      throw new ArchiveError(`${where}: ${problem}`, { file, cause });
    }
  } else {
    throw new ArchiveError(
      `${where}: unsupported compression method ${entry.method} (only 0 STORED and 8 DEFLATE)`,
      { file },
    );
  }
  if (data.length !== entry.size) {
    throw new ArchiveError(
      `${where}: corrupt (${data.length} bytes inflated, directory says ${entry.size})`,
      { file },
    );
  }
  const crc = crc32(data) >>> 0;
  if (crc !== entry.crc32) {
    throw new ArchiveError(
      `${where}: CRC-32 mismatch (computed ${hex8(crc)}, directory says ${hex8(entry.crc32)})`,
      { file },
    );
  }
  return data;
}

/**
 * The one file entry of a Binance Vision zip (directory entries are ignored).
 *
 * @param zip the whole archive
 * @param options the archive's name for error messages
 * @returns the entry, to read with {@linkcode readZipEntry}
 * @throws {ArchiveError} unless the archive holds exactly one file
 *
 * @example
 * ```ts
 * import { findSingleEntry } from "./zip.ts";
 * import { createZip } from "@vision-data/client/testing";
 * const zip = createZip("a.csv", new TextEncoder().encode("x\n"));
 * findSingleEntry(zip).name; // "a.csv"
 * ```
 */
export function findSingleEntry(zip: Uint8Array, options: ExtractOptions = {}): ZipEntry {
  const files = listZipEntries(zip, options).filter((e) => !e.name.endsWith("/"));
  if (files.length !== 1) {
    const file = options.file ?? "zip archive";
    const names = files.map((e) => e.name).join(", ");
    throw new ArchiveError(
      `${file}: expected exactly one file in the archive, found ${files.length}${
        names ? ` (${names})` : ""
      }`,
      { file },
    );
  }
  return files[0];
}

/**
 * The uncompressed bytes of the one file in a Binance Vision zip (synchronous form of
 * {@linkcode extractSingleCsv}).
 *
 * @param zip the whole archive
 * @param options the archive's name for error messages
 * @returns the CSV bytes
 * @throws {ArchiveError} unless the archive holds exactly one readable file
 *
 * @example
 * ```ts
 * import { extractSingleCsvSync } from "./zip.ts";
 * import { createZip } from "@vision-data/client/testing";
 * const zip = createZip("a.csv", new TextEncoder().encode("x\n"));
 * new TextDecoder().decode(extractSingleCsvSync(zip)); // "x\n"
 * ```
 */
export function extractSingleCsvSync(zip: Uint8Array, options: ExtractOptions = {}): Uint8Array {
  return readZipEntry(zip, findSingleEntry(zip, options), options);
}

/**
 * The uncompressed bytes of the one file in a Binance Vision zip: located through the
 * central directory (so the data-descriptor flag is fine), DEFLATE or STORED, CRC-32
 * verified.
 *
 * @param zip the whole archive
 * @param options the archive's name for error messages
 * @returns the CSV bytes
 * @throws {ArchiveError} (as a rejection) on a corrupt, truncated or unexpected archive,
 *   naming the file
 *
 * @example
 * ```ts
 * import { extractSingleCsv } from "@vision-data/client/vision";
 * import { createZip } from "@vision-data/client/testing";
 * const zip = createZip("a.csv", new TextEncoder().encode("x\n"));
 * const csv = await extractSingleCsv(zip, { file: "a.zip" });
 * ```
 */
export function extractSingleCsv(
  zip: Uint8Array,
  options: ExtractOptions = {},
): Promise<Uint8Array> {
  try {
    return Promise.resolve(extractSingleCsvSync(zip, options));
  } catch (err) {
    return Promise.reject(err);
  }
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}
