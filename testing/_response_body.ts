/**
 * Sending a response body: whole when it is small, else streamed in chunks the replica can
 * pace (`bandwidthMbps`), stall or cut (`stallBody`, `reset`, `endless`), each tracked so that
 * disposal ends it and the request log shows its progress.
 *
 * @module
 */
import { type BodyTracker, trackedBody } from "./_bodies.ts";
import type { FaultRule } from "./_faults.ts";
import { Pacer } from "./_pacing.ts";
import type { RouteResult } from "./_rest.ts";
import type { RequestLogEntry } from "./_types.ts";

/** Ends a request's log entry (`aborted`: the client left or the body was cut). */
export type Finish = (aborted?: boolean) => void;

/** Where the bodies report to. */
export interface BodyContext {
  /** Bytes per streamed chunk (`ReplicaOptions.chunkBytes`). */
  chunkBytes: number;
  /** `ReplicaOptions.bandwidthMbps`, checked. */
  bandwidthMbps: number | undefined;
  /** Registers a body's kill switch for disposal; returns its deregistration. */
  track(kill: () => void): () => void;
  /** The entry changed (waiters look). */
  notify(entry: RequestLogEntry): void;
}

/** Sends bodies for one replica. */
export class BodySender {
  readonly #ctx: BodyContext;

  constructor(ctx: BodyContext) {
    this.#ctx = ctx;
  }

  /** The response for `result` with `body` (HEAD: headers only). */
  send(
    req: Request,
    entry: RequestLogEntry,
    result: RouteResult,
    body: Uint8Array,
    rule: FaultRule | undefined,
    finish: Finish,
  ): Response {
    if (req.method === "HEAD") {
      finish();
      return new Response(null, { status: result.status, headers: result.headers });
    }
    const mbps = this.#ctx.bandwidthMbps;
    const pacer = mbps === undefined ? undefined : new Pacer(mbps);
    if (pacer) entry.bandwidthMbps = mbps;
    const streaming = rule?.kind === "stallBody" || rule?.kind === "reset" ||
      body.length > Math.min(this.#ctx.chunkBytes, pacer?.piece ?? Infinity);
    if (!streaming) {
      entry.bytes = body.length;
      finish();
      return new Response(body as Uint8Array<ArrayBuffer>, {
        status: result.status,
        headers: result.headers,
      });
    }
    return this.#stream(entry, result, body, rule, finish, pacer);
  }

  /** An `endless` fault: a 200 body that never ends (until the client or disposal cuts it). */
  endless(entry: RequestLogEntry, rule: FaultRule, finish: Finish): Response {
    const chunk = new Uint8Array(Math.max(1, rule.chunkBytes ?? 16384)).fill(0x30);
    const delayMs = Math.max(0, rule.intervalMs ?? 5);
    entry.status = 200;
    const stream = trackedBody(this.#tracker(entry, finish), () => ({ chunk, delayMs }));
    const headers: Record<string, string> = { "content-type": "application/zip" };
    if (rule.contentLength !== undefined) headers["content-length"] = String(rule.contentLength);
    return new Response(stream, { status: 200, headers });
  }

  /** A body tracker for one request: disposal cuts it; the log follows its progress. */
  #tracker(entry: RequestLogEntry, finish: Finish): BodyTracker {
    entry.state = "streaming";
    return {
      track: (kill) => this.#ctx.track(kill),
      progress: (sent, stalled) => {
        entry.bytes = sent;
        if (stalled) entry.state = "stalled";
        this.#ctx.notify(entry);
      },
      finish,
    };
  }

  #stream(
    entry: RequestLogEntry,
    result: RouteResult,
    body: Uint8Array,
    rule: FaultRule | undefined,
    finish: Finish,
    pacer?: Pacer,
  ): Response {
    const cut = rule?.kind === "stallBody" || rule?.kind === "reset";
    const stopAt = cut ? Math.min(body.length, Math.max(0, rule.afterBytes ?? 0)) : body.length;
    const chunk = Math.min(this.#ctx.chunkBytes, pacer?.piece ?? Infinity);
    let offset = 0;
    const stream = trackedBody(this.#tracker(entry, finish), () => {
      if (offset < stopAt) {
        const piece = body.subarray(offset, Math.min(stopAt, offset + chunk));
        offset += piece.length;
        return { chunk: piece, delayMs: pacer?.delayMs(offset) };
      }
      return rule?.kind === "reset" ? "reset" : rule?.kind === "stallBody" ? "stall" : "end";
    });
    result.headers["content-length"] ??= String(body.length);
    return new Response(stream, { status: result.status, headers: result.headers });
  }
}
