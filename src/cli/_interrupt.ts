/**
 * Ctrl-C and SIGTERM handling: the first SIGINT or SIGTERM aborts the run's signal (the
 * command then cancels and disposes cleanly, exiting 130 for SIGINT, 143 for SIGTERM, as
 * shells report 128 + the signal number); a second one exits at once. The listeners are
 * removed when the run ends, so an embedding program keeps its own signal behaviour.
 *
 * @module
 */

/** Exit code of a run cancelled by Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;
/** Exit code of a run stopped by SIGTERM (128 + SIGTERM). */
export const EXIT_TERMINATED = 143;

/** The signals that stop a run, with their exit codes. */
const STOP_SIGNALS: readonly [Deno.Signal, number][] = Deno.build.os === "windows"
  ? [["SIGINT", EXIT_INTERRUPTED]] // Windows delivers no SIGTERM to listeners.
  : [["SIGINT", EXIT_INTERRUPTED], ["SIGTERM", EXIT_TERMINATED]];

/** The reason the run's signal carries when a stop signal aborted it. */
export class InterruptedError extends DOMException {
  /** The signal that stopped the run. */
  readonly signal: Deno.Signal;
  /** The exit code that reports it (130 or 143). */
  readonly exitCode: number;
  constructor(signal: Deno.Signal = "SIGINT", exitCode = EXIT_INTERRUPTED) {
    super(signal === "SIGINT" ? "Interrupted (Ctrl-C)" : `Stopped by ${signal}`, "AbortError");
    this.signal = signal;
    this.exitCode = exitCode;
  }
}

/**
 * Runs `fn` with a signal that aborts on SIGINT/SIGTERM (or when `parent` aborts).
 *
 * @param onFirst called once, synchronously, when the first stop signal arrives
 */
export async function withInterrupt<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  options: { parent?: AbortSignal; onFirst?: (signal: Deno.Signal) => void } = {},
): Promise<T> {
  const controller = new AbortController();
  const { parent } = options;
  let count = 0;
  const listeners = STOP_SIGNALS.map(([sig, code]) => {
    const listener = () => {
      if (++count > 1) Deno.exit(code);
      options.onFirst?.(sig);
      controller.abort(new InterruptedError(sig, code));
    };
    Deno.addSignalListener(sig, listener);
    return [sig, listener] as const;
  });
  const onParent = () => controller.abort(parent?.reason);
  parent?.addEventListener("abort", onParent, { once: true });
  if (parent?.aborted) onParent();
  try {
    return await fn(controller.signal);
  } finally {
    parent?.removeEventListener("abort", onParent);
    for (const [sig, listener] of listeners) Deno.removeSignalListener(sig, listener);
  }
}
