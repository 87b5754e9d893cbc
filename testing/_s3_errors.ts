/**
 * The plain and S3-style (XML) error bodies the replica answers with outside the REST API.
 *
 * @module
 */
import type { RouteResult } from "./_rest.ts";

const encoder = new TextEncoder();

/** A `text/plain` answer. */
export function textResult(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): RouteResult {
  return {
    status,
    headers: { "content-type": "text/plain", ...headers },
    body: encoder.encode(text),
  };
}

/** An S3 `<Error>` document; `extra` is XML appended after the message. */
export function s3Error(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  extra = "",
): RouteResult {
  return {
    status,
    headers: { "content-type": "application/xml", ...headers },
    body: encoder.encode(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
        `<Message>${message}</Message>${extra}</Error>`,
    ),
  };
}

/** S3's 404 for a key that does not exist; the request id comes from the log entry's id. */
export function noSuchKey(
  key: string,
  id: number,
  headers: Record<string, string> = {},
): RouteResult {
  const rid = id.toString(16).toUpperCase().padStart(16, "0");
  return s3Error(
    404,
    "NoSuchKey",
    "The specified key does not exist.",
    headers,
    `<Key>${key}</Key><RequestId>${rid}</RequestId><HostId>replica</HostId>`,
  );
}
