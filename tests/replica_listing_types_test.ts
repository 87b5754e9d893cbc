import { assert, assertEquals } from "@std/assert";
import { startReplica } from "../testing/mod.ts";

const NOW = Date.UTC(2024, 2, 5, 5, 0); // 2024-03-05T05:00Z

interface Listing {
  keys: string[];
  etags: string[];
  modified: string[];
  prefixes: string[];
  truncated: boolean;
}

async function list(base: string, params: Record<string, string>): Promise<Listing> {
  const res = await fetch(`${base}?${new URLSearchParams(params)}`);
  assertEquals(res.status, 200);
  const xml = await res.text();
  const all = (tag: string) =>
    [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => m[1]);
  return {
    keys: all("Key"),
    etags: all("ETag"),
    modified: all("LastModified"),
    prefixes: [...xml.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix>/g)].map((m) => m[1]),
    truncated: /<IsTruncated>true<\/IsTruncated>/.test(xml),
  };
}

/** Every key under `prefix` (no delimiter), following the pagination. */
async function allKeys(base: string, prefix: string): Promise<Listing> {
  const out: Listing = { keys: [], etags: [], modified: [], prefixes: [], truncated: false };
  let marker = "";
  for (;;) {
    const page = await list(base, { prefix, marker });
    out.keys.push(...page.keys);
    out.etags.push(...page.etags);
    out.modified.push(...page.modified);
    if (!page.truncated) return out;
    marker = page.keys.at(-1)!;
  }
}

const names = (prefixes: string[]) => prefixes.map((p) => p.split("/").at(-2));

Deno.test("S3 listing: the data-type folders of each market, as Binance Vision has them", async () => {
  await using replica = await startReplica({ now: NOW });
  const L = replica.listingUrl;
  const types = async (prefix: string) =>
    names((await list(L, { prefix, delimiter: "/" })).prefixes);
  assertEquals(await types("data/spot/daily/"), ["aggTrades", "klines"]);
  assertEquals(await types("data/spot/monthly/"), ["aggTrades", "klines"]);
  const futuresDaily = [
    "aggTrades",
    "indexPriceKlines",
    "klines",
    "markPriceKlines",
    "premiumIndexKlines",
  ];
  assertEquals(await types("data/futures/um/daily/"), futuresDaily);
  assertEquals(await types("data/futures/cm/monthly/"), [...futuresDaily, "fundingRate"].sort());
  // Symbols: aggTrades and funding per contract; index price klines per pair.
  assertEquals(await types("data/spot/daily/aggTrades/"), ["ADABTC", "BTCUSDT", "ETHUSDT"]);
  assertEquals(await types("data/futures/cm/monthly/fundingRate/"), ["BTCUSD_PERP", "ETHUSD_PERP"]);
  assertEquals(await types("data/futures/cm/daily/indexPriceKlines/"), ["BTCUSD", "ETHUSD"]);
  assertEquals(await types("data/futures/cm/daily/markPriceKlines/"), [
    "BTCUSD_PERP",
    "ETHUSD_PERP",
  ]);
  assertEquals(await types("data/futures/um/monthly/fundingRate/"), ["BTCUSDT", "ETHUSDT"]);
  // Unknown or unserved folders are empty, as S3 answers for a prefix with no keys.
  assertEquals(
    (await list(L, { prefix: "data/spot/daily/fundingRate/", delimiter: "/" })).prefixes,
    [],
  );
  assertEquals((await list(L, { prefix: "data/spot/daily/markPriceKlines/" })).keys, []);
  assertEquals((await list(L, { prefix: "data/futures/um/daily/fundingRate/" })).keys, []);
});

Deno.test("S3 listing: every listed aggTrades/funding/kind archive is served with the listed ETag; the periods around are not", async () => {
  await using replica = await startReplica({ now: NOW });
  const L = replica.listingUrl;
  const cases = [
    {
      prefix: "data/futures/cm/monthly/fundingRate/BTCUSD_PERP/",
      first: "BTCUSD_PERP-fundingRate-2020-08.zip",
      last: "BTCUSD_PERP-fundingRate-2024-02.zip",
      before: "BTCUSD_PERP-fundingRate-2020-07.zip",
      after: "BTCUSD_PERP-fundingRate-2024-03.zip",
    },
    {
      prefix: "data/futures/um/monthly/aggTrades/ETHUSDT/",
      first: "ETHUSDT-aggTrades-2019-11.zip",
      last: "ETHUSDT-aggTrades-2024-02.zip",
      before: "ETHUSDT-aggTrades-2019-10.zip",
      after: "ETHUSDT-aggTrades-2024-03.zip",
      // A month of trades takes seconds to build: its keys are checked, not fetched.
      keysOnly: true,
    },
    {
      prefix: "data/spot/daily/aggTrades/ADABTC/",
      first: "ADABTC-aggTrades-2017-10-01.zip",
      // Daily files come out a few hours after the day (the replica's default lag).
      last: "ADABTC-aggTrades-2024-03-03.zip",
      before: "ADABTC-aggTrades-2017-09-30.zip",
      after: "ADABTC-aggTrades-2024-03-04.zip",
    },
    {
      prefix: "data/futures/cm/monthly/indexPriceKlines/ETHUSD/1d/",
      first: "ETHUSD-1d-2020-08.zip",
      last: "ETHUSD-1d-2024-02.zip",
      before: "ETHUSD-1d-2020-07.zip",
      after: "ETHUSD-1d-2024-03.zip",
    },
    {
      prefix: "data/futures/um/daily/premiumIndexKlines/BTCUSDT/1h/",
      first: "BTCUSDT-1h-2019-09-08.zip",
      last: "BTCUSDT-1h-2024-03-03.zip",
      before: "BTCUSDT-1h-2019-09-07.zip",
      after: "BTCUSDT-1h-2024-03-04.zip",
    },
  ];
  for (const c of cases) {
    const got = await allKeys(L, c.prefix);
    const zips = got.keys.filter((k) => k.endsWith(".zip"));
    assertEquals(got.keys.length, 2 * zips.length, `${c.prefix}: a CHECKSUM per zip`);
    assertEquals(zips[0], c.prefix + c.first);
    assertEquals(zips.at(-1), c.prefix + c.last);
    assertEquals(got.keys, [...got.keys].sort(), "lexicographic");
    if ("keysOnly" in c) continue;
    for (const i of [0, got.keys.length - 2]) {
      const key = got.keys[i];
      const res = await fetch(`${replica.visionUrl}/${key}`);
      await res.body?.cancel();
      assertEquals(res.status, 200, key);
      assertEquals(res.headers.get("etag"), got.etags[i], `${key}: ETag`);
      const served = Date.parse(res.headers.get("last-modified")!);
      // HTTP dates have whole seconds.
      assertEquals(served, Math.floor(Date.parse(got.modified[i]) / 1000) * 1000, key);
      const ck = await fetch(`${replica.visionUrl}/${got.keys[i + 1]}`);
      assertEquals(ck.status, 200);
      assert(
        (await ck.text()).endsWith(
          `  ${c.first === key.slice(c.prefix.length) ? c.first : c.last}\n`,
        ),
      );
    }
    for (const absent of [c.before, c.after]) {
      const res = await fetch(`${replica.visionUrl}/${c.prefix}${absent}`);
      await res.body?.cancel();
      assertEquals(res.status, 404, absent);
    }
  }
});
