/**
 * The sequential baseline of the whole-process bench: what a user of Binance's official
 * downloader (`binance-public-data`'s `download-kline.py`) does — fetch every daily zip one
 * after another onto disk, then unzip and parse them on one thread. Standalone on purpose: Deno
 * and `node:` built-ins only, nothing from this library.
 *
 * ```sh
 * deno run -A bench/sequential_baseline.ts --vision-url http://127.0.0.1:8765 \
 *   --symbol BTCUSDT --interval 1m --start 2024-01-01 --end 2025-01-01 --dir /tmp/zips
 * ```
 *
 * Prints one JSON line: `{ "rows", "files", "downloadMs", "parseMs", "closeSum" }`.
 *
 * @module
 */
import { inflateRawSync } from "node:zlib";
import { parseArgs } from "node:util";

const DAY_MS = 86_400_000;

/** The entry of a single-file zip, inflated (local header; sizes from the central directory). */
function unzipSingle(zip: Uint8Array): Uint8Array {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  // End of central directory → central header → local header: sizes are reliable there even
  // when the local header defers them to a data descriptor.
  let eocd = zip.length - 22;
  while (eocd >= 0 && view.getUint32(eocd, true) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error("not a zip");
  const cd = view.getUint32(eocd + 16, true);
  const method = view.getUint16(cd + 10, true);
  const size = view.getUint32(cd + 20, true);
  const local = view.getUint32(cd + 42, true);
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  const data = zip.subarray(start, start + size);
  return method === 0 ? data : inflateRawSync(data);
}

/** Parses kline CSV rows (header lines skipped) into 11 numeric columns, as a user's script would. */
function parseCsv(text: string, columns: number[][]): void {
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("open_time")) continue;
    const f = line.split(",");
    for (let i = 0; i < 11; i++) columns[i].push(Number(f[i]));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "vision-url": { type: "string" },
      symbol: { type: "string", default: "BTCUSDT" },
      interval: { type: "string", default: "1m" },
      start: { type: "string" },
      end: { type: "string" },
      dir: { type: "string" },
    },
  });
  const base = values["vision-url"];
  const dir = values.dir;
  if (!base || !values.start || !values.end || !dir) {
    throw new Error("needs --vision-url, --start, --end and --dir");
  }
  const { symbol, interval } = values;
  const days: string[] = [];
  for (let t = Date.parse(values.start); t < Date.parse(values.end); t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  await Deno.mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const files: string[] = [];
  for (const day of days) {
    const name = `${symbol}-${interval}-${day}.zip`;
    const res = await fetch(`${base}/data/spot/daily/klines/${symbol}/${interval}/${name}`);
    if (res.status === 404) {
      await res.body?.cancel();
      continue;
    }
    if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
    const path = `${dir}/${name}`;
    await Deno.writeFile(path, new Uint8Array(await res.arrayBuffer()));
    files.push(path);
  }
  const t1 = performance.now();
  const columns: number[][] = Array.from({ length: 11 }, () => []);
  const decoder = new TextDecoder();
  for (const path of files) {
    parseCsv(decoder.decode(unzipSingle(await Deno.readFile(path))), columns);
  }
  const t2 = performance.now();
  let closeSum = 0;
  for (const c of columns[4]) closeSum += c;
  console.log(JSON.stringify({
    rows: columns[0].length,
    files: files.length,
    downloadMs: t1 - t0,
    parseMs: t2 - t1,
    closeSum,
  }));
}

if (import.meta.main) await main();
