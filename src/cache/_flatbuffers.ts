/**
 * A bounds-checked reader for the few FlatBuffers tables of the Arrow IPC format that the
 * cache reads (Footer, Schema, Field, Message, RecordBatch). apache-arrow's full reader
 * builds a Table per file; for 365 small files that costs more than the checksum, so the
 * cache walks the tables itself. Every access is checked: a corrupt file throws
 * {@linkcode FlatBufferError}, never reads out of bounds or loops on a garbage length.
 *
 * @module
 */

/** A structural problem in a FlatBuffer (offset out of bounds, bad vector length). */
export class FlatBufferError extends Error {
  /** @param message what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "FlatBufferError";
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 text of `bytes[start, end)`; short ASCII (every name the cache reads) skips TextDecoder. */
function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return decoder.decode(bytes.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c >= 0x80) return decoder.decode(bytes.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}

/** A view of one FlatBuffer inside a larger byte array (`[start, end)`). */
export class FlatBuffer {
  /** The bytes, as a little-endian view. */
  readonly view: DataView;
  /** The byte array the buffer lives in. */
  readonly bytes: Uint8Array;
  /** First byte of the buffer (root offset position). */
  readonly start: number;
  /** One past the last byte. */
  readonly end: number;

  /**
   * @param bytes the byte array
   * @param start where the buffer starts
   * @param end where it ends
   */
  constructor(bytes: Uint8Array, start: number, end: number) {
    if (start < 0 || end > bytes.length || start + 4 > end) {
      throw new FlatBufferError(`buffer [${start}, ${end}) outside ${bytes.length} bytes`);
    }
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.start = start;
    this.end = end;
  }

  #check(pos: number, size: number): void {
    if (pos < this.start || pos + size > this.end) {
      throw new FlatBufferError(`offset ${pos}+${size} outside [${this.start}, ${this.end})`);
    }
  }

  /** The root table's position. */
  root(): number {
    return this.#deref(this.start);
  }

  /** Follows a uoffset stored at `pos`. */
  #deref(pos: number): number {
    this.#check(pos, 4);
    const target = pos + this.view.getUint32(pos, true);
    this.#check(target, 4);
    return target;
  }

  /** Position of field `index` of the table at `table`, or 0 when absent. */
  field(table: number, index: number): number {
    this.#check(table, 4);
    const vtable = table - this.view.getInt32(table, true);
    this.#check(vtable, 4);
    const vtSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    this.#check(vtable, vtSize);
    this.#check(table, tableSize);
    const slot = 4 + 2 * index;
    if (slot + 2 > vtSize) return 0;
    const off = this.view.getUint16(vtable + slot, true);
    if (off === 0) return 0;
    if (off >= tableSize) throw new FlatBufferError(`field ${index} outside its table`);
    return table + off;
  }

  /** Scalar uint8 field, or `dflt`. */
  u8(table: number, index: number, dflt = 0): number {
    const p = this.field(table, index);
    if (!p) return dflt;
    this.#check(p, 1);
    return this.view.getUint8(p);
  }

  /** Scalar int16 field, or `dflt`. */
  i16(table: number, index: number, dflt = 0): number {
    const p = this.field(table, index);
    if (!p) return dflt;
    this.#check(p, 2);
    return this.view.getInt16(p, true);
  }

  /** Scalar int32 field, or `dflt`. */
  i32(table: number, index: number, dflt = 0): number {
    const p = this.field(table, index);
    if (!p) return dflt;
    this.#check(p, 4);
    return this.view.getInt32(p, true);
  }

  /** Scalar int64 field as a safe integer, or `dflt`. */
  i64(table: number, index: number, dflt = 0): number {
    const p = this.field(table, index);
    return p ? this.i64At(p) : dflt;
  }

  /** An int64 at `pos`, which must be a safe integer. */
  i64At(pos: number): number {
    this.#check(pos, 8);
    const lo = this.view.getUint32(pos, true);
    const hi = this.view.getInt32(pos + 4, true);
    const v = hi * 4294967296 + lo;
    if (!Number.isSafeInteger(v)) throw new FlatBufferError(`int64 at ${pos} is not safe`);
    return v;
  }

  /** Sub-table field position, or 0 when absent. */
  table(table: number, index: number): number {
    const p = this.field(table, index);
    return p ? this.#deref(p) : 0;
  }

  /** String field, or `undefined` when absent. */
  string(table: number, index: number): string | undefined {
    const p = this.field(table, index);
    if (!p) return undefined;
    const s = this.#deref(p);
    const len = this.view.getUint32(s, true);
    this.#check(s + 4, len);
    return decodeUtf8(this.bytes, s + 4, s + 4 + len);
  }

  /**
   * Vector field: `{ at, length }` with elements at `at + i * elementSize` (for vectors of
   * tables, read each element with {@linkcode FlatBuffer.element}). Absent → length 0.
   */
  vector(table: number, index: number, elementSize: number): { at: number; length: number } {
    const p = this.field(table, index);
    if (!p) return { at: 0, length: 0 };
    const v = this.#deref(p);
    const length = this.view.getUint32(v, true);
    this.#check(v + 4, length * elementSize);
    return { at: v + 4, length };
  }

  /** The table referenced by element `i` of a vector of tables. */
  element(vector: { at: number; length: number }, i: number): number {
    if (i < 0 || i >= vector.length) throw new FlatBufferError(`vector index ${i} out of range`);
    return this.#deref(vector.at + 4 * i);
  }
}
