import { assertEquals, assertRejects } from "@std/assert";
import { join } from "@std/path";
import { tableFromIPC } from "apache-arrow";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import {
  type AggTradeColumns,
  allocateAggTradeColumns,
  sliceAggTrades,
} from "../src/agg_trades/columns.ts";
import { AGG_TRADES_EXPORT_COLUMNS, writeAggTrades } from "../src/agg_trades/export.ts";

/** Deterministic columns: `n` rows, negative-free, flags alternating in runs. */
function columns(n: number): AggTradeColumns {
  const c = allocateAggTradeColumns(n);
  for (let i = 0; i < n; i++) {
    c.aggTradeId[i] = 1_000_000_000 + i;
    c.price[i] = 30000 + (i % 977) / 100;
    c.quantity[i] = ((i * 7) % 1000) / 1000 + 0.001;
    c.firstTradeId[i] = 5_000_000_000 + 2 * i;
    c.lastTradeId[i] = 5_000_000_001 + 2 * i;
    c.transactTime[i] = 1_760_054_400_000 + i * 37;
    c.isBuyerMaker[i] = (i * 13) % 5 < 2 ? 1 : 0;
  }
  return c;
}

function* chunks(c: AggTradeColumns, size: number): Generator<AggTradeColumns> {
  for (let at = 0; at < c.aggTradeId.length; at += size) {
    yield sliceAggTrades(c, at, Math.min(c.aggTradeId.length, at + size));
  }
}

async function* failing(): AsyncGenerator<AggTradeColumns> {
  yield columns(100);
  throw new Error("source failed");
}

async function* asyncOf<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

const FIELDS: Record<(typeof AGG_TRADES_EXPORT_COLUMNS)[number], keyof AggTradeColumns> = {
  agg_trade_id: "aggTradeId",
  price: "price",
  quantity: "quantity",
  first_trade_id: "firstTradeId",
  last_trade_id: "lastTradeId",
  transact_time: "transactTime",
  is_buyer_maker: "isBuyerMaker",
};

/** A cell as a number whatever the reader hands out (bigint, Date, boolean). */
function num(v: unknown): number {
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v === "boolean") return v ? 1 : 0;
  return v as number;
}

function assertRowsEqual(rows: Record<string, unknown>[], want: AggTradeColumns): void {
  assertEquals(rows.length, want.aggTradeId.length);
  for (const [name, field] of Object.entries(FIELDS)) {
    for (let i = 0; i < rows.length; i++) {
      const got = num(rows[i][name]);
      if (got !== want[field][i]) throw new Error(`${name}[${i}]: ${got} != ${want[field][i]}`);
    }
  }
}

Deno.test("aggTrades Arrow export is an Arrow IPC file (like the kline exports), every cell", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vd-agg-export-" });
  try {
    const want = columns(25_000);
    const path = join(dir, "t.arrow");
    const out = await writeAggTrades(asyncOf(chunks(want, 6_000)), path);
    assertEquals(out.rows, 25_000);
    const bytes = await Deno.readFile(path);
    const magic = new TextEncoder().encode("ARROW1");
    // The file format: "ARROW1" at both ends (the stream format has neither).
    assertEquals(bytes.subarray(0, 6), magic);
    assertEquals(bytes.subarray(bytes.length - 6), magic);
    assertEquals(out.bytes, bytes.length);
    const t = tableFromIPC(bytes);
    assertEquals(t.schema.fields.map((f) => f.name), [...AGG_TRADES_EXPORT_COLUMNS]);
    assertEquals(t.batches.length, 5, "one record batch per chunk");
    assertRowsEqual(t.toArray().map((r) => r.toJSON()), want);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("aggTrades Parquet export: row groups of rowGroupSize across chunks, every cell", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vd-agg-export-" });
  try {
    const want = columns(25_000);
    const path = join(dir, "t.parquet");
    await writeAggTrades(asyncOf(chunks(want, 12_000)), path, { rowGroupSize: 5_000 });
    const file = (await Deno.readFile(path)).buffer;
    const meta = parquetMetadata(file);
    assertEquals(meta.row_groups.map((g) => Number(g.num_rows)), [5000, 5000, 5000, 5000, 5000]);
    assertEquals(meta.schema.slice(1).map((s) => s.name), [...AGG_TRADES_EXPORT_COLUMNS]);
    const time = meta.schema.find((s) => s.name === "transact_time")!;
    assertEquals(time.logical_type?.type, "TIMESTAMP");
    assertRowsEqual(await parquetReadObjects({ file, utf8: false }), want);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("aggTrades export: no chunks gives valid empty files; a failing stream leaves none", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vd-agg-export-" });
  try {
    for (const ext of ["csv", "arrow", "parquet"]) {
      const path = join(dir, `empty.${ext}`);
      assertEquals((await writeAggTrades(asyncOf([]), path)).rows, 0);
      const bytes = await Deno.readFile(path);
      if (ext === "csv") {
        assertEquals(new TextDecoder().decode(bytes), AGG_TRADES_EXPORT_COLUMNS.join(",") + "\n");
      } else if (ext === "arrow") {
        const t = tableFromIPC(bytes);
        assertEquals([t.numRows, t.schema.fields.length], [0, 7]);
      } else {
        assertEquals(Number(parquetMetadata(bytes.buffer).num_rows), 0);
      }
      const bad = join(dir, `bad.${ext}`);
      await assertRejects(() => writeAggTrades(failing(), bad), Error, "source failed");
    }
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(left, ["empty.arrow", "empty.csv", "empty.parquet"], "no partial or temp file");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
