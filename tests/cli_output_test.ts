import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { formatBytes, formatMs, formatTable } from "../src/cli/_io.ts";
import { Progress } from "../src/cli/_progress.ts";

function sink(isTerminal: boolean) {
  const s = { err: "", io: { stdout: () => {}, stderr: (t: string) => s.err += t, isTerminal } };
  return s;
}

Deno.test("progress on a terminal: one redrawn line with \\r, cleared at the end", () => {
  const s = sink(true);
  const p = new Progress(s.io, false);
  p.update({ label: "vision", done: 0, total: 4 });
  p.update({ label: "vision", done: 1, total: 4 }); // within the redraw interval: skipped
  p.update({ label: "vision", done: 4, total: 4, bytes: 2_500_000 }); // completion: always drawn
  p.clear();
  assertEquals(s.err.split("\n").length, 1, "no newlines: the bar redraws in place");
  assertEquals(s.err.split("\r\x1b[K").length - 1, 3, "two draws and one clear");
  assertStringIncludes(s.err, "4/4 100% 2.50 MB");
  assert(!s.err.includes("1/4"));
});

Deno.test("progress when piped: plain lines at quarter steps, no control characters", () => {
  const s = sink(false);
  const p = new Progress(s.io, false);
  for (let i = 0; i <= 100; i++) p.update({ label: "rest", done: i, total: 100 });
  p.log("done");
  assertEquals(
    s.err,
    [
      "rest 0/100 0%",
      "rest 25/100 25%",
      "rest 50/100 50%",
      "rest 75/100 75%",
      "rest 100/100 100%",
      "done",
      "",
    ].join("\n"),
  );
});

Deno.test("--quiet draws nothing", () => {
  const s = sink(true);
  const p = new Progress(s.io, true);
  p.update({ label: "cache", done: 1, total: 1 });
  p.log("x");
  p.clear();
  assertEquals(s.err, "");
});

Deno.test("table and unit formatting", () => {
  assertEquals(
    formatTable(["name", "rows"], [["a", 5], ["bbb", 1234]]),
    "name  rows\na        5\nbbb   1234\n",
  );
  assertEquals(formatBytes(999), "999 B");
  assertEquals(formatBytes(1_500_000), "1.50 MB");
  assertEquals(formatBytes(25_000_000_000), "25.0 GB");
  assertEquals(formatMs(12.4), "12 ms");
  assertEquals(formatMs(1500), "1.50 s");
});
