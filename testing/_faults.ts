/**
 * Declarative fault injection for the replica.
 *
 * @module
 */

/** What a fault does. */
export type FaultKind =
  | "latency"
  | "stallHeaders"
  | "stallBody"
  | "reset"
  | "truncate"
  | "corrupt"
  | "badChecksum"
  | "status"
  | "endless"
  | "hostileRows";

/**
 * One fault rule, as data. Rules are checked in order for every request; every matching
 * `latency` rule adds its delay, and the first matching rule of any other kind applies.
 *
 * - `latency` (`ms`): wait before sending headers (ends early when the client aborts).
 * - `stallHeaders`: never send headers (until the client aborts or the replica is disposed).
 * - `stallBody` (`afterBytes`, default 0): send headers and that many body bytes, then stall.
 * - `reset` (`afterBytes`, default 0): send that many bytes, then break the connection (the
 *   client's body read rejects with a network error).
 * - `truncate` (`bytes`, default half the body): serve only the first bytes, with a matching
 *   Content-Length so the response looks complete.
 * - `corrupt`: flip one byte in the middle of the body (same length; CRC/checksum break).
 * - `badChecksum`: a `.CHECKSUM` answers with a wrong hash (the rule may match the `.zip`
 *   path or the `.CHECKSUM` path).
 * - `status` (`status`, default 503; `retryAfter` seconds; `body`): answer with that status;
 *   404 on archive paths gives S3's NoSuchKey XML, REST paths get a `{code,msg}` body.
 * - `endless` (`chunkBytes` default 16384, `intervalMs` default 5): a 200 whose body never ends;
 *   with `contentLength`, it declares that length (a lie: the body goes on past it, until the
 *   client stops reading or the server's HTTP layer cuts it at the declared length).
 * - `hostileRows` (`row`: one of `overflow`, `negativeVolume`, `highBelowLow`, `offGrid`,
 *   `fractionalTime`; `at` row index, default 0): a REST klines page served with that row
 *   made hostile (for archives, see `hostileCsv` in `_hostile.ts`).
 *
 * `latency` and `stallHeaders` notice a client leaving through `request.signal` (nothing else
 * reports it before headers are sent); Deno 2.9 prints a one-time "legacy behavior" notice for
 * that unless the project opts in with `"unstable": ["no-legacy-abort"]` in `deno.json`
 * (or `--unstable-no-legacy-abort`). The replica only uses the signal for client aborts, so it
 * behaves the same either way.
 */
export interface FaultRule {
  /** Path pattern: a glob (`*` matches any run of characters, `/` included; `?` one) or a
   * RegExp, tested against the URL path (e.g. `/data/spot/daily/*`). Absent: every request. */
  match?: string | RegExp;
  /** Only requests with this method (e.g. `"GET"`). */
  method?: string;
  /** What to do. */
  kind: FaultKind;
  /** `latency`: delay in ms. */
  ms?: number;
  /** `stallBody` / `reset`: body bytes sent first. */
  afterBytes?: number;
  /** `truncate`: bytes served. */
  bytes?: number;
  /** `status`: HTTP status. */
  status?: number;
  /** `status`: Retry-After header value in seconds. */
  retryAfter?: number;
  /** `status`: response body text (default: a body shaped like the real service's). */
  body?: string;
  /** `endless`: bytes per chunk. */
  chunkBytes?: number;
  /** `endless`: pause between chunks. */
  intervalMs?: number;
  /** `endless`: the `Content-Length` to declare (absent: none). */
  contentLength?: number;
  /** `hostileRows`: what to break. */
  row?: HostileRow;
  /** `hostileRows`: the 0-based row to break. @default {0} */
  at?: number;
  /** Apply to the first N matching requests only. */
  times?: number;
  /** Apply with this probability (0–1), drawn from the replica's seeded RNG. */
  probability?: number;
}

/** How `hostileRows` breaks a row. */
export type HostileRow =
  | "overflow"
  | "negativeVolume"
  | "highBelowLow"
  | "offGrid"
  | "fractionalTime";

/** The faults chosen for one request. */
export interface AppliedFaults {
  /** Total latency before headers. */
  latencyMs: number;
  /** The non-latency rule that applies, if any. */
  rule?: FaultRule;
  /** Kinds applied, for the log. */
  kinds: string[];
}

function globToRegExp(glob: string): RegExp {
  let re = "^";
  for (const ch of glob) {
    if (ch === "*") re += ".*";
    else if (ch === "?") re += ".";
    else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(re + "$");
}

/** Seeded PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = new Set<FaultKind>([
  "latency",
  "stallHeaders",
  "stallBody",
  "reset",
  "truncate",
  "corrupt",
  "badChecksum",
  "status",
  "endless",
  "hostileRows",
]);

interface CompiledRule {
  rule: FaultRule;
  re: RegExp | null;
  used: number;
}

/** The active rule set with its counters. */
export class FaultSet {
  #rules: CompiledRule[] = [];
  readonly #random: () => number;

  constructor(rules: readonly FaultRule[], seed: number) {
    this.#random = seededRandom(seed ^ 0x5bd1e995);
    this.set(rules);
  }

  /** Replaces the rules (counters restart). */
  set(rules: readonly FaultRule[]): void {
    this.#rules = rules.map((rule) => {
      if (!KINDS.has(rule.kind)) {
        throw new TypeError(
          `Unknown fault kind ${JSON.stringify(rule.kind)}; allowed: ${[...KINDS].join(", ")}`,
        );
      }
      const re = rule.match === undefined
        ? null
        : rule.match instanceof RegExp
        ? rule.match
        : globToRegExp(rule.match);
      return { rule, re, used: 0 };
    });
  }

  /** The rules, as given. */
  get rules(): FaultRule[] {
    return this.#rules.map((r) => r.rule);
  }

  /** Chooses the faults for a request (consumes `times` budgets). */
  pick(method: string, path: string): AppliedFaults {
    const out: AppliedFaults = { latencyMs: 0, kinds: [] };
    const zipPath = path.endsWith(".CHECKSUM") ? path.slice(0, -".CHECKSUM".length) : null;
    for (const c of this.#rules) {
      const r = c.rule;
      if (r.kind !== "latency" && out.rule) continue;
      if (r.method && r.method.toUpperCase() !== method) continue;
      if (c.re) {
        c.re.lastIndex = 0;
        let ok = c.re.test(path);
        if (!ok && r.kind === "badChecksum" && zipPath) {
          c.re.lastIndex = 0;
          ok = c.re.test(zipPath);
        }
        if (!ok) continue;
      }
      if (r.kind === "badChecksum" && !zipPath) continue;
      if (r.times !== undefined && c.used >= r.times) continue;
      if (r.probability !== undefined && this.#random() >= r.probability) continue;
      c.used++;
      out.kinds.push(r.kind);
      if (r.kind === "latency") out.latencyMs += Math.max(0, r.ms ?? 0);
      else out.rule = r;
    }
    return out;
  }
}
