/**
 * The cache's Arrow IPC file codec: apache-arrow writes the file, a minimal reader for our
 * own fixed schema parses it back as views of the file's bytes (see `mod.ts` for the schema).
 *
 * @module
 */
import { makeData, RecordBatch, Struct, Table, tableToIPC } from "apache-arrow";
// CRC-32 from node:zlib is native in Deno 2.9: ~30 GB/s here, so a year of 1m (46 MB)
// verifies in ~1.5 ms, against ~25 ms for SHA-256 and ~6 ms for a JS 32-bit hash. It
// catches every burst error up to 32 bits (what bad sectors and torn writes look like); it
// is not tamper-proof, which a local cache does not need.
import { crc32 } from "node:zlib";
import { klineArrowSchema, storedValues } from "../_arrow_schema.ts";
import { EXPORT_COLUMNS, type ExportKind } from "../columns.ts";
import { allocateColumns, type KlineColumns } from "../klines.ts";
import { FlatBuffer } from "./_flatbuffers.ts";

/**
 * The fixed schema is {@linkcode EXPORT_COLUMNS}, in Binance CSV order. Times are Arrow
 * `Timestamp(ms, "UTC")` and the trade count `Int64` so Polars/pyarrow see datetimes and
 * integers; the reader converts them to float64 in place (int64 and float64 are both 8
 * bytes), keeping reads zero-copy. That pass costs ~2 ns a value (~3.4 ms for a year of 1m,
 * ~15% of a warm read): the price of files that Polars/pyarrow read without casts.
 */
const SCHEMA = EXPORT_COLUMNS;

/** The storage names in corruption messages. */
const STORAGE: Record<ExportKind, string> = {
  float: "float64",
  int: "int64",
  time: "timestamp_ms",
};

/** Format version written to `vision-data.version`; readers reject any other. */
export const FORMAT_VERSION = "1";

/** Schema metadata keys. */
export const META = {
  version: "vision-data.version",
  rows: "vision-data.rows",
  checksum: "vision-data.checksum",
  market: "vision-data.market",
  symbol: "vision-data.symbol",
  interval: "vision-data.interval",
  day: "vision-data.day",
} as const;

/** What the file claims to be (compared against the key it is read for). */
export interface FileIdentity {
  /** Market type. */
  market: string;
  /** Symbol. */
  symbol: string;
  /** REST interval name. */
  interval: string;
  /** `YYYY-MM-DD`. */
  day: string;
}

/** A decoding failure: the reason goes into a `CacheCorruptError`. */
export class CorruptFileError extends Error {
  /** @param message what check failed */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CorruptFileError";
  }
}

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const TWO_32 = 4294967296;

/** `crc32:` + 8 lowercase hex digits. */
function checksumText(crc: number): string {
  return "crc32:" + (crc >>> 0).toString(16).padStart(8, "0");
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** In place: the int64 words at `f`'s bytes become the same values as float64. */
function int64ToFloat64InPlace(f: Float64Array): void {
  const u32 = new Uint32Array(f.buffer, f.byteOffset, f.length * 2);
  const i32 = new Int32Array(f.buffer, f.byteOffset, f.length * 2);
  // Reading word i and writing element i touch the same 8 bytes, after both words are read.
  for (let i = 0, j = 0; i < f.length; i++, j += 2) f[i] = i32[j + 1] * TWO_32 + u32[j];
}

/**
 * Encodes validated columns as an Arrow IPC file with the identity, row count and checksum
 * in the schema metadata.
 */
export function encodeKlineFile(identity: FileIdentity, columns: KlineColumns): Uint8Array {
  const rows = columns.openTime.length;
  const stored = storedValues(columns);
  let crc = 0;
  for (const a of stored) crc = crc32(bytesOf(a), crc);
  const metadata = new Map<string, string>([
    [META.version, FORMAT_VERSION],
    [META.rows, String(rows)],
    [META.checksum, checksumText(crc)],
    [META.market, identity.market],
    [META.symbol, identity.symbol],
    [META.interval, identity.interval],
    [META.day, identity.day],
  ]);
  // The schema every kline file and table uses; the batch's float columns are the
  // stored arrays above, so the checksum covers exactly what is written.
  const schema = klineArrowSchema(metadata);
  const children = schema.fields.map((f, i) =>
    makeData({ type: f.type, length: rows, nullCount: 0, data: stored[i] } as never)
  );
  const struct = makeData({
    type: new Struct(schema.fields),
    length: rows,
    nullCount: 0,
    children,
  });
  return tableToIPC(new Table([new RecordBatch(schema, struct)]), "file");
}

/** The decoded file: columns are views of `bytes` (see `copiedColumns`). */
export interface DecodedKlineFile {
  /** The columns. */
  columns: KlineColumns;
  /** Rows. */
  rows: number;
  /** The identity in the metadata. */
  identity: FileIdentity;
  /** Columns that had to be copied because their offset was not 8-byte aligned. */
  copiedColumns: number;
}

// Arrow FlatBuffers field indices (format/Schema.fbs, format/Message.fbs, format/File.fbs).
const FOOTER_SCHEMA = 1, FOOTER_RECORD_BATCHES = 3;
const SCHEMA_FIELDS = 1, SCHEMA_METADATA = 2;
const FIELD_NAME = 0, FIELD_TYPE_TYPE = 2, FIELD_TYPE = 3, FIELD_DICTIONARY = 4;
const MESSAGE_HEADER_TYPE = 1, MESSAGE_HEADER = 2;
const RB_LENGTH = 0, RB_NODES = 1, RB_BUFFERS = 2, RB_COMPRESSION = 3;
const TYPE_INT = 2, TYPE_FLOAT = 3, TYPE_TIMESTAMP = 10, HEADER_RECORD_BATCH = 3;
const PRECISION_DOUBLE = 2, UNIT_MILLISECOND = 1;

function hasMagic(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < 6; i++) if (bytes[at + i] !== MAGIC[i]) return false;
  return true;
}

/** Locates and parses the footer of a whole file (or of the file's tail, see `footerLength`). */
function footerOf(bytes: Uint8Array): { fb: FlatBuffer; footer: number; start: number } {
  const len = bytes.length;
  if (len < 16) throw new CorruptFileError(`file too short (${len} bytes)`);
  if (!hasMagic(bytes, len - 6)) throw new CorruptFileError("no Arrow magic at the end");
  const footerLen = new DataView(bytes.buffer, bytes.byteOffset + len - 10, 4).getInt32(0, true);
  const start = len - 10 - footerLen;
  if (footerLen <= 0 || start < 0) throw new CorruptFileError(`bad footer length ${footerLen}`);
  const fb = new FlatBuffer(bytes, start, len - 10);
  return { fb, footer: fb.root(), start };
}

/** The footer length stored in a file's last 10 bytes, or -1 when they are not Arrow's. */
export function footerLength(tail10: Uint8Array): number {
  if (tail10.length !== 10 || !hasMagic(tail10, 4)) return -1;
  return new DataView(tail10.buffer, tail10.byteOffset, 4).getInt32(0, true);
}

function readMetadata(fb: FlatBuffer, schema: number): Map<string, string> {
  const out = new Map<string, string>();
  const kv = fb.vector(schema, SCHEMA_METADATA, 4);
  for (let i = 0; i < kv.length; i++) {
    const t = fb.element(kv, i);
    const key = fb.string(t, 0);
    if (key !== undefined) out.set(key, fb.string(t, 1) ?? "");
  }
  return out;
}

function checkSchema(fb: FlatBuffer, schema: number): void {
  const fields = fb.vector(schema, SCHEMA_FIELDS, 4);
  if (fields.length !== SCHEMA.length) {
    throw new CorruptFileError(`schema has ${fields.length} fields, expected ${SCHEMA.length}`);
  }
  for (let i = 0; i < SCHEMA.length; i++) {
    const f = fb.element(fields, i);
    const want = SCHEMA[i];
    const name = fb.string(f, FIELD_NAME);
    if (name !== want.name) {
      throw new CorruptFileError(`field ${i} is ${JSON.stringify(name)}, expected ${want.name}`);
    }
    const typeType = fb.u8(f, FIELD_TYPE_TYPE);
    const type = fb.table(f, FIELD_TYPE);
    const ok = fb.field(f, FIELD_DICTIONARY) === 0 && type !== 0 && (
      want.kind === "float"
        ? typeType === TYPE_FLOAT && fb.i16(type, 0) === PRECISION_DOUBLE
        : want.kind === "int"
        ? typeType === TYPE_INT && fb.i32(type, 0) === 64 && fb.u8(type, 1) === 1
        : typeType === TYPE_TIMESTAMP && fb.i16(type, 0) === UNIT_MILLISECOND &&
          fb.string(type, 1) === "UTC"
    );
    if (!ok) throw new CorruptFileError(`field ${want.name} is not ${STORAGE[want.kind]}`);
  }
}

function identityOf(meta: Map<string, string>): FileIdentity {
  return {
    market: meta.get(META.market) ?? "",
    symbol: meta.get(META.symbol) ?? "",
    interval: meta.get(META.interval) ?? "",
    day: meta.get(META.day) ?? "",
  };
}

function rowsOf(meta: Map<string, string>): number {
  const version = meta.get(META.version);
  if (version !== FORMAT_VERSION) {
    throw new CorruptFileError(`format version ${JSON.stringify(version)}, expected 1`);
  }
  const text = meta.get(META.rows) ?? "";
  const rows = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(rows)) throw new CorruptFileError(`bad row count ${text}`);
  return rows;
}

/**
 * Reads only the footer (the file's last bytes): identity and row count, unverified.
 * `footerBytes` is the footer plus the trailing 10 bytes (length + magic).
 */
export function decodeFooterSummary(
  footerBytes: Uint8Array,
): { identity: FileIdentity; rows: number } {
  try {
    const { fb, footer } = footerOf(footerBytes);
    const meta = readMetadata(fb, fb.table(footer, FOOTER_SCHEMA));
    return { identity: identityOf(meta), rows: rowsOf(meta) };
  } catch (e) {
    throw e instanceof CorruptFileError ? e : new CorruptFileError(String(e), { cause: e });
  }
}

/**
 * Parses and verifies a whole file: structure, schema, row count, checksum over every
 * column body. Returns columns viewing `bytes` (times and counts converted in place, so
 * `bytes` is modified: pass the buffer just read, not a shared one).
 */
export function decodeKlineFile(bytes: Uint8Array): DecodedKlineFile {
  try {
    return decode(bytes);
  } catch (e) {
    throw e instanceof CorruptFileError ? e : new CorruptFileError(String(e), { cause: e });
  }
}

function decode(bytes: Uint8Array): DecodedKlineFile {
  if (bytes.length < 16 || !hasMagic(bytes, 0)) throw new CorruptFileError("no Arrow magic");
  const { fb, footer, start: footerStart } = footerOf(bytes);
  const schema = fb.table(footer, FOOTER_SCHEMA);
  if (!schema) throw new CorruptFileError("footer has no schema");
  checkSchema(fb, schema);
  const meta = readMetadata(fb, schema);
  const rows = rowsOf(meta);
  const identity = identityOf(meta);
  const expected = meta.get(META.checksum);
  const blocks = fb.vector(footer, FOOTER_RECORD_BATCHES, 24);
  if (rows === 0 && blocks.length === 0) {
    if (expected !== checksumText(0)) throw new CorruptFileError("checksum differs");
    return { columns: allocateColumns(0), rows, identity, copiedColumns: 0 };
  }
  if (blocks.length !== 1) {
    throw new CorruptFileError(`${blocks.length} record batches, expected 1`);
  }
  const offset = fb.i64At(blocks.at);
  const metaLen = fb.view.getInt32(blocks.at + 8, true);
  const bodyLen = fb.i64At(blocks.at + 16);
  const bodyStart = offset + metaLen;
  if (offset < 8 || metaLen < 8 || bodyStart + bodyLen > footerStart) {
    throw new CorruptFileError("record batch block out of bounds");
  }
  const view = fb.view;
  const continued = view.getUint32(offset, true) === 0xffffffff;
  const fbStart = offset + (continued ? 8 : 4);
  const fbLen = view.getInt32(offset + (continued ? 4 : 0), true);
  if (fbLen <= 0 || fbStart + fbLen > bodyStart) {
    throw new CorruptFileError("record batch metadata out of bounds");
  }
  const mb = new FlatBuffer(bytes, fbStart, fbStart + fbLen);
  const msg = mb.root();
  if (mb.u8(msg, MESSAGE_HEADER_TYPE) !== HEADER_RECORD_BATCH) {
    throw new CorruptFileError("block is not a record batch");
  }
  const rb = mb.table(msg, MESSAGE_HEADER);
  if (!rb) throw new CorruptFileError("record batch header missing");
  if (mb.i64(rb, RB_LENGTH) !== rows) throw new CorruptFileError("row count differs");
  if (mb.field(rb, RB_COMPRESSION) !== 0) throw new CorruptFileError("compressed body");
  const nodes = mb.vector(rb, RB_NODES, 16);
  const buffers = mb.vector(rb, RB_BUFFERS, 16);
  if (nodes.length !== SCHEMA.length || buffers.length !== 2 * SCHEMA.length) {
    throw new CorruptFileError("unexpected record batch layout");
  }
  const size = rows * 8;
  const starts: number[] = new Array(SCHEMA.length);
  let contiguous = true;
  for (let i = 0; i < SCHEMA.length; i++) {
    const node = nodes.at + 16 * i;
    if (mb.i64At(node) !== rows || mb.i64At(node + 8) !== 0) {
      throw new CorruptFileError(`column ${SCHEMA[i].name}: bad length or nulls`);
    }
    const buf = buffers.at + 16 * (2 * i + 1);
    const off = mb.i64At(buf);
    const len = mb.i64At(buf + 8);
    if (len < size || off < 0 || off + size > bodyLen) {
      throw new CorruptFileError(`column ${SCHEMA[i].name}: body out of bounds`);
    }
    starts[i] = bodyStart + off;
    if (i > 0 && starts[i] !== starts[i - 1] + size) contiguous = false;
  }
  let crc = 0;
  // The checksum is over the value buffers back to back; when they are (as apache-arrow
  // lays out 8-byte-multiple buffers without validity bitmaps), one call covers them all.
  if (contiguous) crc = crc32(bytes.subarray(starts[0], starts[0] + SCHEMA.length * size));
  else for (const at of starts) crc = crc32(bytes.subarray(at, at + size), crc);
  if (checksumText(crc) !== expected) {
    throw new CorruptFileError(
      `checksum differs: file says ${expected}, column bytes hash to ${checksumText(crc)}`,
    );
  }
  const columns = {} as KlineColumns;
  let copiedColumns = 0;
  for (let i = 0; i < SCHEMA.length; i++) {
    const abs = bytes.byteOffset + starts[i];
    let col: Float64Array;
    if (abs % 8 === 0) col = new Float64Array(bytes.buffer, abs, rows);
    else {
      // Arrow pads bodies to 8 bytes, so this only happens for a caller-sliced buffer.
      col = new Float64Array(rows);
      bytesOf(col).set(bytes.subarray(starts[i], starts[i] + size));
      copiedColumns++;
    }
    if (SCHEMA[i].kind !== "float") int64ToFloat64InPlace(col);
    columns[SCHEMA[i].field] = col;
  }
  return { columns, rows, identity, copiedColumns };
}
