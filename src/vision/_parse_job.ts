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
export function runParseJob(request: WorkerRequest): KlineColumns {
  const zip = request.kind === "path" ? Deno.readFileSync(request.path) : request.zip;
  const entry = findSingleEntry(zip, { file: request.file });
  const csv = readZipEntry(zip, entry, { file: request.file });
  return parseKlineCsv(csv, { file: entry.name });
}
