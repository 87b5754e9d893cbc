/**
 * DuckDB reads what the writers write (CSV and Parquet; DuckDB reads Arrow IPC files only
 * through its `arrow` community extension, which is downloaded at run time — not offline).
 */
import { assertEquals } from "@std/assert";
import { join } from "@std/path";
// Test-only native package, imported by full npm: specifier (not through the import maps)
// so that the library, the CLI and `deno task demo` never download it.
import { DuckDBInstance } from "npm:@duckdb/node-api@1.5.6-r.1";
import { parseKlineCsv } from "../src/vision/csv_parser.ts";
import { writeCsv, writeParquet } from "../src/export/mod.ts";

const FIXTURE = new URL("./fixtures/um/BTCUSDT-1m-2024-01-01.csv", import.meta.url);

Deno.test("DuckDB reads the CSV and Parquet output with the right rows and types", async () => {
  const columns = parseKlineCsv(Deno.readFileSync(FIXTURE));
  const dir = await Deno.makeTempDir({ prefix: "vd-duckdb-test-" });
  const instance = await DuckDBInstance.create(":memory:");
  const con = await instance.connect();
  try {
    const csv = join(dir, "k.csv");
    const parquet = join(dir, "k.parquet");
    await writeCsv(columns, csv);
    await writeParquet(columns, parquet);
    const query = async (sql: string) => (await con.runAndReadAll(sql)).getRowObjectsJS();
    const summary = (first: string) =>
      `count(*)::INTEGER AS n, ${first} AS first, sum(count)::BIGINT AS trades, max(high) AS high`;
    const fromCsv = await query(`SELECT ${summary("min(open_time)")} FROM read_csv('${csv}')`);
    const fromParquet = await query(
      `SELECT ${summary("epoch_ms(min(open_time))")} FROM read_parquet('${parquet}')`,
    );
    let trades = 0;
    for (const t of columns.trades) trades += t;
    const high = Math.max(...columns.high);
    const want = { n: 1440, first: 1704067200000n, trades: BigInt(trades), high };
    assertEquals(fromCsv, [want], "CSV times are epoch-ms integers");
    assertEquals(fromParquet, [want], "Parquet times are UTC instants in ms");
    const types = await query(
      `SELECT column_name AS name, column_type AS type FROM (DESCRIBE SELECT * FROM read_parquet('${parquet}'))`,
    );
    assertEquals(types.map((t) => `${t.name}:${t.type}`), [
      "open_time:TIMESTAMP WITH TIME ZONE",
      "open:DOUBLE",
      "high:DOUBLE",
      "low:DOUBLE",
      "close:DOUBLE",
      "volume:DOUBLE",
      "close_time:TIMESTAMP WITH TIME ZONE",
      "quote_volume:DOUBLE",
      "count:BIGINT",
      "taker_buy_volume:DOUBLE",
      "taker_buy_quote_volume:DOUBLE",
    ]);
  } finally {
    con.closeSync();
    instance.closeSync();
    await Deno.remove(dir, { recursive: true });
  }
});
