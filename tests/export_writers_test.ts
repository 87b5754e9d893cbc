import { assert, assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
import { join } from "@std/path";
import { tableFromIPC } from "apache-arrow";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { allocateColumns, KLINE_COLUMNS, type KlineColumns } from "../src/klines.ts";
import { parseKlineCsv } from "../src/vision/csv_parser.ts";
import {
  CSV_HEADER,
  csvChunks,
  EXPORT_COLUMNS,
  exportFormatOf,
  formatNumber,
  writeArrow,
  writeCsv,
  writeKlines,
  writeParquet,
} from "../src/export/mod.ts";

const FIXTURE = new URL("./fixtures/um/BTCUSDT-1m-2024-01-01.csv", import.meta.url);
const fixture = (): KlineColumns => parseKlineCsv(Deno.readFileSync(FIXTURE));

/** Numbers that stress formatting: tiny, huge, binary-inexact, negative zero-ish. */
function tricky(): KlineColumns {
  const values = [1.2e-7, 0.1 + 0.2, 123456789.12345678, 5e-324, 1e21, 0.00002853, 42314];
  const c = allocateColumns(values.length);
  values.forEach((v, i) => {
    c.openTime[i] = 1704067200000 + i * 60_000;
    c.closeTime[i] = c.openTime[i] + 59_999;
    c.trades[i] = i * 1000;
    for (const name of KLINE_COLUMNS) {
      if (name !== "openTime" && name !== "closeTime" && name !== "trades") {
        c[name][i] = v * (i + 1);
      }
    }
  });
  return c;
}

function parseCsvText(text: string): { header: string; rows: number[][] } {
  const lines = text.split("\n");
  assertEquals(lines.at(-1), "", "ends with a newline");
  return {
    header: lines[0],
    rows: lines.slice(1, -1).map((l) =>
      l.split(",").map((f) => {
        assert(!/e/i.test(f), `no exponent notation: ${f}`);
        return Number(f);
      })
    ),
  };
}

function assertSameColumns(actual: (col: number, row: number) => number, c: KlineColumns) {
  EXPORT_COLUMNS.forEach((col, j) => {
    const src = c[col.field];
    for (let i = 0; i < src.length; i++) {
      if (!Object.is(actual(j, i), src[i])) {
        throw new Error(`${col.name}[${i}]: got ${actual(j, i)}, want ${src[i]}`);
      }
    }
  });
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vd-export-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("formatNumber gives the shortest round-trip text in plain notation", () => {
  const cases: [number, string][] = [
    [1.2e-7, "0.00000012"],
    [-1.2e-7, "-0.00000012"],
    [1e21, "1000000000000000000000"],
    [1.5e22, "15000000000000000000000"],
    [0.1 + 0.2, "0.30000000000000004"],
    [42314, "42314"],
    [1704067200000, "1704067200000"],
    [0, "0"],
  ];
  for (const [x, want] of cases) assertEquals(formatNumber(x), want);
  for (const x of [5e-324, 1.7976931348623157e308, 2.5e-7, 123e-20]) {
    assertStrictEquals(Number(formatNumber(x)), x);
  }
});

Deno.test("CSV: header, chunking, exact round trip of real and tricky values", async () => {
  await withDir(async (dir) => {
    for (const c of [fixture(), tricky()]) {
      const path = join(dir, "k.csv");
      const bytes = await writeCsv(c, path, { chunkRows: 100 });
      const text = await Deno.readTextFile(path);
      assertEquals(bytes, new TextEncoder().encode(text).length);
      const { header, rows } = parseCsvText(text);
      assertEquals(header, CSV_HEADER);
      assertEquals(
        header,
        "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume," +
          "taker_buy_quote_volume",
      );
      assertEquals(rows.length, c.openTime.length);
      assertSameColumns((j, i) => rows[i][j], c);
    }
    const real = (await Deno.readTextFile(join(dir, "k.csv"))).split("\n");
    assertEquals(real.length, 7 + 2);
  });
  const chunks = [...csvChunks(fixture(), { chunkRows: 500 })];
  assertEquals(chunks.length, 1 + 3, "header + ceil(1440 / 500) chunks");
});

Deno.test("CSV matches the Binance fixture's fields, number for number", () => {
  const c = fixture();
  const ours = [...csvChunks(c)].join("").split("\n").slice(1, -1);
  const theirs = Deno.readTextFileSync(FIXTURE).split("\n").slice(1, -1);
  assertEquals(ours.length, 1440);
  for (let i = 0; i < theirs.length; i++) {
    const a = ours[i].split(",").map(Number);
    const b = theirs[i].split(",").slice(0, 11).map(Number);
    assertEquals(a, b);
  }
  assertEquals(ours[0].split(",")[0], "1704067200000");
});

Deno.test("Arrow: IPC file reads back with the export schema and exact values", async () => {
  await withDir(async (dir) => {
    const c = fixture();
    const path = join(dir, "k.arrow");
    const bytes = await writeArrow(c, path);
    const data = await Deno.readFile(path);
    assertEquals(bytes, data.length);
    assertEquals(new TextDecoder().decode(data.subarray(0, 6)), "ARROW1");
    const table = tableFromIPC(data);
    assertEquals(table.numRows, 1440);
    assertEquals(table.schema.fields.map((f) => f.name), CSV_HEADER.split(","));
    assertEquals(String(table.schema.fields[0].type), "Timestamp<MILLISECOND, UTC>");
    assertEquals(String(table.schema.fields[8].type), "Int64");
    assertEquals(String(table.schema.fields[1].type), "Float64");
    const cols = EXPORT_COLUMNS.map((col) => table.getChild(col.name)!);
    assertSameColumns((j, i) => Number(cols[j].get(i)), c);
  });
});

Deno.test("Parquet: reads back with hyparquet: schema, timestamps, exact values", async () => {
  await withDir(async (dir) => {
    const c = fixture();
    const path = join(dir, "k.parquet");
    const bytes = await writeParquet(c, path, { rowGroupSize: 500 });
    const file = (await Deno.readFile(path)).buffer;
    assertEquals(bytes, file.byteLength);
    const meta = parquetMetadata(file);
    assertEquals(meta.num_rows, 1440n);
    assertEquals(meta.row_groups.length, 3);
    const schema = meta.schema.slice(1);
    assertEquals(schema.map((s) => s.name), CSV_HEADER.split(","));
    assertEquals(schema[0].type, "INT64");
    assertEquals(schema[0].converted_type, "TIMESTAMP_MILLIS");
    assertEquals(schema[8].type, "INT64");
    assertEquals(schema[8].converted_type, undefined);
    assertEquals(schema[1].type, "DOUBLE");
    const rows = await parquetReadObjects({ file });
    assertEquals(rows.length, 1440);
    const value = (v: unknown): number => v instanceof Date ? v.getTime() : Number(v);
    assertSameColumns((j, i) => value(rows[i][EXPORT_COLUMNS[j].name]), c);
  });
});

Deno.test("empty klines write valid empty files in every format", async () => {
  await withDir(async (dir) => {
    const c = allocateColumns(0);
    await writeCsv(c, join(dir, "e.csv"));
    assertEquals(await Deno.readTextFile(join(dir, "e.csv")), CSV_HEADER + "\n");
    await writeArrow(c, join(dir, "e.arrow"));
    assertEquals(tableFromIPC(await Deno.readFile(join(dir, "e.arrow"))).numRows, 0);
    await writeParquet(c, join(dir, "e.parquet"));
    const file = (await Deno.readFile(join(dir, "e.parquet"))).buffer;
    assertEquals(parquetMetadata(file).num_rows, 0n);
  });
});

Deno.test("writeKlines picks the format by extension and rejects unknown ones", async () => {
  assertEquals(exportFormatOf("a/b.CSV"), "csv");
  assertEquals(exportFormatOf("b.feather"), "arrow");
  assertEquals(exportFormatOf("b.pq"), "parquet");
  assertEquals(exportFormatOf("b.json"), undefined);
  await withDir(async (dir) => {
    const c = tricky();
    await writeKlines(c, join(dir, "x.parquet"));
    const file = (await Deno.readFile(join(dir, "x.parquet"))).buffer;
    assertEquals(parquetMetadata(file).num_rows, 7n);
    const err = await assertRejects(() => writeKlines(c, join(dir, "x.json")), TypeError);
    assert(err.message.includes("x.json"));
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["x.parquet"]);
  });
});

Deno.test("an aborted or failing write leaves neither a partial nor a temp file", async () => {
  await withDir(async (dir) => {
    const c = fixture();
    const target = join(dir, "keep.csv");
    await Deno.writeTextFile(target, "previous\n");
    const ac = new AbortController();
    ac.abort(new DOMException("stop", "AbortError"));
    for (const path of [target, join(dir, "new.arrow"), join(dir, "new.parquet")]) {
      await assertRejects(() => writeKlines(c, path, { signal: ac.signal }), DOMException, "stop");
    }
    // Abort mid-stream: the third chunk check throws, after a partial temp file was written.
    let checks = 0;
    let sawPartial = false;
    const midway = {
      throwIfAborted() {
        if (++checks < 3) return;
        const temps = [...Deno.readDirSync(dir)].filter((e) => e.name.includes(".tmp-"));
        sawPartial = temps.length === 1 && Deno.statSync(join(dir, temps[0].name)).size > 0;
        throw new DOMException("mid", "AbortError");
      },
    } as AbortSignal;
    await assertRejects(
      () => writeCsv(c, join(dir, "mid.csv"), { signal: midway, chunkRows: 10 }),
      DOMException,
      "mid",
    );
    assert(sawPartial, "the abort happened mid-stream");
    await assertRejects(
      () => writeParquet(c, join(dir, "missing", "x.parquet")),
      Deno.errors.NotFound,
    );
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["keep.csv"]);
    assertEquals(await Deno.readTextFile(target), "previous\n");
  });
});
