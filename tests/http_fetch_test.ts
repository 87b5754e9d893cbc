import {
  assert,
  assertEquals,
  assertInstanceOf,
  assertRejects,
  assertStrictEquals,
} from "@std/assert";
import {
  fetchResponse,
  isTransientError,
  readBody,
  readBodyInto,
  retryTransient,
} from "../src/http/fetch.ts";
import { HttpStatusError, NetworkError, RequestTimeoutError } from "../src/errors.ts";

/**
 * A raw TCP server so a test can misbehave at the byte level (stall, reset, truncate).
 * `handle` gets each connection; the server tracks and closes them all on dispose.
 */
function rawServer(handle: (conn: Deno.Conn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      const t = (async () => {
        try {
          await readRequestHead(conn);
          await handle(conn);
        } catch {
          // the client went away
        } finally {
          conns.delete(conn);
          try {
            conn.close();
          } catch { /* already closed */ }
        }
      })();
      tasks.add(t);
      t.finally(() => tasks.delete(t));
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/file.zip`,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await accepting;
      await Promise.allSettled([...tasks]);
    },
  };
}

async function readRequestHead(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(4096);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed");
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
}

const enc = new TextEncoder();
/** Resolves when the peer closes the connection (a stall that ends with the client). */
async function untilClosed(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(1024);
  while (await conn.read(buf) !== null) { /* discard */ }
}

Deno.test("fetchResponse: stalled headers → RequestTimeoutError(headers), transient", async () => {
  let release!: () => void;
  const hold = new Promise<void>((r) => release = r);
  await using srv = rawServer(() => hold);
  const ac = new AbortController();
  const err = await assertRejects(
    () => fetchResponse(srv.url, { signal: ac.signal, headersTimeoutMs: 50 }),
    RequestTimeoutError,
  );
  assertEquals(err.phase, "headers");
  assertEquals(err.url, srv.url);
  assert(isTransientError(err));
  release();
});

Deno.test("fetchResponse: abort during stalled headers rejects with the signal's reason", async () => {
  let release!: () => void;
  const hold = new Promise<void>((r) => release = r);
  await using srv = rawServer(() => hold);
  const ac = new AbortController();
  const reason = new Error("stop");
  const p = fetchResponse(srv.url, { signal: ac.signal, headersTimeoutMs: 60_000 });
  queueMicrotask(() => setTimeout(() => ac.abort(reason), 10));
  const err = await p.catch((e) => e);
  assertStrictEquals(err, reason);
  assert(!isTransientError(err));
  release();
});

Deno.test("fetchResponse: non-2xx → HttpStatusError with status; body cancelled", async () => {
  const peerClosed = Promise.withResolvers<void>();
  await using srv = rawServer(async (conn) => {
    await conn.write(enc.encode(
      "HTTP/1.1 404 Not Found\r\ncontent-length: 5000\r\n\r\n" + "x".repeat(100),
    ));
    await untilClosed(conn);
    peerClosed.resolve();
  });
  const ac = new AbortController();
  const err = await assertRejects(
    () => fetchResponse(srv.url, { signal: ac.signal }),
    HttpStatusError,
  );
  assertEquals(err.status, 404);
  assert(!isTransientError(err));
  // The unread body was cancelled: the client dropped the connection by itself.
  await peerClosed.promise;
  assert(isTransientError(new HttpStatusError("u", 503)));
});

Deno.test("fetchResponse: acceptStatus hands the response back", async () => {
  await using srv = rawServer(async (conn) => {
    await conn.write(enc.encode(
      "HTTP/1.1 429 Too Many\r\nretry-after: 2\r\ncontent-length: 2\r\n\r\n{}",
    ));
  });
  const ac = new AbortController();
  const res = await fetchResponse(srv.url, {
    signal: ac.signal,
    acceptStatus: (s) => s === 429,
  });
  assertEquals(res.status, 429);
  assertEquals(res.headers.get("retry-after"), "2");
  assertEquals(await res.text(), "{}");
});

Deno.test("readBody: stalled body → RequestTimeoutError(body), no leak", async () => {
  const peerClosed = Promise.withResolvers<void>();
  await using srv = rawServer(async (conn) => {
    await conn.write(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nabc"));
    await untilClosed(conn);
    peerClosed.resolve();
  });
  const ac = new AbortController();
  const res = await fetchResponse(srv.url, { signal: ac.signal, headersTimeoutMs: 5000 });
  let got = 0;
  const err = await assertRejects(
    () => readBody(res, { signal: ac.signal, idleTimeoutMs: 50, onChunk: (c) => got += c.length }),
    RequestTimeoutError,
  );
  assertEquals(err.phase, "body");
  assertEquals(got, 3);
  assert(isTransientError(err));
  await peerClosed.promise;
});

Deno.test("readBody: abort mid-body rejects with the signal's reason", async () => {
  await using srv = rawServer(async (conn) => {
    await conn.write(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nabc"));
    await untilClosed(conn);
  });
  const ac = new AbortController();
  const res = await fetchResponse(srv.url, { signal: ac.signal });
  const reason = new DOMException("closing", "AbortError");
  const p = readBody(res, {
    signal: ac.signal,
    idleTimeoutMs: 60_000,
    onChunk: () => queueMicrotask(() => ac.abort(reason)),
  });
  const err = await p.catch((e) => e);
  assertStrictEquals(err, reason);
});

Deno.test("readBody: truncated body (connection closed early) → NetworkError, transient", async () => {
  await using srv = rawServer(async (conn) => {
    await conn.write(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nabc"));
  });
  const ac = new AbortController();
  const res = await fetchResponse(srv.url, { signal: ac.signal });
  const err = await assertRejects(
    () => readBody(res, { signal: ac.signal, idleTimeoutMs: 5000 }),
    NetworkError,
  );
  assertEquals(err.phase, "body");
  assert(isTransientError(err));
});

Deno.test("readBodyInto: a fetch body lands in the buffer (BYOB), hashed part by part", async () => {
  const body = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
  await using srv = rawServer(async (conn) => {
    await conn.write(enc.encode(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`));
    // In pieces, so the body arrives over several reads.
    for (let at = 0; at < body.length; at += 50_000) {
      await conn.write(body.subarray(at, at + 50_000));
    }
  });
  const ac = new AbortController();
  const res = await fetchResponse(srv.url, { signal: ac.signal });
  const buffer = new Uint8Array(body.length);
  const parts: Uint8Array[] = [];
  const got = await readBodyInto(res, buffer, {
    signal: ac.signal,
    idleTimeoutMs: 5000,
    onChunk: (c) => parts.push(c.slice()),
  });
  assertEquals(got, body);
  // The parts are the body in order, each a view of the one buffer as it filled.
  assertEquals(parts.reduce((n, c) => n + c.length, 0), body.length);
  let at = 0;
  for (const c of parts) {
    assertEquals(c, body.subarray(at, at + c.length));
    at += c.length;
  }
  assert(buffer.buffer.detached, "the passed buffer moved into the result");
});

Deno.test("readBodyInto: a body shorter or longer than the buffer → NetworkError", async () => {
  await using srv = rawServer(async (conn) => {
    await conn.write(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nabc"));
  });
  const ac = new AbortController();
  const short = await fetchResponse(srv.url, { signal: ac.signal });
  const err = await assertRejects(
    () => readBodyInto(short, new Uint8Array(1000), { signal: ac.signal, idleTimeoutMs: 5000 }),
    NetworkError,
  );
  assertEquals(err.phase, "body");
  assert(isTransientError(err));
  // More bytes than expected, from a byte stream and from a plain stream alike.
  const bytes = () =>
    new ReadableStream({
      type: "bytes",
      start(c) {
        c.enqueue(new Uint8Array(10));
        c.close();
      },
    });
  const plain = () =>
    new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(10));
        c.close();
      },
    });
  for (const stream of [bytes, plain]) {
    await assertRejects(
      () => readBodyInto(new Response(stream()), new Uint8Array(8), { signal: ac.signal }),
      NetworkError,
    );
    const exact = await readBodyInto(new Response(stream()), new Uint8Array(10), {
      signal: ac.signal,
    });
    assertEquals(exact.length, 10);
  }
});

Deno.test("readBodyInto: stalled body → RequestTimeoutError(body); abort → the reason", async () => {
  await using srv = rawServer(async (conn) => {
    await conn.write(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nabc"));
    await untilClosed(conn);
  });
  const ac = new AbortController();
  const stalled = await fetchResponse(srv.url, { signal: ac.signal });
  const err = await assertRejects(
    () => readBodyInto(stalled, new Uint8Array(1000), { signal: ac.signal, idleTimeoutMs: 50 }),
    RequestTimeoutError,
  );
  assertEquals(err.phase, "body");
  const reason = new DOMException("closing", "AbortError");
  const res = await fetchResponse(srv.url, { signal: ac.signal });
  const p = readBodyInto(res, new Uint8Array(1000), {
    signal: ac.signal,
    idleTimeoutMs: 60_000,
    onChunk: () => queueMicrotask(() => ac.abort(reason)),
  });
  assertStrictEquals(await p.catch((e) => e), reason);
});

Deno.test("fetchResponse: connection reset before headers → NetworkError, transient", async () => {
  await using srv = rawServer(async () => {});
  const ac = new AbortController();
  const err = await assertRejects(
    () => fetchResponse(srv.url, { signal: ac.signal, headersTimeoutMs: 5000 }),
    NetworkError,
  );
  assertEquals(err.phase, "headers");
  assert(isTransientError(err));
});

Deno.test("readBody: onChunk throwing cancels the body and rethrows", async () => {
  await using srv = rawServer(async (conn) => {
    await conn.write(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nabc"));
    await untilClosed(conn);
  });
  const ac = new AbortController();
  const res = await fetchResponse(srv.url, { signal: ac.signal });
  const boom = new RangeError("boom");
  const err = await readBody(res, {
    signal: ac.signal,
    onChunk: () => {
      throw boom;
    },
  }).catch((e) => e);
  assertStrictEquals(err, boom);
});

Deno.test("retryTransient: retries transient errors, then succeeds", async () => {
  let calls = 0;
  const v = await retryTransient(() => {
    calls++;
    if (calls < 3) return Promise.reject(new HttpStatusError("u", 503));
    return Promise.resolve(42);
  }, { signal: new AbortController().signal, maxAttempts: 5, minTimeoutMs: 1, maxTimeoutMs: 2 });
  assertEquals(v, 42);
  assertEquals(calls, 3);
});

Deno.test("retryTransient: out of attempts throws the last cause, not RetryError", async () => {
  let calls = 0;
  const err = await retryTransient(() => {
    calls++;
    return Promise.reject(new HttpStatusError("u", 500 + calls));
  }, { signal: new AbortController().signal, maxAttempts: 3, minTimeoutMs: 1, maxTimeoutMs: 2 })
    .catch((e) => e);
  assertInstanceOf(err, HttpStatusError);
  assertEquals(err.status, 503);
  assertEquals(calls, 3);
});

Deno.test("retryTransient: permanent errors are not retried", async () => {
  let calls = 0;
  await assertRejects(
    () =>
      retryTransient(() => {
        calls++;
        return Promise.reject(new HttpStatusError("u", 404));
      }, { signal: new AbortController().signal, minTimeoutMs: 1 }),
    HttpStatusError,
  );
  assertEquals(calls, 1);
});

Deno.test("retryTransient: abort during backoff rejects with the reason, no timer left", async () => {
  const ac = new AbortController();
  const reason = new Error("cancelled");
  let calls = 0;
  const err = await retryTransient(() => {
    calls++;
    queueMicrotask(() => ac.abort(reason));
    return Promise.reject(new HttpStatusError("u", 503));
  }, { signal: ac.signal, maxAttempts: 5, minTimeoutMs: 60_000, maxTimeoutMs: 60_000 })
    .catch((e) => e);
  assertStrictEquals(err, reason);
  assertEquals(calls, 1);
});
