/**
 * Streamed exports equal the in-memory ones: the same CSV bytes, the same Arrow and Parquet
 * values and schema (one record batch per chunk, row groups of the asked size).
 */
import { assertEquals, assertRejects } from "@std/assert";
import { join } from "@std/path";
import { tableFromIPC } from "apache-arrow";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { EXPORT_COLUMNS } from "../src/columns.ts";
import { Klines } from "../src/klines.ts";
import { writeArrow, writeCsv, writeKlinesStream, writeParquet } from "../src/export/mod.ts";
import { startReplica } from "../testing/mod.ts";
import { managerFor, NOW, tempCacheDir } from "./_manager_helpers.ts";

const Q = { symbol: "BTCUSDT", interval: "1h" as const, start: "2025-01-15", end: "2025-04-10" };

Deno.test("streamed CSV, Arrow and Parquet files equal the in-memory exports", async () => {
  await using replica = await startReplica({ now: NOW });
  await using dir = await tempCacheDir();
  await using manager = managerFor(replica, join(dir.path, "cache"));
  const whole = await manager.getData(Q);
  const p = (name: string) => join(dir.path, name);

  await writeCsv(whole, p("mem.csv"));
  const csv = await writeKlinesStream(manager.stream(Q), p("s.csv"));
  assertEquals(csv.rows, whole.length);
  assertEquals(await Deno.readFile(p("s.csv")), await Deno.readFile(p("mem.csv")));

  await writeArrow(whole, p("mem.arrow"));
  await writeKlinesStream(manager.stream({ ...Q, ahead: 1 }), p("s.arrow"));
  const memArrow = tableFromIPC(await Deno.readFile(p("mem.arrow")));
  const sArrow = tableFromIPC(await Deno.readFile(p("s.arrow")));
  assertEquals(String(sArrow.schema), String(memArrow.schema));
  assertEquals(sArrow.numRows, whole.length);
  // Warm now: one record batch per cached day (17 + 28 + 31 + 9).
  assertEquals(sArrow.batches.length, 85);
  for (const col of EXPORT_COLUMNS) {
    assertEquals(sArrow.getChild(col.name)!.toArray(), memArrow.getChild(col.name)!.toArray());
  }

  await writeParquet(whole, p("mem.parquet"), { rowGroupSize: 500 });
  await writeKlinesStream(manager.stream(Q), p("s.parquet"), { rowGroupSize: 500 });
  const memFile = (await Deno.readFile(p("mem.parquet"))).buffer;
  const sFile = (await Deno.readFile(p("s.parquet"))).buffer;
  const memMeta = parquetMetadata(memFile);
  const sMeta = parquetMetadata(sFile);
  assertEquals(sMeta.schema, memMeta.schema);
  assertEquals(sMeta.num_rows, BigInt(whole.length));
  assertEquals(
    sMeta.row_groups.map((g) => g.num_rows),
    memMeta.row_groups.map((g) => g.num_rows),
  );
  assertEquals(sMeta.row_groups[0].columns[4].meta_data?.statistics?.max_value !== undefined, true);
  assertEquals(
    await parquetReadObjects({ file: sFile }),
    await parquetReadObjects({ file: memFile }),
  );
});

Deno.test("writeKlinesStream: empty input writes valid empty files; a failing stream leaves none", async () => {
  await using dir = await tempCacheDir();
  const meta = { symbol: "BTCUSDT", interval: "1m" as const, marketType: "spot" as const };
  const p = (name: string) => join(dir.path, name);
  await writeKlinesStream([], p("e.csv"));
  assertEquals(
    await Deno.readTextFile(p("e.csv")),
    EXPORT_COLUMNS.map((c) => c.name).join(",") + "\n",
  );
  await writeKlinesStream([Klines.empty(meta)], p("e.arrow"));
  assertEquals(tableFromIPC(await Deno.readFile(p("e.arrow"))).numRows, 0);
  await writeKlinesStream([], p("e.parquet"));
  assertEquals(parquetMetadata((await Deno.readFile(p("e.parquet"))).buffer).num_rows, 0n);
  async function* failing() {
    yield Klines.empty(meta);
    throw new RangeError("source broke");
  }
  for (const name of ["f.csv", "f.arrow", "f.parquet"]) {
    await assertRejects(() => writeKlinesStream(failing(), p(name)), RangeError, "source broke");
  }
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name).sort(), [
    "e.arrow",
    "e.csv",
    "e.parquet",
  ]);
});
