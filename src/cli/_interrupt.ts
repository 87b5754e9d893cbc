/**
 * Ctrl-C handling: the first SIGINT aborts the run's signal (the command then cancels and
 * disposes cleanly, exiting 130); a second one exits at once. The listener is removed
 * when the run ends, so an embedding program keeps its own SIGINT behaviour.
 *
 * @module
 */

/** Exit code of a run cancelled by Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** The reason the run's signal carries when Ctrl-C aborted it. */
export class InterruptedError extends DOMException {
  constructor() {
    super("Interrupted (Ctrl-C)", "AbortError");
  }
}

/**
 * Runs `fn` with a signal that aborts on SIGINT (or when `parent` aborts).
 *
 * @param onFirst called once, synchronously, when the first Ctrl-C arrives
 */
export async function withInterrupt<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  options: { parent?: AbortSignal; onFirst?: () => void } = {},
): Promise<T> {
  const controller = new AbortController();
  const { parent } = options;
  let count = 0;
  const onSigint = () => {
    if (++count > 1) Deno.exit(EXIT_INTERRUPTED);
    options.onFirst?.();
    controller.abort(new InterruptedError());
  };
  const onParent = () => controller.abort(parent?.reason);
  Deno.addSignalListener("SIGINT", onSigint);
  parent?.addEventListener("abort", onParent, { once: true });
  if (parent?.aborted) onParent();
  try {
    return await fn(controller.signal);
  } finally {
    parent?.removeEventListener("abort", onParent);
    Deno.removeSignalListener("SIGINT", onSigint);
  }
}
