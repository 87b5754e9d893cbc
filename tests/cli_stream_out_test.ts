/**
 * `fetch --out` streaming: `-` writes CSV to stdout, a missing directory fails before any
 * request, and a fetch killed mid-write leaves no output under the asked name.
 */
import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { fromFileUrl, join } from "@std/path";
import { writeCsv } from "../src/export/mod.ts";
import { startReplica } from "../testing/mod.ts";
import { cli } from "./_cli_helpers.ts";
import { walk } from "./_helpers.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
const NOW = "2026-11-27T12:00:00Z";

Deno.test("fetch --out - writes the CSV to stdout; a missing --out directory fails first", async () => {
  await using replica = await startReplica({ now: NOW });
  const dir = await Deno.makeTempDir({ prefix: "vd-cli-out-" });
  try {
    const args = [
      "fetch",
      "BTCUSDT",
      "--interval",
      "1h",
      "--start",
      "2024-01-30",
      "--end",
      "2024-02-03",
      "--now",
      NOW,
      "--vision-url",
      replica.visionUrl,
      "--rest-url",
      replica.restUrl,
      "--no-cache",
    ];
    const r = await cli(...args, "--out", "-");
    assertEquals(r.code, 0, r.err);
    assertStringIncludes(r.err, "96 rows");
    const truth = replica.klines({
      marketType: "spot",
      symbol: "BTCUSDT",
      interval: "1h",
      start: "2024-01-30",
      end: "2024-02-03",
    });
    await writeCsv(truth, join(dir, "truth.csv"));
    assertEquals(r.out, await Deno.readTextFile(join(dir, "truth.csv")));

    replica.clearLog();
    const missing = join(dir, "nope", "k.parquet");
    const bad = await cli(...args, "--out", missing);
    assertEquals(bad.code, 2, bad.err);
    assertStringIncludes(bad.err, JSON.stringify(join(dir, "nope")));
    assertEquals(replica.requests.length, 0, "nothing fetched");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "a fetch --out killed mid-write leaves no output file under the asked name",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    // January is written (streamed into the temp file) while February's archive stalls.
    await using replica = await startReplica({
      now: NOW,
      faults: [{ match: "*/BTCUSDT-1h-2024-02.zip", kind: "stallBody", afterBytes: 1024 }],
    });
    const dir = await Deno.makeTempDir({ prefix: "vd-cli-kill-" });
    try {
      const out = join(dir, "k.csv");
      // Watching the directory: January's rows reaching the temp file is the event to await.
      using watcher = Deno.watchFs(dir);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--import-map=offline/import_map.json",
          "src/cli/main.ts",
          "fetch",
          "BTCUSDT",
          "--interval",
          "1h",
          "--start",
          "2024-01-01",
          "--end",
          "2024-03-01",
          "--now",
          NOW,
          "--source",
          "vision",
          "--vision-url",
          replica.visionUrl,
          "--no-cache",
          "--out",
          out,
        ],
        cwd: ROOT,
        env: { NO_COLOR: "1" },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      await replica.waitFor((e) => e.path.endsWith("2024-02.zip") && e.state === "stalled");
      // January's rows reach the temp file while February stalls: the file streams.
      const bigEnough = async () => {
        const temp = walk(dir).find((p) => p.includes(".k.csv.tmp-"));
        return temp !== undefined && (await Deno.stat(temp)).size >= 31 * 24 * 50;
      };
      if (!(await bigEnough())) {
        for await (const _ of watcher) if (await bigEnough()) break;
      }
      child.kill("SIGKILL");
      const status = await child.status;
      assert(!status.success);
      assertEquals(walk(dir).filter((p) => p === out), [], "no file under the asked name");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
