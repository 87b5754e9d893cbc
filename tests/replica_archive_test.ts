// Replica archive side: 404 shapes, publication lag, listing dates, interval matrix, HEAD/Range,
// S3 ListObjects v1 pagination, and the zip entries' dates.
import { assert, assertEquals, assertMatch } from "@std/assert";
import { createHash } from "node:crypto";
import { extractSingleCsv } from "../src/vision/zip.ts";
import { createZip, startReplica } from "../testing/mod.ts";

const NOW = Date.UTC(2024, 2, 5, 5, 0); // 2024-03-05T05:00Z
const data = (p: string) => `/data/${p}`;

async function status(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.body?.cancel();
  return res.status;
}

Deno.test("absent archives answer 404 with S3 NoSuchKey XML", async () => {
  await using replica = await startReplica({ now: NOW });
  const res = await fetch(
    replica.visionUrl + data("spot/daily/klines/NOPE/1m/NOPE-1m-2024-01-01.zip"),
  );
  assertEquals(res.status, 404);
  assertEquals(res.headers.get("content-type"), "application/xml");
  const xml = await res.text();
  assertMatch(xml, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchKey<\/Code>/);
  assertMatch(xml, /<Key>data\/spot\/daily\/klines\/NOPE\/1m\/NOPE-1m-2024-01-01\.zip<\/Key>/);
  const v = replica.visionUrl;
  for (
    const p of [
      "spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-1-01.zip", // malformed date
      "spot/daily/klines/BTCUSDT/1m/BTCUSDT-1h-2024-01-01.zip", // folder/name mismatch
      "spot/daily/klines/BTCUSDT/1M/BTCUSDT-1M-2024-01.zip", // archive says 1mo
      "spot/daily/trades/BTCUSDT/BTCUSDT-trades-2024-01-01.zip", // datasets not served (trades)
      "futures/um/daily/klines/BTCUSDT/1s/BTCUSDT-1s-2024-01-01.zip", // 1s is spot only
      "futures/cm/monthly/klines/BTCUSD_PERP/1s/BTCUSD_PERP-1s-2024-01.zip",
      "spot/daily/klines/BTCUSDT/3d/BTCUSDT-3d-2024-01-01.zip", // 3d/1w/1mo monthly only
      "spot/daily/klines/BTCUSDT/1w/BTCUSDT-1w-2024-01-01.zip",
      "spot/daily/klines/BTCUSDT/1mo/BTCUSDT-1mo-2024-01-01.zip",
    ]
  ) {
    assertEquals(await status(v + data(p)), 404, p);
    assertEquals(await status(v + data(p) + ".CHECKSUM"), 404, p + ".CHECKSUM");
  }
  // …while their valid counterparts exist.
  for (
    const p of [
      "spot/daily/klines/BTCUSDT/1s/BTCUSDT-1s-2024-01-01.zip",
      "spot/monthly/klines/BTCUSDT/3d/BTCUSDT-3d-2024-01.zip",
      "futures/um/monthly/klines/BTCUSDT/1w/BTCUSDT-1w-2024-01.zip",
      "futures/cm/monthly/klines/BTCUSD_PERP/1mo/BTCUSD_PERP-1mo-2024-01.zip",
    ]
  ) {
    assertEquals(await status(v + data(p)), 200, p);
  }
});

Deno.test("publication lag: today and yesterday-before-06:00 are absent; monthly after 3 days", async () => {
  await using replica = await startReplica({ now: NOW });
  const v = replica.visionUrl;
  const daily = (day: string) => data(`spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-${day}.zip`);
  assertEquals(await status(v + daily("2024-03-05")), 404); // today
  assertEquals(await status(v + daily("2024-03-04")), 404); // ends 03-05T00:00, out at 06:00
  assertEquals(await status(v + daily("2024-03-03")), 200);
  const monthly = (m: string) => data(`futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-${m}.zip`);
  assertEquals(await status(v + monthly("2024-03")), 404);
  assertEquals(
    replica.publishedAt({ marketType: "um", symbol: "BTCUSDT", interval: "1h", period: "2024-02" }),
    Date.UTC(2024, 2, 4),
  );
  replica.setNow(Date.UTC(2024, 2, 4) - 1);
  assertEquals(await status(v + monthly("2024-02")), 404);
  replica.setNow(Date.UTC(2024, 2, 4));
  assertEquals(await status(v + monthly("2024-02")), 200);
  // Moving now forward publishes yesterday's file.
  replica.setNow(Date.UTC(2024, 2, 5, 6));
  assertEquals(await status(v + daily("2024-03-04")), 200);
  // Custom lag.
  await using fast = await startReplica({ now: NOW, publicationLagMs: { daily: 0, monthly: 0 } });
  assertEquals(await status(fast.visionUrl + daily("2024-03-04")), 200);
});

Deno.test("listing dates: nothing before the listing; the listing day starts at the listing time", async () => {
  await using replica = await startReplica({ now: NOW });
  const v = replica.visionUrl;
  assertEquals(
    await status(v + data("spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2017-08-16.zip")),
    404,
  );
  assertEquals(
    await status(v + data("spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2017-07.zip")),
    404,
  );
  assertEquals(
    await status(v + data("futures/cm/daily/klines/BTCUSD_PERP/1h/BTCUSD_PERP-1h-2020-08-09.zip")),
    404,
  );
  const csv = new TextDecoder().decode(
    replica.csvFor({
      marketType: "spot",
      symbol: "BTCUSDT",
      interval: "1m",
      period: "2017-08-17",
    })!,
  );
  const lines = csv.trimEnd().split("\n");
  assertEquals(lines.length, 1200); // 04:00 → 24:00, as in the real file
  assert(lines[0].startsWith(`${Date.UTC(2017, 7, 17, 4)},`));
  // A 1d file of the listing day holds the candle opening at 00:00.
  const d1 = new TextDecoder().decode(
    replica.csvFor({
      marketType: "spot",
      symbol: "BTCUSDT",
      interval: "1d",
      period: "2017-08-17",
    })!,
  );
  assert(d1.startsWith(`${Date.UTC(2017, 7, 17)},`));
  // Delisted symbols stop.
  await using delisted = await startReplica({
    now: NOW,
    symbols: [{
      symbol: "OLDUSDT",
      marketType: "spot",
      listedAt: "2020-01-01",
      delistedAt: "2020-01-02T12:00:00Z",
    }],
  });
  const p = (day: string) =>
    delisted.visionUrl + data(`spot/daily/klines/OLDUSDT/1h/OLDUSDT-1h-${day}.zip`);
  assertEquals(await status(p("2020-01-02")), 200);
  assertEquals(await status(p("2020-01-03")), 404);
  const last = delisted.csvFor({
    marketType: "spot",
    symbol: "OLDUSDT",
    interval: "1h",
    period: "2020-01-02",
  })!;
  assertEquals(new TextDecoder().decode(last).trimEnd().split("\n").length, 12);
});

Deno.test("archive headers, HEAD and Range", async () => {
  await using replica = await startReplica({ now: NOW });
  const url = replica.visionUrl + data("spot/monthly/klines/ETHUSDT/1h/ETHUSDT-1h-2024-01.zip");
  const res = await fetch(url);
  const body = new Uint8Array(await res.arrayBuffer());
  assertEquals(res.headers.get("content-type"), "application/zip");
  assertEquals(res.headers.get("content-length"), String(body.length));
  assertMatch(res.headers.get("etag")!, /^"[0-9a-f]{32}"$/);
  assertEquals(res.headers.get("last-modified"), new Date(Date.UTC(2024, 1, 4)).toUTCString());
  assertEquals([body[0], body[1], body[2], body[3]], [0x50, 0x4b, 0x03, 0x04]);
  const head = await fetch(url, { method: "HEAD" });
  await head.body?.cancel();
  assertEquals(head.status, 200);
  assertEquals(head.headers.get("content-length"), String(body.length));
  assertEquals(head.headers.get("etag"), res.headers.get("etag"));
  const part = await fetch(url, { headers: { range: "bytes=10-19" } });
  assertEquals(part.status, 206);
  assertEquals(part.headers.get("content-range"), `bytes 10-19/${body.length}`);
  assertEquals(new Uint8Array(await part.arrayBuffer()), body.subarray(10, 20));
  const tail = await fetch(url, { headers: { range: "bytes=-22" } });
  assertEquals(new Uint8Array(await tail.arrayBuffer()), body.subarray(body.length - 22));
  assertEquals(await status(url, { headers: { range: `bytes=${body.length}-` } }), 416);
  // Archives are cached: the second download is a cache hit with identical bytes.
  const again = new Uint8Array(await (await fetch(url)).arrayBuffer());
  assertEquals(again, body);
  assert(replica.cacheStats().hits >= 1);
});

interface Listing {
  keys: string[];
  prefixes: string[];
  truncated: boolean;
  nextMarker?: string;
  xml: string;
}

async function list(base: string, params: Record<string, string>): Promise<Listing> {
  const res = await fetch(`${base}?${new URLSearchParams(params)}`);
  assertEquals(res.status, 200);
  assertEquals(res.headers.get("content-type"), "application/xml");
  const xml = await res.text();
  const all = (tag: string) =>
    [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);
  return {
    keys: all("Key"),
    prefixes: [...xml.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix><\/CommonPrefixes>/g)].map(
      (m) => m[1],
    ),
    truncated: /<IsTruncated>true<\/IsTruncated>/.test(xml),
    nextMarker: /<NextMarker>([^<]*)<\/NextMarker>/.exec(xml)?.[1],
    xml,
  };
}

Deno.test("S3 listing: tree levels, lexicographic keys, pagination with and without delimiter", async () => {
  await using replica = await startReplica({ now: NOW });
  const L = replica.listingUrl;
  const root = await list(L, { prefix: "data/spot/daily/klines/", delimiter: "/" });
  assertMatch(
    root.xml,
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<ListBucketResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/,
  );
  assertMatch(root.xml, /<Prefix>data\/spot\/daily\/klines\/<\/Prefix>/);
  assertEquals(
    root.prefixes,
    ["ADABTC", "BTCUSDT", "ETHUSDT"].map((s) => `data/spot/daily/klines/${s}/`),
  );
  assertEquals(root.keys, []);
  const ivs = await list(L, { prefix: "data/futures/um/monthly/klines/BTCUSDT/", delimiter: "/" });
  const names = ivs.prefixes.map((p) => p.split("/").at(-2));
  assertEquals(names, [...names].sort());
  assert(names.includes("1mo") && names.includes("3d") && !names.includes("1s"));
  const partial = await list(L, { prefix: "data/sp", delimiter: "/" });
  assertEquals(partial.prefixes, ["data/spot/"]);
  // Files of one interval folder: zip then CHECKSUM, day by day, paged by 1000.
  const prefix = "data/spot/daily/klines/BTCUSDT/1d/";
  const keys: string[] = [];
  let marker = "";
  let pages = 0;
  while (true) {
    const page = await list(L, { prefix, delimiter: "/", marker });
    pages++;
    keys.push(...page.keys);
    assert(page.keys.length <= 1000);
    if (!page.truncated) {
      assertEquals(page.nextMarker, undefined);
      break;
    }
    assertEquals(page.nextMarker, page.keys.at(-1));
    marker = page.nextMarker!;
  }
  const days = (Date.UTC(2024, 2, 4) - Date.UTC(2017, 7, 17)) / 86_400_000; // 08-17 … 03-03
  assertEquals(keys.length, days * 2);
  assertEquals(pages, Math.ceil((days * 2) / 1000));
  assertEquals(keys, [...keys].sort());
  assertEquals(keys[0], `${prefix}BTCUSDT-1d-2017-08-17.zip`);
  assertEquals(keys[1], `${prefix}BTCUSDT-1d-2017-08-17.zip.CHECKSUM`);
  assertEquals(keys.at(-1), `${prefix}BTCUSDT-1d-2024-03-03.zip.CHECKSUM`);
  assertEquals(new Set(keys).size, keys.length);
  // Without a delimiter: recursive keys, no NextMarker; the last key is the next marker.
  const flat = await list(L, { prefix: "data/futures/cm/monthly/klines/", "max-keys": "7" });
  assertEquals(flat.keys.length, 7);
  assertEquals(flat.truncated, true);
  assertEquals(flat.nextMarker, undefined);
  const next = await list(L, {
    prefix: "data/futures/cm/monthly/klines/",
    "max-keys": "7",
    marker: flat.keys.at(-1)!,
  });
  assert(next.keys[0] > flat.keys.at(-1)!);
  assertEquals([...flat.keys, ...next.keys], [...flat.keys, ...next.keys].sort());
  // CommonPrefixes count against MaxKeys; a prefix marker skips that whole folder.
  const two = await list(L, { prefix: "data/spot/daily/klines/", delimiter: "/", "max-keys": "2" });
  assertEquals(two.prefixes, ["data/spot/daily/klines/ADABTC/", "data/spot/daily/klines/BTCUSDT/"]);
  assertEquals(two.nextMarker, "data/spot/daily/klines/BTCUSDT/");
  const rest = await list(L, {
    prefix: "data/spot/daily/klines/",
    delimiter: "/",
    marker: two.nextMarker!,
  });
  assertEquals(rest.prefixes, ["data/spot/daily/klines/ETHUSDT/"]);
  assertEquals(rest.truncated, false);
  // Listing sizes of built archives are exact.
  const zipKey = `${prefix}BTCUSDT-1d-2024-03-03.zip`;
  const zip = replica.archiveBytes(zipKey)!;
  const one = await list(L, { prefix: zipKey, delimiter: "/" });
  assertEquals(one.keys, [zipKey, zipKey + ".CHECKSUM"]);
  assertMatch(one.xml, new RegExp(`<Size>${zip.length}</Size>`));
  assertMatch(one.xml, /<LastModified>2024-03-04T06:00:00\.000Z<\/LastModified>/);
  assertMatch(one.xml, /<StorageClass>STANDARD<\/StorageClass>/);
  // An unknown prefix lists nothing.
  const none = await list(L, { prefix: "data/options/", delimiter: "/" });
  assertEquals([none.keys, none.prefixes, none.truncated], [[], [], false]);
});

Deno.test("raw archives: exact bytes at a path, with a matching CHECKSUM, for malformed-data tests", async () => {
  const path = "data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2024-03-04.zip";
  const csv = new TextEncoder().encode(
    "1709510400000,1,2,0.5,oops,10,1709513999999,15,3,5,7.5,0\n",
  );
  await using replica = await startReplica({ now: NOW, rawArchives: [{ path, csv }] });
  const zip = new Uint8Array(await (await fetch(`${replica.visionUrl}/${path}`)).arrayBuffer());
  assertEquals(zip, replica.archiveBytes(path));
  assertEquals(await extractSingleCsv(zip), csv);
  const ck = await (await fetch(`${replica.visionUrl}/${path}.CHECKSUM`)).text();
  assertEquals(
    ck,
    `${createHash("sha256").update(zip).digest("hex")}  BTCUSDT-1h-2024-03-04.zip\n`,
  );
  // Replaced at runtime by zip bytes; removed again → the dataset's (unpublished) answer.
  replica.setArchive(`/${path}`, { zip: new Uint8Array([1, 2, 3]) });
  assertEquals(
    new Uint8Array(await (await fetch(`${replica.visionUrl}/${path}`)).arrayBuffer()),
    new Uint8Array([1, 2, 3]),
  );
  replica.setArchive(path, null);
  assertEquals(await status(`${replica.visionUrl}/${path}`), 404);
});

Deno.test("zip entries carry the publication time as their DOS date/time", async () => {
  await using replica = await startReplica({ now: NOW });
  const dos = (zip: Uint8Array, at: number) => {
    const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    const time = v.getUint16(at, true), date = v.getUint16(at + 2, true);
    return Date.UTC(
      (date >> 9) + 1980,
      ((date >> 5) & 15) - 1,
      date & 31,
      time >> 11,
      (time >> 5) & 63,
      (time & 31) * 2,
    );
  };
  const centralAt = (zip: Uint8Array) => {
    const v = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    return v.getUint32(zip.length - 22 + 16, true);
  };
  for (
    const [path, published] of [
      ["spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-03-03.zip", Date.UTC(2024, 2, 4, 6)],
      ["futures/um/monthly/klines/BTCUSDT/1w/BTCUSDT-1w-2024-01.zip", Date.UTC(2024, 1, 8)],
    ] as const
  ) {
    const res = await fetch(replica.visionUrl + data(path));
    assertEquals(res.headers.get("last-modified"), new Date(published).toUTCString());
    const zip = new Uint8Array(await res.arrayBuffer());
    assertEquals(dos(zip, 10), published, `${path}: local header`);
    const cd = centralAt(zip);
    assertEquals(new DataView(zip.buffer).getUint32(cd, true), 0x02014b50);
    assertEquals(dos(zip, cd + 12), published, `${path}: central directory`);
  }
  // Without a date the writer leaves the fields zero (its output is unchanged).
  const csv = new TextEncoder().encode("1,2\n");
  const plain = createZip("a.csv", csv);
  assertEquals(Array.from(plain.subarray(10, 14)), [0, 0, 0, 0]);
  const dated = createZip("a.csv", csv, { modified: new Date(Date.UTC(2024, 1, 8, 13, 5, 7)) });
  assertEquals(dos(dated, 10), Date.UTC(2024, 1, 8, 13, 5, 6)); // 2-second resolution
  assertEquals(dated.length, plain.length);
  dated.set(plain.subarray(10, 14), 10);
  dated.set(plain.subarray(centralAt(plain) + 12, centralAt(plain) + 16), centralAt(dated) + 12);
  assertEquals(dated, plain);
});
