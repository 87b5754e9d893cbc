/**
 * Small bounded GETs (listing pages, `.CHECKSUM` files): a stalled or endless body is cut by
 * the idle timeout or the size bound, never read into memory without a limit.
 *
 * @module
 */
import { fetchResponse, readBody } from "../http/fetch.ts";
import { MalformedResponseError } from "../errors.ts";

/** Options for {@linkcode getText}. */
export interface GetTextOptions {
  /** Aborts the request. */
  signal: AbortSignal;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Headers and each body chunk must arrive within this. @default {30000} */
  timeoutMs?: number;
}

/** GETs `url` and decodes its body as UTF-8, refusing bodies above `maxBytes`. */
export async function getText(url: string, options: GetTextOptions): Promise<string> {
  const { signal, maxBytes, timeoutMs = 30_000 } = options;
  const res = await fetchResponse(url, { signal, headersTimeoutMs: timeoutMs });
  const chunks: Uint8Array[] = [];
  let size = 0;
  await readBody(res, {
    signal,
    idleTimeoutMs: timeoutMs,
    url,
    onChunk: (chunk) => {
      size += chunk.length;
      if (size > maxBytes) {
        throw new MalformedResponseError(url, `body larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    },
  });
  const all = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all);
}
