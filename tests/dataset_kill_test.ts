/**
 * kill -9 in the middle of a sync (a real child process): the re-run completes the dataset
 * with no duplicates, no holes and no temp files left.
 */
import { assertEquals } from "@std/assert";
import { fromFileUrl, join } from "@std/path";
import { startReplica } from "../testing/mod.ts";
import { verifyDataset } from "../src/dataset/mod.ts";
import { assertDatasetMatchesTruth, datasetFiles, NOW, replicaSync } from "./_dataset_helpers.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));
const STALLED = "BTCUSDT-1m-2024-02.zip";

Deno.test({
  name: "kill -9 mid-sync, then a re-run: complete, no duplicates, no temp files",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using replica = await startReplica({
      now: NOW,
      faults: [{ match: `*/${STALLED}`, kind: "stallBody", afterBytes: 4096, times: 1 }],
    });
    const base = await Deno.makeTempDir({ prefix: "vd-dataset-kill-" });
    try {
      const out = join(base, "ds");
      const tmp = join(base, "tmp");
      await Deno.mkdir(tmp);
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--import-map=offline/import_map.json",
          "src/cli/main.ts",
          "sync",
          "--out",
          out,
          "--symbols",
          "BTCUSDT,ETHUSDT,ADABTC",
          "--start",
          "2024-01-01",
          "--end",
          "2024-03-01",
          "--concurrency",
          "1",
          "--now",
          NOW,
          "--vision-url",
          replica.visionUrl,
          "--rest-url",
          replica.restUrl,
        ],
        cwd: ROOT,
        env: { TMPDIR: tmp, NO_COLOR: "1" },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      await replica.waitFor((e) => e.path.endsWith(STALLED) && e.state === "stalled");
      child.kill("SIGKILL");
      const status = await child.status;
      assertEquals(status.signal, "SIGKILL");
      const before = datasetFiles(out).filter((f) => f.endsWith(".parquet"));
      assertEquals(before.length < 6, true, `killed mid-way: ${before.length} of 6 partitions`);
      // What a kill during a rename leaves: a temp file next to a finished partition's file.
      const done = join(out, "market=spot/symbol=ADABTC/interval=1m/year=2024/month=01");
      await Deno.writeFile(
        join(done, ".ADABTC-1m-2024-01.parquet.tmp-99999-dead"),
        new Uint8Array(100),
      );

      replica.clearLog();
      const r = await replicaSync(replica, out);
      assertEquals(r.totals.units, 6);
      assertEquals(
        r.totals.unchanged,
        before.length,
        "finished partitions are not downloaded again",
      );
      assertEquals(datasetFiles(out).filter((f) => f.includes(".tmp-")), [], "no temp files");
      assertEquals(datasetFiles(out).filter((f) => f.endsWith(".parquet")).length, 6);
      assertEquals(await assertDatasetMatchesTruth(replica, out), 3 * 60 * 1440);
      assertEquals((await verifyDataset({ out })).problems, []);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});
