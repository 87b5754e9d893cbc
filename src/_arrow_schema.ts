/**
 * The one Arrow schema of kline data — `Klines.toArrow()`, the cache's files and the Arrow
 * export all use it: {@linkcode EXPORT_COLUMNS}' names, times as `Timestamp(ms, "UTC")`,
 * the trade count as `Int64`, the rest `Float64`, none nullable.
 *
 * @module
 */
import {
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
} from "apache-arrow";
import { EXPORT_COLUMNS, type ExportKind, type KlineColumns } from "./columns.ts";
import { toInt64 } from "./_float64.ts";

function arrowType(kind: ExportKind): Float64 | Int64 | TimestampMillisecond {
  if (kind === "float") return new Float64();
  if (kind === "int") return new Int64();
  return new TimestampMillisecond("UTC");
}

/** The fields of the kline schema, in {@linkcode EXPORT_COLUMNS} order. */
export function klineArrowFields(): Field[] {
  return EXPORT_COLUMNS.map((c) => new Field(c.name, arrowType(c.kind), false));
}

/** The kline schema, with optional metadata. */
export function klineArrowSchema(metadata?: Map<string, string>): Schema {
  return new Schema(klineArrowFields(), metadata);
}

/**
 * The column values as stored: the `Float64Array` itself (zero-copy) for floats, an int64
 * conversion for times and counts.
 */
export function storedValues(columns: KlineColumns): (Float64Array | BigInt64Array)[] {
  return EXPORT_COLUMNS.map((c) =>
    c.kind === "float" ? columns[c.field] : toInt64(columns[c.field])
  );
}

/** One record batch of `columns` with `schema` (float columns are views, not copies). */
export function klineRecordBatch(schema: Schema, columns: KlineColumns): RecordBatch {
  const rows = columns.openTime.length;
  const stored = storedValues(columns);
  const children = schema.fields.map((f, i) =>
    makeData({ type: f.type, length: rows, nullCount: 0, data: stored[i] } as never)
  );
  const data = makeData({
    type: new Struct(schema.fields),
    length: rows,
    nullCount: 0,
    children,
  });
  return new RecordBatch(schema, data);
}

/** A table of one record batch per chunk (an empty batch when there is none). */
export function klineArrowTable(chunks: readonly KlineColumns[]): Table {
  const schema = klineArrowSchema();
  const batches = chunks.map((c) => klineRecordBatch(schema, c));
  if (batches.length === 0) {
    const empty = {} as KlineColumns;
    for (const c of EXPORT_COLUMNS) empty[c.field] = new Float64Array(0);
    batches.push(klineRecordBatch(schema, empty));
  }
  return new Table(schema, batches);
}
