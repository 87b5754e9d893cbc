import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { fromFileUrl } from "@std/path";
import { createHash } from "node:crypto";
import { ArchiveError } from "../src/errors.ts";
import { createSha256, parseChecksumFile } from "../src/vision/checksum.ts";

const HASH = "2f79af36e0ab40e450368ff23a8970072bf205f01ee2af460268177068e4bc98";
const ZIP = "BTCUSDT-1m-2025-04-11.zip";

Deno.test("the real .CHECKSUM (no trailing newline) parses, with and without the name check", () => {
  const text = Deno.readTextFileSync(
    fromFileUrl(new URL(`./fixtures/checksum/${ZIP}.CHECKSUM`, import.meta.url)),
  );
  assertEquals(text.endsWith("\n"), false);
  assertEquals(parseChecksumFile(text), HASH);
  assertEquals(parseChecksumFile(text, ZIP), HASH);
});

Deno.test("lenient forms: newline, CRLF, tabs, upper case, binary marker, hash only", () => {
  for (
    const text of [
      `${HASH}  ${ZIP}\n`,
      `${HASH}  ${ZIP}\r\n`,
      `${HASH}\t${ZIP}`,
      `  ${HASH}  ${ZIP}\n\n`,
      `${HASH.toUpperCase()}  ${ZIP}`,
      `${HASH} *${ZIP}`,
      `${HASH}\n`,
      HASH,
    ]
  ) {
    assertEquals(parseChecksumFile(text, ZIP), HASH, JSON.stringify(text));
  }
});

Deno.test("a checksum of another file is an ArchiveError naming both", () => {
  const err = assertThrows(
    () => parseChecksumFile(`${HASH}  BTCUSDT-1m-2025-04-12.zip`, ZIP),
    ArchiveError,
  );
  assertStringIncludes(err.message, "BTCUSDT-1m-2025-04-12.zip");
  assertStringIncludes(err.message, ZIP);
  assertEquals(err.file, `${ZIP}.CHECKSUM`);
});

Deno.test("no 64-hex-digit hash first is an ArchiveError showing the text", () => {
  for (
    const text of [
      "",
      "\n",
      HASH.slice(1),
      HASH + "0",
      HASH.replace("2", "g"),
      "<Error><Code>NoSuchKey</Code></Error>",
      `${ZIP}  ${HASH}`,
    ]
  ) {
    const err = assertThrows(() => parseChecksumFile(text, ZIP), ArchiveError);
    assertStringIncludes(err.message, "64-hex-digit");
    assertStringIncludes(err.message, JSON.stringify(text.slice(0, 20)).slice(0, -1));
  }
});

Deno.test("createSha256 fed in chunks equals a one-shot hash", () => {
  const h = createSha256();
  h.update(new TextEncoder().encode("abc"));
  assertEquals(h.digestHex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  const data = new Uint8Array(1_000_003).map((_, i) => (i * 31 + (i >> 7)) & 0xff);
  const chunked = createSha256();
  for (let at = 0, size = 1; at < data.length; at += size, size = (size * 7) % 65_521 + 1) {
    chunked.update(data.subarray(at, at + size));
  }
  assertEquals(chunked.digestHex(), createHash("sha256").update(data).digest("hex"));
  assertEquals(createSha256().digestHex(), createHash("sha256").digest("hex"));
});
