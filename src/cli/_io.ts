/**
 * Where CLI output goes: stdout for results, stderr for progress, summaries and errors.
 * Tests pass their own sinks; the real CLI writes to the process streams.
 *
 * @module
 */

/** Output sinks and terminal facts for one CLI run. */
export interface CliIo {
  /** Writes text to standard output as is (add your own newline). */
  stdout(text: string): void;
  /** Writes text to standard error as is. */
  stderr(text: string): void;
  /** Whether standard error is a terminal: progress bars are drawn only then. */
  isTerminal: boolean;
}

const encoder = new TextEncoder();

function writeAllSync(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += stream.writeSync(bytes.subarray(off));
}

/** The process's own streams. */
export function processIo(): CliIo {
  return {
    stdout: (text) => writeAllSync(Deno.stdout, text),
    stderr: (text) => writeAllSync(Deno.stderr, text),
    isTerminal: Deno.stderr.isTerminal(),
  };
}

/** Left-aligned text columns, right-aligned numbers, two spaces between. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  // A column is numeric when every full-width row holds a number there ("…" rows excepted).
  const full = rows.filter((r) => r.length === header.length);
  const numeric = header.map((_, j) =>
    full.length > 0 &&
    full.every((r) => typeof r[j] === "number" || /^-?[\d.,]+$/.test(String(r[j])))
  );
  const widths = header.map((_, j) => Math.max(...cells.map((r) => (r[j] ?? "").length)));
  return cells.map((r) =>
    r.map((c, j) => numeric[j] ? c.padStart(widths[j]) : c.padEnd(widths[j])).join("  ")
      .trimEnd()
  ).join("\n") + "\n";
}

/** `1.2 MB` style sizes (decimal units, as download speeds are quoted). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = bytes / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** `850 ms` / `12.3 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** `1,234,567`. */
export function formatCount(n: number): string {
  // Integers by hand: the first toLocaleString loads ICU data (~20 ms of every CLI run).
  if (Number.isSafeInteger(n)) return String(n).replace(/\B(?=(\d{3})+$)/g, ",");
  return n.toLocaleString("en-US");
}
