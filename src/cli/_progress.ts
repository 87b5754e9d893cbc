/**
 * A tiny progress display: a redrawn `\r` bar when stderr is a terminal, plain lines at
 * 0/25/50/75/100 % otherwise, nothing at all with `--quiet`.
 *
 * @module
 */
import { type CliIo, formatBytes } from "./_io.ts";

/** One progress report. */
export interface ProgressUpdate {
  /** What is progressing, e.g. `vision` or `rest`. */
  label: string;
  /** Units done. */
  done: number;
  /** Units in total (0 when unknown). */
  total: number;
  /** Bytes received so far, when known. */
  bytes?: number;
  /** More figures shown after the counts (e.g. rows/s, ETA). */
  detail?: string;
}

const WIDTH = 24;
const REDRAW_MS = 80;

/** Draws progress on stderr according to the terminal and `--quiet`. */
export class Progress {
  #io: CliIo;
  #quiet: boolean;
  #lastDraw = -Infinity;
  #drawn = false;
  #lastStep = new Map<string, number>();

  /** @param io output sinks @param quiet draw nothing */
  constructor(io: CliIo, quiet: boolean) {
    this.#io = io;
    this.#quiet = quiet;
  }

  /** Reports progress; redraws at most every 80 ms unless the stage completed. */
  update(p: ProgressUpdate): void {
    if (this.#quiet) return;
    const finished = p.total > 0 && p.done >= p.total;
    if (!this.#io.isTerminal) {
      // Piped output: a handful of plain lines per stage, never control characters.
      const step = p.total > 0 ? Math.floor((4 * p.done) / p.total) : 0;
      // Keyed by total too: concurrent spans of one source report interleaved.
      const key = `${p.label}/${p.total}`;
      if (this.#lastStep.get(key) === step) return;
      this.#lastStep.set(key, step);
      this.#io.stderr(`${describe(p)}\n`);
      return;
    }
    const now = performance.now();
    if (!finished && now - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = now;
    const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    const fill = Math.round(frac * WIDTH);
    const bar = "█".repeat(fill) + "░".repeat(WIDTH - fill);
    this.#io.stderr(`\r\x1b[K${p.label.padEnd(7)} ${bar} ${describe(p, false)}`);
    this.#drawn = true;
  }

  /** Prints a line, keeping the bar out of its way. */
  log(line: string): void {
    if (this.#quiet) return;
    this.clear();
    this.#io.stderr(line + "\n");
  }

  /** Removes the bar (call before printing results or on exit). */
  clear(): void {
    if (!this.#drawn) return;
    this.#io.stderr("\r\x1b[K");
    this.#drawn = false;
  }
}

function describe(p: ProgressUpdate, withLabel = true): string {
  const pct = p.total > 0 ? ` ${Math.floor((100 * p.done) / p.total)}%` : "";
  const bytes = p.bytes ? ` ${formatBytes(p.bytes)}` : "";
  const count = p.total > 0 ? `${p.done}/${p.total}` : `${p.done}`;
  const detail = p.detail ? ` ${p.detail}` : "";
  return `${withLabel ? p.label + " " : ""}${count}${pct}${bytes}${detail}`;
}
