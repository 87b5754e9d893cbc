import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "@std/assert";
import { fromFileUrl } from "@std/path";
import { crc32 } from "node:zlib";
import { BlobReader, BlobWriter, TextReader, ZipReader, ZipWriter } from "@zip.js/zip.js";
import { ArchiveError } from "../src/errors.ts";
import {
  extractSingleCsv,
  extractSingleCsvSync,
  findSingleEntry,
  listZipEntries,
} from "../src/vision/zip.ts";
import { createZip } from "../testing/_zip_writer.ts";

const csv = Deno.readFileSync(
  fromFileUrl(new URL("./fixtures/spot/BTCUSDT-1m-2017-08-17.csv", import.meta.url)),
);
const NAME = "BTCUSDT-1m-2017-08-17.csv";
const FILE = "BTCUSDT-1m-2017-08-17.zip";

/** Offset of the (first) central directory entry. */
function centralOffset(zip: Uint8Array): number {
  const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  return v.getUint32(zip.length - 22 + 16, true);
}

function expectArchiveError(zip: Uint8Array, includes: string): ArchiveError {
  const err = assertThrows(() => extractSingleCsvSync(zip, { file: FILE }), ArchiveError);
  assertEquals(err.file, FILE);
  assertStringIncludes(err.message, FILE);
  assertStringIncludes(err.message, includes);
  return err;
}

Deno.test("DEFLATE, STORED and data-descriptor entries give back the exact bytes", async () => {
  for (
    const input of [
      { name: NAME, data: csv },
      { name: NAME, data: csv, method: "store" as const },
      { name: NAME, data: csv, dataDescriptor: true },
      { name: NAME, data: csv, level: 9 },
      { name: NAME, data: new Uint8Array(0) },
    ]
  ) {
    const zip = createZip([input]);
    assertEquals(await extractSingleCsv(zip, { file: FILE }), input.data);
  }
});

Deno.test("an archive written by @zip.js/zip.js (data descriptors, extra fields) reads back", async () => {
  const writer = new ZipWriter(new BlobWriter("application/zip"), { useWebWorkers: false });
  await writer.add(NAME, new TextReader(new TextDecoder().decode(csv)));
  const blob = await writer.close();
  const zip = new Uint8Array(await blob.arrayBuffer());
  assertEquals(listZipEntries(zip).map((e) => e.name), [NAME]);
  assertEquals(await extractSingleCsv(zip), csv);
  // And the other way round: zip.js lists what our test writer produced.
  const reader = new ZipReader(new BlobReader(new Blob([createZip([{ name: NAME, data: csv }])])), {
    useWebWorkers: false,
  });
  assertEquals((await reader.getEntries()).map((e) => e.filename), [NAME]);
  await reader.close();
});

Deno.test("a directory entry next to the one file is ignored", () => {
  const zip = createZip([{ name: "data/", data: new Uint8Array(0), method: "store" }, {
    name: NAME,
    data: csv,
  }]);
  assertEquals(findSingleEntry(zip).name, NAME);
  assertEquals(extractSingleCsvSync(zip), csv);
});

Deno.test("zero or several files is an ArchiveError listing what is there", () => {
  expectArchiveError(createZip([]), "found 0");
  const two = createZip([{ name: "a.csv", data: csv }, { name: "b.csv", data: csv }]);
  expectArchiveError(two, "found 2 (a.csv, b.csv)");
});

Deno.test("a wrong CRC-32 is an ArchiveError with both values", () => {
  const zip = createZip([{ name: NAME, data: csv }]);
  const view = new DataView(zip.buffer);
  const at = centralOffset(zip) + 16;
  view.setUint32(at, view.getUint32(at, true) ^ 1, true);
  expectArchiveError(zip, "CRC-32 mismatch");
});

Deno.test("a flipped data bit: corrupt DEFLATE or CRC mismatch, never silent", () => {
  const clean = createZip([{ name: NAME, data: csv }]);
  for (const offset of [40, 200, 5000, 20000]) {
    const zip = clean.slice();
    zip[30 + NAME.length + offset] ^= 0x10;
    const err = assertThrows(() => extractSingleCsvSync(zip, { file: FILE }), ArchiveError);
    assert(/corrupt|CRC-32|inflated/.test(err.message), err.message);
    assertEquals(err.file, FILE);
  }
  // STORED data has no DEFLATE structure: only the CRC can catch it.
  const stored = createZip([{ name: NAME, data: csv, method: "store" }]);
  stored[30 + NAME.length + 100] ^= 1;
  expectArchiveError(stored, "CRC-32 mismatch");
});

Deno.test("truncated archives and non-zips are ArchiveErrors naming the file", async () => {
  const zip = createZip([{ name: NAME, data: csv }]);
  expectArchiveError(zip.subarray(0, zip.length - 10), "truncated");
  expectArchiveError(zip.subarray(0, zip.length >> 1), "truncated");
  expectArchiveError(new Uint8Array(0), "not a zip");
  expectArchiveError(
    new TextEncoder().encode("<Error><Code>NoSuchKey</Code></Error>"),
    "not a zip",
  );
  // A body cut inside the entry while the directory survives (a re-spliced upload).
  const cut = new Uint8Array(zip.length - 1000);
  cut.set(zip.subarray(0, 5000));
  cut.set(zip.subarray(zip.length - (cut.length - 5000)), 5000);
  assertThrows(() => extractSingleCsvSync(cut, { file: FILE }), ArchiveError);
  // The async form rejects rather than throwing synchronously.
  const err = await assertRejects(() => extractSingleCsv(new Uint8Array(3), { file: FILE }));
  assertInstanceOf(err, ArchiveError);
});

Deno.test("unsupported method, encryption and ZIP64 are named", () => {
  const zip = createZip([{ name: NAME, data: csv }]);
  const method = zip.slice();
  new DataView(method.buffer).setUint16(centralOffset(method) + 10, 12, true);
  expectArchiveError(method, "unsupported compression method 12");
  const encrypted = zip.slice();
  new DataView(encrypted.buffer).setUint16(centralOffset(encrypted) + 8, 1, true);
  expectArchiveError(encrypted, "encrypted");
  const zip64 = zip.slice();
  new DataView(zip64.buffer).setUint32(zip64.length - 22 + 16, 0xffffffff, true);
  expectArchiveError(zip64, "ZIP64");
});

Deno.test("sizes that disagree with the data: a small claim never inflates past it", () => {
  const zip = createZip([{ name: NAME, data: csv }]);
  const view = new DataView(zip.buffer);
  const sizeAt = centralOffset(zip) + 24;
  view.setUint32(sizeAt, 1000, true);
  expectArchiveError(zip, "inflates to more than the 1000 bytes");
  view.setUint32(sizeAt, csv.length + 1, true);
  expectArchiveError(zip, `${csv.length} bytes inflated, directory says ${csv.length + 1}`);
});

Deno.test("a zip inside a larger buffer (subarray view) is read at its own offsets", () => {
  const zip = createZip([{ name: NAME, data: csv }]);
  const big = new Uint8Array(zip.length + 100);
  big.set(zip, 64);
  assertEquals(extractSingleCsvSync(big.subarray(64, 64 + zip.length)), csv);
});

Deno.test("node:zlib crc32 agrees with a bitwise CRC-32 reference", () => {
  const reference = (data: Uint8Array) => {
    let c = 0xffffffff;
    for (const b of data) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  assertEquals(crc32(new TextEncoder().encode("123456789")) >>> 0, 0xcbf43926);
  assertEquals(crc32(csv) >>> 0, reference(csv));
});
