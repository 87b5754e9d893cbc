/**
 * Response bodies the replica can cut: every streamed body is registered with the replica, so
 * that disposal ends it (a client that stopped reading must never hold the server open), and
 * its progress is visible in the request log.
 *
 * @module
 */

/** What a body does next. */
export type BodyStep =
  | { chunk: Uint8Array; delayMs?: number }
  | "end"
  | "reset"
  | "stall";

/** Where a tracked body reports to. */
export interface BodyTracker {
  /** Registers a kill switch (called at disposal); returns its deregistration. */
  track(kill: () => void): () => void;
  /** Body progress: bytes sent so far, or a stall. */
  progress(sent: number, stalled: boolean): void;
  /** The body ended: completely, cut by the replica, or cancelled by the client (`aborted`). */
  finish(aborted: boolean): void;
}

/**
 * A pull-driven body: `next()` is asked for each chunk (with backpressure), and may end it,
 * break the connection (`reset`: the client's read fails), or stall until the client leaves or
 * the replica closes.
 */
export function trackedBody(
  tracker: BodyTracker,
  next: () => BodyStep,
): ReadableStream<Uint8Array> {
  let ctrl: ReadableStreamDefaultController<Uint8Array> | undefined;
  let ended = false;
  let sent = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  const done = (aborted: boolean) => {
    if (ended) return;
    ended = true;
    if (timer !== undefined) clearTimeout(timer);
    wake?.();
    untrack();
    tracker.finish(aborted);
  };
  const untrack = tracker.track(() => {
    try {
      ctrl?.error(new Error("replica closed"));
    } catch { /* already closed */ }
    done(false);
  });
  // Resolves after `ms` (Infinity: never), or at once when the body ends meanwhile.
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = () => {
        wake = undefined;
        resolve();
      };
      if (Number.isFinite(ms)) {
        timer = setTimeout(() => {
          timer = undefined;
          wake?.();
        }, ms);
      }
    });
  return new ReadableStream<Uint8Array>({
    start: (c) => {
      ctrl = c;
    },
    pull: async (c) => {
      const step = next();
      if (step === "end") {
        c.close();
        return done(false);
      }
      if (step === "reset") {
        c.error(new Error("connection reset by replica fault"));
        return done(false);
      }
      if (step === "stall") {
        tracker.progress(sent, true);
        return await sleep(Infinity);
      }
      if (step.delayMs) await sleep(step.delayMs);
      if (ended) return;
      c.enqueue(step.chunk);
      sent += step.chunk.length;
      tracker.progress(sent, false);
    },
    cancel: () => done(true),
  }, { highWaterMark: 0 });
}
