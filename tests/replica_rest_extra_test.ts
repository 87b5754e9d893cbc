// The replica's ping/time/uiKlines endpoints and the spot `timeZone` parameter answer as
// Binance documents them (what ccxt's fetchTime and python-binance's ping call).
import { assert, assertEquals } from "@std/assert";
import { startReplica } from "../testing/mod.ts";

const NOW = Date.parse("2024-03-01T12:34:56.789Z");
const H = 3_600_000;
const D = 24 * H;

async function get(url: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

Deno.test("ping and time on spot, USDⓈ-M and COIN-M: {} and the replica's clock, weight 1", async () => {
  await using replica = await startReplica({ now: NOW });
  for (const prefix of ["/api/v3", "/fapi/v1", "/dapi/v1"]) {
    const ping = await get(`${replica.restUrl}${prefix}/ping`);
    assertEquals([ping.status, ping.body], [200, {}], prefix);
    assertEquals(ping.headers.get("x-mbx-used-weight-1m"), "1");
    const time = await get(`${replica.restUrl}${prefix}/time`);
    assertEquals([time.status, time.body], [200, { serverTime: NOW }], prefix);
    assertEquals(time.headers.get("x-mbx-used-weight-1m"), "2");
  }
  assertEquals(
    replica.requests.map((e) => [e.route, e.market]),
    [
      ["ping", "spot"],
      ["time", "spot"],
      ["ping", "um"],
      ["time", "um"],
      ["ping", "cm"],
      ["time", "cm"],
    ],
  );
});

Deno.test("uiKlines answers what klines answers (spot only, like Binance)", async () => {
  await using replica = await startReplica({ now: NOW });
  const q = `symbol=BTCUSDT&interval=1h&startTime=${NOW - 10 * H}&limit=5`;
  const ui = await get(`${replica.restUrl}/api/v3/uiKlines?${q}`);
  const k = await get(`${replica.restUrl}/api/v3/klines?${q}`);
  assertEquals(ui.status, 200);
  assertEquals(ui.body, k.body);
  assertEquals((ui.body as unknown[]).length, 5);
  assertEquals(ui.headers.get("x-mbx-used-weight-1m"), "2"); // weight 2, like klines
  const bad = await get(`${replica.restUrl}/api/v3/uiKlines?symbol=NOPE&interval=1h`);
  assertEquals([bad.status, bad.body], [400, { code: -1121, msg: "Invalid symbol." }]);
  const futures = await fetch(`${replica.restUrl}/fapi/v1/uiKlines?symbol=BTCUSDT&interval=1h`);
  await futures.body?.cancel();
  assertEquals(futures.status, 404);
});

type Row = [number, string, string, string, string, string, number, ...unknown[]];

async function klines(base: string, params: Record<string, string>): Promise<Row[]> {
  const r = await get(`${base}/api/v3/klines?${new URLSearchParams(params)}`);
  assertEquals(r.status, 200, JSON.stringify(r.body));
  return r.body as Row[];
}

Deno.test("timeZone moves the interval grid (1d opens at local midnight); start/end stay UTC", async () => {
  await using replica = await startReplica({ now: NOW });
  const base = { symbol: "BTCUSDT", interval: "1d", startTime: String(NOW - 5 * D), limit: "3" };
  const utc = await klines(replica.restUrl, base);
  assertEquals(utc.map((r) => r[0] % D), [0, 0, 0]);
  for (const [tz, offsetMs] of [["+08:00", 8 * H], ["8", 8 * H], ["-1", -H], ["05:45", 5.75 * H]]) {
    const rows = await klines(replica.restUrl, { ...base, timeZone: String(tz) });
    assertEquals(rows.length, 3, String(tz));
    for (const r of rows) {
      // Local midnight = UTC midnight − offset; close = next open − 1.
      assertEquals(
        ((r[0] + Number(offsetMs)) % D + D) % D,
        0,
        `${tz} ${new Date(r[0]).toISOString()}`,
      );
      assertEquals(r[6], r[0] + D - 1);
      assert(r[0] >= NOW - 5 * D, "startTime is UTC");
    }
  }
  // A grid the offset does not move is answered exactly as in UTC.
  const hourly = { symbol: "BTCUSDT", interval: "1h", startTime: String(NOW - 5 * H), limit: "4" };
  assertEquals(
    await klines(replica.restUrl, { ...hourly, timeZone: "+08:00" }),
    await klines(replica.restUrl, hourly),
  );
  const quarter = await klines(replica.restUrl, { ...hourly, timeZone: "05:45" });
  assertEquals(quarter.map((r) => r[0] % H), [15 * 60_000, 15 * 60_000, 15 * 60_000, 15 * 60_000]);
  // The edges of the documented range are accepted.
  for (const tz of ["+14:00", "-12:00", "14", "-12", "0", "00:00"]) {
    assertEquals((await klines(replica.restUrl, { ...base, timeZone: tz })).length, 3, tz);
  }
});

Deno.test("a bad timeZone gets Binance's -1130 error body", async () => {
  await using replica = await startReplica({ now: NOW });
  for (const tz of ["+14:01", "-12:30", "15", "-13", "UTC", "8h", "08:60", "+8:0", ""]) {
    const q = new URLSearchParams({ symbol: "BTCUSDT", interval: "1d", timeZone: tz });
    const r = await get(`${replica.restUrl}/api/v3/klines?${q}`);
    assertEquals(
      [r.status, r.body],
      [400, { code: -1130, msg: "Data sent for parameter 'timeZone' is not valid." }],
      JSON.stringify(tz),
    );
  }
});
