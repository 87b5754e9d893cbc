/**
 * A minimal zip writer for tests and benches (the reader's counterpart): DEFLATE or STORED,
 * optionally with data descriptors, no ZIP64.
 *
 * @module
 */
import { crc32 } from "node:zlib";
import { deflateInPieces } from "./_chunked_deflate.ts";

/** One file to put in a zip. */
export interface ZipInput {
  /** The entry name. */
  name: string;
  /** The uncompressed bytes. */
  data: Uint8Array;
  /** `"deflate"` (default) or `"store"`. */
  method?: "deflate" | "store";
  /** Write sizes and CRC after the data (flag bit 3) instead of in the local header. */
  dataDescriptor?: boolean;
  /** DEFLATE level 0-9 (default 6, what Binance's files look like). */
  level?: number;
  /**
   * Modification time written as the entry's DOS date/time (UTC fields, 2-second resolution,
   * clamped to 1980–2107). Absent: zero fields, as before.
   */
  modified?: Date;
  /**
   * The entry already deflated (e.g. in pieces on several threads): written as is with this
   * CRC-32 and uncompressed size; `data` and `method` are then ignored.
   */
  deflated?: { body: Uint8Array; crc32: number; size: number };
}

/** The DOS `[time, date]` words of an instant (UTC fields); zeros when absent. */
function dosDateTime(d: Date | undefined): [number, number] {
  if (d === undefined || !Number.isFinite(d.getTime())) return [0, 0];
  const year = Math.min(2107, Math.max(1980, d.getUTCFullYear()));
  if (year !== d.getUTCFullYear()) return year === 1980 ? [0, 0x21] : [0xbf7d, 0xff9f];
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  const date = ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  return [time, date];
}

/**
 * Builds a zip archive in memory.
 *
 * @param files the entries
 * @returns the archive bytes
 *
 * @example
 * ```ts
 * import { createZip } from "./_zip_writer.ts";
 * const zip = createZip([{ name: "a.csv", data: new TextEncoder().encode("1,2\n") }]);
 * ```
 */
export function createZip(files: readonly ZipInput[]): Uint8Array<ArrayBuffer> {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = new TextEncoder().encode(f.name);
    const pre = f.deflated;
    const method = pre || f.method !== "store" ? 8 : 0;
    // Pieces of 4 MiB: data up to that size is one ordinary DEFLATE stream.
    const body = pre ? pre.body : method === 0 ? f.data : deflateInPieces(f.data, f.level ?? 6);
    const crc = pre ? pre.crc32 >>> 0 : crc32(f.data) >>> 0;
    const rawSize = pre ? pre.size : f.data.length;
    const flags = f.dataDescriptor ? 8 : 0;
    const [dosTime, dosDate] = dosDateTime(f.modified);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, flags, true);
    lv.setUint16(8, method, true);
    lv.setUint16(10, dosTime, true);
    lv.setUint16(12, dosDate, true);
    if (!f.dataDescriptor) {
      lv.setUint32(14, crc, true);
      lv.setUint32(18, body.length, true);
      lv.setUint32(22, rawSize, true);
    }
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    chunks.push(local, body);
    let size = local.length + body.length;
    if (f.dataDescriptor) {
      const dd = new Uint8Array(16);
      const dv = new DataView(dd.buffer);
      dv.setUint32(0, 0x08074b50, true);
      dv.setUint32(4, crc, true);
      dv.setUint32(8, body.length, true);
      dv.setUint32(12, rawSize, true);
      chunks.push(dd);
      size += dd.length;
    }
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, method, true);
    cv.setUint16(12, dosTime, true);
    cv.setUint16(14, dosDate, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, rawSize, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    central.push(cd);
    offset += size;
  }
  const dirSize = central.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + dirSize + eocd.length);
  let p = 0;
  for (const c of [...chunks, ...central, eocd]) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}
