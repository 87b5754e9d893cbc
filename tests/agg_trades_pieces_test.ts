import { assertEquals, assertRejects } from "@std/assert";
import { parseAggTradesCsv } from "../src/agg_trades/_csv.ts";
import { parseAggTradesZip } from "../src/agg_trades/_zip_pieces.ts";
import {
  AGG_TRADE_NUMERIC,
  type AggTradeColumns,
  concatAggTrades,
} from "../src/agg_trades/columns.ts";
import { ArchiveError } from "../src/errors.ts";
import { createZip } from "../testing/mod.ts";

const HEADER =
  "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n";

function csv(rows: number, header: boolean): string {
  let s = header ? HEADER : "";
  for (let i = 0; i < rows; i++) {
    s += `${100 + i},${(30000 + i / 100).toFixed(2)},0.${(i % 90) + 10},${4 * i},${4 * i + 1},` +
      `${1_760_054_400_000 + i * 31},${i % 3 === 0 ? "true" : "false"}\n`;
  }
  return s;
}

async function collect(it: AsyncIterable<AggTradeColumns>): Promise<AggTradeColumns[]> {
  const out: AggTradeColumns[] = [];
  for await (const c of it) out.push(c);
  return out;
}

function assertSame(got: AggTradeColumns, want: AggTradeColumns): void {
  for (const k of AGG_TRADE_NUMERIC) assertEquals(Array.from(got[k]), Array.from(want[k]), k);
  assertEquals(Array.from(got.isBuyerMaker), Array.from(want.isBuyerMaker));
}

Deno.test("aggTrades zip in pieces: cut at line ends, the same rows as one parse (DEFLATE and STORED, header or not)", async () => {
  const enc = new TextEncoder();
  for (const header of [true, false]) {
    const text = enc.encode(csv(5000, header));
    const whole = parseAggTradesCsv(text, "a.csv");
    for (const method of ["deflate", "store"] as const) {
      const zip = createZip("a.csv", text, { method });
      // 1000 bytes: ~15 rows a piece, so most cuts fall inside a line.
      const pieces = await collect(
        parseAggTradesZip(zip, "a.zip", { pieceBytes: 1000, inputSlice: 300 }),
      );
      assertEquals(pieces.length > 100, true, `${pieces.length} pieces`);
      assertSame(concatAggTrades(pieces), whole);
    }
  }
});

Deno.test("aggTrades zip in pieces: a bad row names its line across pieces; a header-like line mid-file is an error; CRC checked", async () => {
  const enc = new TextEncoder();
  const lines = csv(300, true).split("\n");
  lines[250] = "x,1,1,1,1,1,true";
  const bad = createZip("b.csv", enc.encode(lines.join("\n")));
  const err = await assertRejects(
    () => collect(parseAggTradesZip(bad, "b.zip", { pieceBytes: 500, inputSlice: 200 })),
    ArchiveError,
  );
  assertEquals(err.message.startsWith("b.csv line 251:"), true, err.message);
  // A second header inside the file is not skipped as one.
  const twice = createZip("c.csv", enc.encode(csv(200, true) + csv(200, true)));
  await assertRejects(
    () => collect(parseAggTradesZip(twice, "c.zip", { pieceBytes: 500, inputSlice: 200 })),
    ArchiveError,
    "c.csv line 202",
  );
  // One flipped byte of the stored data: the CRC-32 no longer matches.
  const stored = createZip("d.csv", enc.encode(csv(100, false)), { method: "store" });
  const at = stored.indexOf(enc.encode("30000.50")[0], 60);
  stored[at + 1] = stored[at + 1] === 0x31 ? 0x32 : 0x31;
  await assertRejects(() => collect(parseAggTradesZip(stored, "d.zip")), ArchiveError, "CRC-32");
});
