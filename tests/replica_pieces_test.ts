// Big replica archives built in pieces: valid zips for both readers (CRC and sizes checked),
// the CSV equals the dataset's, and the bytes are the same whoever builds the pieces.
import { assert, assertEquals } from "@std/assert";
import { crc32 } from "node:zlib";
import { BlobReader, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { extractSingleCsvSync } from "../src/vision/zip.ts";
import { archiveZipLevel, BIG_ARCHIVE_ROWS, makeArchive } from "../testing/_archive.ts";
import { crc32Combine, PIECE_ROWS, pieceRanges } from "../testing/_archive_pieces.ts";
import { makeArchiveParallel } from "../testing/_archive_parallel.ts";
import { Dataset, DEFAULT_SYMBOLS, type ReplicaSymbol } from "../testing/_dataset.ts";

const SYMBOLS: ReplicaSymbol[] = [
  ...DEFAULT_SYMBOLS,
  // Listed mid-period: the first pieces hold no rows, the header still comes first.
  { symbol: "NEWUSDT", marketType: "um", listedAt: "2023-03-02T05:00:00Z", price: 3 },
];
const INIT = { symbols: SYMBOLS, seed: 1, fixtures: [], csv: {} };
const dataset = new Dataset(SYMBOLS, 1);

function refOf(start: number, days: number) {
  const end = start + days * 86_400_000;
  return {
    key: `k${start}`,
    interval: "1s" as const,
    period: { kind: "monthly" as const, label: "x", start, end },
    zipName: "X-1s.zip",
    kind: "trades" as const,
  };
}

async function zipJsEntry(zip: Uint8Array): Promise<Uint8Array> {
  const reader = new ZipReader(new BlobReader(new Blob([zip as Uint8Array<ArrayBuffer>])), {
    useWebWorkers: false,
  });
  try {
    const [entry] = await reader.getEntries();
    assert(!entry.directory, "one file entry");
    // checkSignature: zip.js compares the entry's CRC-32 with the inflated bytes.
    return await entry.getData(new Uint8ArrayWriter(), { checkSignature: true });
  } finally {
    await reader.close();
  }
}

for (
  const [market, symbol, start, what] of [
    ["spot", "BTCUSDT", Date.UTC(2025, 2, 1), "spot, µs times"],
    ["um", "BTCUSDT", Date.UTC(2023, 2, 1), "futures, header"],
    ["um", "NEWUSDT", Date.UTC(2023, 2, 1), "listed mid-period"],
  ] as const
) {
  Deno.test(`a 1s archive in pieces (${what}) reads back as the dataset's CSV in both readers, whoever builds it`, async () => {
    const spec = dataset.spec(market, symbol)!;
    const ref = refOf(start, 3);
    const ranges = pieceRanges(dataset, spec, "1s", ref.period, "trades")!;
    assertEquals(ranges.length, Math.ceil(3 * 86_400 / PIECE_ROWS));
    const built = makeArchive(dataset, ref, spec, ref.period.end, 1)!;
    const csv = dataset.periodCsv(spec, "1s", ref.period.start, ref.period.end, ref.period.end)!;
    assertEquals(extractSingleCsvSync(built.zip), csv);
    assertEquals(await zipJsEntry(built.zip), csv);
    const parallel = await makeArchiveParallel(dataset, INIT, ref, spec, ref.period.end, 1, 1);
    assertEquals(parallel!.sha256, built.sha256);
    assertEquals(parallel!.zip, built.zip);
  });
}

Deno.test("a period without candles builds no archive, in pieces or not", async () => {
  const spec = dataset.spec("um", "NEWUSDT")!;
  const ref = refOf(Date.UTC(2023, 1, 1), 3);
  assertEquals(makeArchive(dataset, ref, spec, ref.period.end, 1), null);
  assertEquals(await makeArchiveParallel(dataset, INIT, ref, spec, ref.period.end, 1, 1), null);
});

Deno.test("small archives are one piece; big ones default to level 1 unless a level is set", () => {
  const spec = dataset.spec("spot", "BTCUSDT")!;
  const day = refOf(Date.UTC(2024, 0, 1), 1).period;
  assertEquals(pieceRanges(dataset, spec, "1s", day, "trades")?.length, 3);
  assertEquals(pieceRanges(dataset, spec, "1s", refOf(day.start, 0.5).period, "trades"), null);
  assertEquals(pieceRanges(dataset, spec, "1m", refOf(day.start, 31).period, "trades"), null);
  assertEquals(archiveZipLevel(undefined, BIG_ARCHIVE_ROWS - 1), 6);
  assertEquals(archiveZipLevel(undefined, BIG_ARCHIVE_ROWS), 1);
  assertEquals(archiveZipLevel(9, BIG_ARCHIVE_ROWS), 9);
});

Deno.test("crc32Combine gives the CRC-32 of the concatenation", () => {
  const a = new TextEncoder().encode("open_time,open\n");
  const b = new Uint8Array(100_003).map((_, i) => 48 + i % 10);
  const whole = new Uint8Array([...a, ...b]);
  assertEquals(crc32Combine(crc32(a), crc32(b), b.length), crc32(whole) >>> 0);
  assertEquals(crc32Combine(crc32(a), 0, 0), crc32(a) >>> 0);
  assert(crc32Combine(0, crc32(a), a.length) === crc32(a) >>> 0);
});
