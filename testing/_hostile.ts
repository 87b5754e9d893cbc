/**
 * Hostile kline rows for fault injection: values no kline can hold, written the way a
 * server would send them (an overflowing exponent, a negative volume, `high < low`, an open
 * time off the interval grid or fractional).
 *
 * @module
 */
import type { HostileRow } from "./_faults.ts";

/**
 * One kline row (REST's 12 fields: numbers and decimal strings) with `kind` applied.
 *
 * @example
 * ```ts ignore
 * hostileRow([0, "1", "2", "1", "1.5", "10", 59999, "15", 3, "5", "7.5", "0"], "highBelowLow");
 * ```
 */
export function hostileRow(row: unknown[], kind: HostileRow): unknown[] {
  const r = [...row];
  switch (kind) {
    case "overflow":
      r[2] = "1e400"; // high: Infinity as a double
      break;
    case "negativeVolume":
      r[5] = `-${String(r[5]).replace(/^-/, "") === "0" ? "5" : String(r[5])}`;
      break;
    case "highBelowLow":
      r[3] = String(Number(r[2]) + 1); // low above high
      break;
    case "offGrid":
      r[0] = Number(r[0]) + 1;
      r[6] = Number(r[6]) + 1;
      break;
    case "fractionalTime":
      r[0] = Number(r[0]) + 0.5;
      break;
  }
  return r;
}

/** A REST klines body with row `at` made hostile (unchanged when it has no such row). */
export function hostileKlinesBody(body: Uint8Array, kind: HostileRow, at = 0): Uint8Array {
  const rows = JSON.parse(new TextDecoder().decode(body)) as unknown[][];
  if (!Array.isArray(rows) || at >= rows.length) return body;
  rows[at] = hostileRow(rows[at], kind);
  return new TextEncoder().encode(JSON.stringify(rows));
}

/** A kline CSV (12 fields a line) with data line `at` made hostile. */
export function hostileCsv(csv: string, kind: HostileRow, at = 0): string {
  const lines = csv.split("\n");
  const data = lines.map((l, i) => ({ l, i })).filter(({ l }) => /^\d/.test(l));
  const target = data[at];
  if (!target) return csv;
  const fields: unknown[] = target.l.split(",");
  lines[target.i] = hostileRow(fields, kind).join(",");
  return lines.join("\n");
}
