/**
 * One HTTP request through the replica: live-feed upgrade, log entry, classification, the
 * fault it draws (held headers, injected status, endless or rewritten body), the route's
 * answer, and the body sent — every path ending its log entry exactly once.
 *
 * @module
 */
import type { FaultSet } from "./_faults.ts";
import { faultedBody, hold, statusFault } from "./_fault_apply.ts";
import type { Lifecycle } from "./_lifecycle.ts";
import type { RequestLog } from "./_request_log.ts";
import type { BodySender } from "./_response_body.ts";
import type { RouteResult } from "./_rest.ts";
import { classify, type Router } from "./_routes.ts";
import type { RequestLogEntry } from "./_types.ts";
import type { LiveHub } from "./_ws.ts";

/** The parts a request goes through. */
export interface HandlerContext {
  /** The WebSocket feed: answers the upgrades it owns, null for the rest. */
  live: Pick<LiveHub, "handle">;
  log: RequestLog;
  life: Lifecycle;
  faults: FaultSet;
  /** Latency added to every request (`ReplicaOptions.latencyMs`, checked). */
  latencyMs: number;
  router: Router;
  bodies: BodySender;
  /** The REST weight a market has used (status faults report it). */
  usedWeight(market: NonNullable<RequestLogEntry["market"]>): number;
}

/** The server's request handler. */
export function createHandler(ctx: HandlerContext): (req: Request) => Promise<Response> {
  const { log, life } = ctx;
  return async (req) => {
    const url = new URL(req.url);
    const live = ctx.live.handle(req, url);
    if (live) return live;
    const entry = log.open(req, url);
    // Classified before any fault delay, so a request held by `latency`/`stallHeaders` already
    // shows its route and market (tests wait on `route === "klines"`).
    classify(entry, url);
    const t0 = performance.now();
    const leave = life.enter();
    let finished = false;
    const finish = (aborted = false) => {
      if (finished) return;
      finished = true;
      entry.aborted ||= aborted;
      entry.state = "done";
      entry.durationMs = performance.now() - t0;
      leave();
      log.notify(entry);
    };
    log.notify(entry);
    try {
      if (life.closed) {
        entry.status = 503;
        finish();
        return new Response("Replica is shutting down", { status: 503 });
      }
      const applied = ctx.faults.pick(req.method, url.pathname);
      if (applied.kinds.length > 0) entry.fault = applied.kinds.join(",");
      const rule = applied.rule;
      const latencyMs = applied.latencyMs + ctx.latencyMs;
      if (latencyMs > 0) entry.latencyMs = latencyMs;
      if (latencyMs > 0 || rule?.kind === "stallHeaders") {
        if (rule?.kind === "stallHeaders") {
          entry.state = "stalled";
          log.notify(entry);
        }
        const ms = rule?.kind === "stallHeaders" ? Infinity : latencyMs;
        const outcome = await hold(ms, req, life.disposed);
        if (outcome !== "ok") {
          finish(outcome === "client");
          return new Response(null, { status: 503 });
        }
        entry.state = "waiting";
      }
      let result: RouteResult;
      if (rule?.kind === "status") {
        result = statusFault(entry, url, rule, ctx.usedWeight);
      } else if (rule?.kind === "endless") {
        return ctx.bodies.endless(entry, rule, finish);
      } else {
        result = await ctx.router.route(req, url, entry, applied);
      }
      const body = faultedBody(rule, entry, result);
      entry.status = result.status;
      return ctx.bodies.send(req, entry, result, body, rule, finish);
    } catch (e) {
      entry.status = 500;
      finish();
      return new Response(`Replica error: ${e instanceof Error ? e.message : String(e)}`, {
        status: 500,
      });
    }
  };
}
