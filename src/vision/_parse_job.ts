/**
 * One parse job, the same in a worker and on the calling thread (`workers: 0`).
 *
 * @module
 */
import type { KlineColumns } from "../columns.ts";
import { parseKlineCsv } from "./csv_parser.ts";
import { findSingleEntry, readZipEntry } from "./zip.ts";
import type { WorkerRequest } from "./_parse_protocol.ts";

/**
 * Reads (or takes) the zip, inflates its one entry with a CRC check, parses the CSV.
 * Archive errors name the zip; CSV errors name the CSV entry and line.
 *
 * @param request the job
 * @returns the columns
 */
export function runParseJob(
  request: WorkerRequest,
  options: { ownsZip?: boolean } = {},
): KlineColumns {
  const zip = request.kind === "path" ? Deno.readFileSync(request.path) : request.zip;
  const ownsZip = request.kind === "path" || options.ownsZip === true;
  let csv: Uint8Array | undefined;
  try {
    const entry = findSingleEntry(zip, { file: request.file });
    csv = readZipEntry(zip, entry, { file: request.file });
    // Inflated: the zip is not needed while the CSV is parsed (unless the CSV is stored
    // in it uncompressed).
    if (ownsZip && csv.buffer !== zip.buffer) releaseBuffer(zip);
    // The inflated CSV is ours (a stored one is the zip's, ours only when the zip is).
    const releaseInput = csv.buffer !== zip.buffer || ownsZip;
    return parseKlineCsv(csv, { file: entry.name, releaseInput });
  } finally {
    // Free the zip and the inflated CSV now rather than at some later GC: a monthly 1m
    // file is ~2 + 7 MB, and garbage of a dozen of them made up most of a fetch's peak RSS.
    if (csv !== undefined && csv.buffer !== zip.buffer) releaseBuffer(csv);
    if (ownsZip) releaseBuffer(zip);
  }
}

/** Below this a buffer may be one of Node's shared `Buffer` pool slabs (8 KiB): never freed. */
const RELEASE_MIN_BYTES = 64 * 1024;

/**
 * Frees `bytes`' memory at once (detaching its buffer) instead of leaving it to the GC.
 * Only for buffers nothing else uses; small ones are left alone (they may be pooled).
 *
 * @param bytes a view whose buffer the caller owns outright
 */
export function releaseBuffer(bytes: ArrayBufferView): void {
  const buffer = bytes.buffer;
  if (buffer instanceof ArrayBuffer && !buffer.detached && buffer.byteLength >= RELEASE_MIN_BYTES) {
    buffer.transfer(0);
  }
}

/**
 * Parses `rows` rows of synthetic kline CSV shaped like Binance's (13-digit times, 8-dp
 * prices and volumes, trade counts), in a few calls, so V8 has optimized the parser's hot
 * loop (with the type feedback of real rows) before the first real file: a fresh worker's
 * first file otherwise runs partly in the interpreter.
 *
 * @param rows synthetic rows in all
 */
export function warmUpParser(rows: number): void {
  const calls = 4;
  const per = Math.max(1, Math.ceil(rows / calls));
  const lines: string[] = [];
  let t = 1_704_067_200_000; // 2024-01-01
  let price = 42_000;
  for (let r = 0; r < per; r++) {
    // Deterministic and cheap: the values only need the shape of real ones.
    const step = ((r * 7919) % 2001) / 100 - 10;
    const close = price + step;
    const volume = ((r * 104_729) % 1_000_000) / 1e5;
    lines.push(
      `${t},${price.toFixed(8)},${(Math.max(price, close) + 1.5).toFixed(8)},` +
        `${(Math.min(price, close) - 1.25).toFixed(8)},${close.toFixed(8)},${volume.toFixed(8)},` +
        `${t + 59_999},${(volume * close).toFixed(8)},${(r * 31) % 3000},` +
        `${(volume / 2).toFixed(8)},${((volume / 2) * close).toFixed(8)},0\n`,
    );
    t += 60_000;
    price = close;
  }
  const csv = new TextEncoder().encode(lines.join(""));
  for (let k = 0; k < calls; k++) parseKlineCsv(csv, { file: "warm-up.csv" });
}
