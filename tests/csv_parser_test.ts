import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { fromFileUrl } from "@std/path";
import { ArchiveError } from "../src/errors.ts";
import { KLINE_COLUMNS, type KlineColumns } from "../src/klines.ts";
import { parseKlineCsv } from "../src/vision/csv_parser.ts";

const fixture = (p: string) =>
  Deno.readFileSync(fromFileUrl(new URL(`./fixtures/${p}`, import.meta.url)));
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** The obvious implementation, written independently: split, Number, BigInt for µs. */
function naiveParse(text: string): number[][] {
  const lines = text.split(/\r?\n/).filter((l, i, all) => l !== "" || i < all.length - 1);
  while (lines.length && lines.at(-1) === "") lines.pop();
  if (lines.length && !/^[0-9]/.test(lines[0])) lines.shift();
  return lines.map((line) => {
    const f = line.split(",");
    assertEquals(f.length, 12, line);
    return f.slice(0, 11).map((x, k) => {
      if ((k === 0 || k === 6) && x.length >= 16) return Number(BigInt(x) / 1000n);
      return Number(x);
    });
  });
}

/** Every value bit-identical (Object.is: also tells 0 from -0), row by row. */
function assertColumnsEqual(actual: KlineColumns, rows: number[][]) {
  assertEquals(actual.openTime.length, rows.length);
  KLINE_COLUMNS.forEach((name, k) => {
    const col = actual[name];
    for (let r = 0; r < rows.length; r++) {
      if (!Object.is(col[r], rows[r][k])) {
        throw new Error(`row ${r} ${name}: got ${col[r]}, expected ${rows[r][k]}`);
      }
    }
  });
}

const FIXTURES = [
  ["spot/BTCUSDT-1m-2017-08-17.csv", 1200],
  ["um/BTCUSDT-1m-2024-01-01.csv", 1440],
  ["um/BTCUSDT-1m-2025-01-01.csv", 1440],
  ["spot_us/README-rows.csv", 33],
  ["spot/ADABTC-1m-2021-11-27.csv", 10],
  ["spot/ADABTC-1m-2021-11-28.csv", 11],
] as const;

Deno.test("real fixtures parse to exactly the values of a naive split+Number parser", () => {
  for (const [path, rows] of FIXTURES) {
    const bytes = fixture(path);
    const cols = parseKlineCsv(bytes, { file: path });
    assertEquals(cols.openTime.length, rows, path);
    assertColumnsEqual(cols, naiveParse(dec(bytes)));
  }
});

Deno.test("fixture spot 2017: first and last rows, steps of one minute", () => {
  const c = parseKlineCsv(fixture("spot/BTCUSDT-1m-2017-08-17.csv"));
  assertEquals(c.openTime[0], 1502942400000);
  assertEquals(c.open[0], 4261.48);
  assertEquals(c.volume[0], 1.775183);
  assertEquals(c.closeTime[0], 1502942459999);
  assertEquals(c.quoteVolume[0], 7564.90685084);
  assertEquals(c.trades[0], 3);
  assertEquals(c.takerBuyQuoteVolume[0], 320.39085084);
  assertEquals(c.openTime[1199], 1503014340000);
  for (let i = 1; i < 1200; i++) assertEquals(c.openTime[i] - c.openTime[i - 1], 60_000);
});

Deno.test("futures header is skipped; first row is the first data line", () => {
  const c = parseKlineCsv(fixture("um/BTCUSDT-1m-2024-01-01.csv"));
  assertEquals(c.openTime[0], 1704067200000);
  assertEquals(c.open[0], 42314);
  assertEquals(c.quoteVolume[0], 12256155.25625);
  assertEquals(c.openTime[1439], 1704153540000);
});

Deno.test("µs timestamps become the ms values the ms files carry (close floored)", () => {
  const us = parseKlineCsv(fixture("spot_us/README-rows.csv"));
  // Line 1: open 1735689600000000 µs, close 1735689659999999 µs.
  assertEquals(us.openTime[0], 1735689600000);
  assertEquals(us.closeTime[0], 1735689659999);
  // The USD-M ms file of the same minute has exactly these times.
  const ms = parseKlineCsv(fixture("um/BTCUSDT-1m-2025-01-01.csv"));
  assertEquals([us.openTime[0], us.closeTime[0]], [ms.openTime[0], ms.closeTime[0]]);
  for (let i = 0; i < us.openTime.length; i++) {
    assert(Number.isInteger(us.closeTime[i]) && us.closeTime[i] < 1e15);
    // close = open + interval − 1 ms for 1s, 1m and 1h rows alike
    assert([999, 59_999, 3_599_999].includes(us.closeTime[i] - us.openTime[i]));
  }
});

Deno.test("all columns are views of one transferable buffer of n × 11 float64", () => {
  const c = parseKlineCsv(fixture("spot/ADABTC-1m-2021-11-27.csv"));
  const buffer = c.openTime.buffer;
  for (const name of KLINE_COLUMNS) assert(c[name].buffer === buffer, name);
  assertEquals(buffer.byteLength, 10 * 8 * 11);
});

Deno.test("the column layout the parse worker loads has no imports (keeps apache-arrow out)", () => {
  const text = Deno.readTextFileSync(new URL("../src/columns.ts", import.meta.url));
  assertEquals(/^import /m.test(text), false);
});

Deno.test("CRLF, no trailing newline, extra trailing newlines and a BOM give the same rows", () => {
  const text = dec(fixture("spot/BTCUSDT-1m-2017-08-17.csv"));
  const want = parseKlineCsv(enc(text));
  const variants = [
    text.replaceAll("\n", "\r\n"),
    text.trimEnd(),
    text.replaceAll("\n", "\r\n").trimEnd(),
    text + "\n\n",
    "\uFEFF" + text,
  ];
  for (const v of variants) {
    const got = parseKlineCsv(enc(v));
    for (const name of KLINE_COLUMNS) assertEquals(got[name], want[name], name);
  }
});

Deno.test("empty, blank and header-only inputs give zero rows", () => {
  const header = "open_time,open,high,low,close,volume,close_time,quote_volume,count," +
    "taker_buy_volume,taker_buy_quote_volume,ignore";
  for (const text of ["", "\n", "\r\n", header, header + "\n", header + "\r\n"]) {
    const c = parseKlineCsv(enc(text));
    assertEquals(c.openTime.length, 0, JSON.stringify(text));
    assertEquals(c.close.length, 0);
  }
});

Deno.test("decimals are bit-identical to Number(text), including the tricky ones", () => {
  const tricky = [
    "0.1",
    "0.2",
    "0.30000000000000004",
    "123456789.12345678",
    "1.7976931348623157",
    "9007199254740991",
    "9007199254740993", // 2^53 + 1: rounds
    "12345678901234567890.123", // beyond 2^53: the slow path
    "0.000000000000000000000001", // 24 decimals: beyond exact powers of ten
    "4261.48000000",
    "00012.50",
    "5.",
    ".5",
    "-0.5",
    "-0",
    "-0.00000000",
    "1e5",
    "1E-8",
    "2.5e+3",
    "0.00000001",
    "99999999.99999999",
  ];
  const row = (x: string) => `1,${x},${x},${x},${x},${x},2,${x},3,${x},${x},0\n`;
  const c = parseKlineCsv(enc(tricky.map(row).join("")));
  tricky.forEach((x, r) => {
    for (const name of ["open", "high", "low", "close", "volume", "quoteVolume"] as const) {
      assert(Object.is(c[name][r], Number(x)), `${x}: got ${c[name][r]}, want ${Number(x)}`);
    }
  });
});

Deno.test("randomized decimals of 1..20 significant digits match Number(text)", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join("");
  const values: string[] = [];
  for (let k = 0; k < 5000; k++) {
    const intPart = digits(Math.floor(rnd() * 12) + 1);
    const fracLen = Math.floor(rnd() * 13);
    values.push(fracLen ? `${intPart}.${digits(fracLen)}` : intPart);
  }
  const text = values.map((x) => `1,${x},1,1,1,1,2,1,3,1,1,0`).join("\n");
  const c = parseKlineCsv(enc(text));
  values.forEach((x, r) => assert(Object.is(c.open[r], Number(x)), `${x}: ${c.open[r]}`));
});

Deno.test("rows much shorter than the first one (the size estimate) still all arrive", () => {
  const first = `1,2,3,4,5,6,7,8,9,10,11,${"x".repeat(5000)}\n`;
  const rest = Array.from({ length: 3000 }, (_, r) => `${r},1,1,1,1,1,2,1,3,1,1,0\n`).join("");
  const c = parseKlineCsv(enc(first + rest));
  assertEquals(c.openTime.length, 3001);
  assertEquals(c.openTime[3000], 2999);
  assertEquals(c.openTime.buffer.byteLength, 3001 * 8 * 11);
  assertEquals(c.takerBuyQuoteVolume[0], 11);
});

Deno.test("the 12th field is read and discarded, whatever it holds", () => {
  const c = parseKlineCsv(enc("1,2,3,4,5,6,7,8,9,10,11,\n1,2,3,4,5,6,7,8,9,10,11,anything\n"));
  assertEquals(c.openTime.length, 2);
  assertEquals(c.takerBuyQuoteVolume[1], 11);
});

function expectError(text: string, line: number, includes: string[]) {
  const err = assertThrows(() => parseKlineCsv(enc(text), { file: "X-1m-2024-01-01.csv" }));
  assertInstanceOf(err, ArchiveError);
  assertEquals(err.file, "X-1m-2024-01-01.csv");
  assertEquals(err.line, line);
  assertStringIncludes(err.message, `X-1m-2024-01-01.csv line ${line}`);
  for (const s of includes) assertStringIncludes(err.message, s);
}

Deno.test("malformed rows are ArchiveErrors naming file, 1-based line and text", () => {
  const ok = "1,2,3,4,5,6,7,8,9,10,11,0\n";
  expectError(ok + "1,2,3,4,5,6,7,8,9,10,11\n", 2, ["expected 12 fields, got 11"]);
  expectError(ok + ok + "1,2,3,4,5,6,7,8,9,10,11,0,13\n", 3, ["expected 12 fields, got 13"]);
  expectError("1,2,3\n", 1, ["got 3", '"1,2,3"']);
  expectError(ok + "1,2,,4,5,6,7,8,9,10,11,0", 2, ["field 3 (high) is empty"]);
  expectError(ok + "1,2,abc,4,5,6,7,8,9,10,11,0", 2, ['field 3 (high) is not a number: "abc"']);
  expectError("1,2,3,4,5,6,7,8,9,10,1.2.3,0\r\n", 1, ['"1.2.3"', "takerBuyQuoteVolume"]);
  expectError(ok + "\n" + ok, 2, ["expected 12 fields, got 1"]);
  for (const bad of ["NaN", "Infinity", "0x10", " 1", "1 ", "+1", "-", ".", "1e", "--1"]) {
    expectError(`1,${bad},3,4,5,6,7,8,9,10,11,0\n`, 1, [JSON.stringify(bad)]);
  }
  // The header rule: only a non-numeric first field on the FIRST line is a header.
  expectError(ok + "open_time,open,high,low,close,volume,close_time,q,c,t,tq,ignore\n", 2, [
    "field 1 (openTime)",
  ]);
  // The line number counts the header line.
  expectError("open_time,a,b,c,d,e,f,g,h,i,j,k\n" + ok + "1,2\n", 3, ["got 2"]);
});

Deno.test("a CSV without a file name still reports the line", () => {
  const err = assertThrows(() => parseKlineCsv(enc("1,2\n")), ArchiveError);
  assertStringIncludes(err.message, "line 1");
  assertEquals(err.file, undefined);
});

Deno.test("releaseInput frees the CSV's buffer once read; the columns are the same", () => {
  const csv = fixture("um/BTCUSDT-1m-2024-01-01.csv"); // ~200 KB: big enough to be freed
  const expected = parseKlineCsv(csv);
  const owned = csv.slice();
  const got = parseKlineCsv(owned, { releaseInput: true });
  assertEquals(KLINE_COLUMNS.map((c) => got[c]), KLINE_COLUMNS.map((c) => expected[c]));
  assertEquals(owned.buffer.detached, true);
  assertEquals(owned.length, 0);
  // Without the option the caller's bytes are left alone.
  parseKlineCsv(csv);
  assertEquals(csv.buffer.detached, false);
  // A malformed file keeps its bytes (the error names the line; the caller frees them).
  const bad = enc("1,2,3\n".repeat(20_000));
  assertThrows(() => parseKlineCsv(bad, { releaseInput: true }), ArchiveError);
  assertEquals(bad.buffer.detached, false);
});
