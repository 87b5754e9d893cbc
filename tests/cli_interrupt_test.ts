/**
 * Ctrl-C (and SIGTERM) during a fetch, for real: a child process runs the CLI against a
 * replica whose archive for one day stalls mid-body; once that request is seen stalled, the
 * child gets SIGINT (SIGTERM) and must exit 130 (143) leaving no temp dir, no partial cache
 * file and no output file.
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { fromFileUrl, join } from "@std/path";
import { startReplica } from "../testing/mod.ts";
import { TEMP_DIR_PREFIX } from "../src/resource/temp_dir.ts";
import { walk } from "./_helpers.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
const NOW = "2026-11-27T12:00:00Z";
const STALLED = "BTCUSDT-1m-2024-01-02.zip";

/** Runs the fetch in a child, stops it with `sig` once a download is stalled, checks cleanup. */
async function stopMidDownload(sig: "SIGINT" | "SIGTERM", code: number, notice: string) {
  {
    await using replica = await startReplica({
      now: NOW,
      faults: [{ match: `*/${STALLED}`, kind: "stallBody", afterBytes: 2048 }],
    });
    const dir = await Deno.makeTempDir({ prefix: "vd-cli-sigint-" });
    try {
      // The child's OS temp dir is ours, so its per-client temp dirs are easy to check.
      const tmp = join(dir, "tmp");
      const cache = join(dir, "cache");
      const out = join(dir, "out");
      await Deno.mkdir(tmp);
      await Deno.mkdir(out);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--import-map=offline/import_map.json",
          "src/cli/main.ts",
          "fetch",
          "BTCUSDT",
          "--interval",
          "1m",
          "--start",
          "2024-01-01",
          "--end",
          "2024-01-04",
          "--now",
          NOW,
          "--source",
          "vision",
          "--vision-url",
          replica.visionUrl,
          "--rest-url",
          replica.restUrl,
          "--cache-dir",
          cache,
          "--out",
          join(out, "k.parquet"),
        ],
        cwd: ROOT,
        env: { TMPDIR: tmp, NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const output = child.output();
      const stalled = await replica.waitFor((e) =>
        e.path.endsWith(STALLED) && e.state === "stalled"
      );
      assertEquals(stalled.bytes, 2048);
      // Small archives are held in memory (no temp dir needed); any temp dir must be gone below.
      child.kill(sig);
      const { code: exit, stderr } = await output;
      const err = new TextDecoder().decode(stderr);
      assertEquals(exit, code, err);
      assertStringIncludes(err, notice);
      assertStringIncludes(err, "Cancelled.");

      assertEquals(
        walk(tmp, { dirs: true }).filter((p) => p.includes(TEMP_DIR_PREFIX)),
        [],
        "client temp dirs removed",
      );
      assertEquals(walk(out, { dirs: true }), [], "no partial output file");
      const cached = await Deno.stat(cache).then(
        () => walk(cache, { dirs: true }),
        () => [] as string[],
      );
      assertEquals(cached.filter((p) => p.includes(".tmp-")), [], "no partial cache file");
      assertEquals(cached.filter((p) => p.endsWith("BTCUSDT-1m-2024-01-02.arrow")), []);
      const ended = await replica.waitFor((e) => e.id === stalled.id && e.state === "done");
      assertEquals(ended.aborted, true, "the stalled download was abandoned, not completed");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
}

Deno.test({
  name: "SIGINT mid-download: exit 130, temp dirs gone, no partial cache or output file",
  ignore: Deno.build.os === "windows",
  fn: () => stopMidDownload("SIGINT", 130, "Interrupted"),
});

Deno.test({
  name: "SIGTERM mid-download is handled like Ctrl-C: exit 143, temp dirs gone, nothing partial",
  ignore: Deno.build.os === "windows",
  fn: () => stopMidDownload("SIGTERM", 143, "SIGTERM: stopping"),
});
