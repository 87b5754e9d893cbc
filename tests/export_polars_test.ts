/**
 * Polars (the Rust engine, through its Node binding) reads what `fetch` writes — CSV, Arrow
 * IPC and Parquet — and the cache's own day files, with the right rows and values.
 */
import { assertEquals } from "@std/assert";
import { join } from "@std/path";
import { Buffer } from "node:buffer";
// Test-only native packages are imported by full npm: specifier (not through the import maps)
// so that the library, the CLI and `deno task demo` never download them.
import pl from "npm:nodejs-polars@0.25.2";
import { startReplica } from "../testing/mod.ts";
import { cli } from "./_cli_helpers.ts";

const NOW = "2026-11-27T12:00:00Z";

// nodejs-polars takes a path only when it ends in `.ipc`; anything else is read as inline data.
const readIpc = (path: string) => pl.readIPC(Buffer.from(Deno.readFileSync(path)));

Deno.test("Polars reads fetch's CSV, Arrow and Parquet output and the cache files", async () => {
  await using replica = await startReplica({ now: NOW });
  const dir = await Deno.makeTempDir({ prefix: "vd-polars-test-" });
  try {
    const truth = replica.klines({
      marketType: "um",
      symbol: "BTCUSDT",
      interval: "15m",
      start: "2024-01-01",
      end: "2024-01-03",
    });
    const cacheDir = join(dir, "cache");
    const closeSum = truth.close.reduce((a, b) => a + b, 0);
    for (const ext of ["csv", "arrow", "parquet"]) {
      const out = join(dir, `k.${ext}`);
      const r = await cli(
        "fetch",
        "BTCUSDT",
        "--market",
        "um",
        "--interval",
        "15m",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-03",
        "--now",
        NOW,
        "--vision-url",
        replica.visionUrl,
        "--rest-url",
        replica.restUrl,
        "--cache-dir",
        cacheDir,
        "--out",
        out,
        "--quiet",
      );
      assertEquals(r.code, 0, r.err);
      const df = ext === "csv"
        ? pl.readCSV(out)
        : ext === "arrow"
        ? readIpc(out)
        : pl.readParquet(out);
      assertEquals(df.height, 192, ext);
      assertEquals(df.columns.length, 11, ext);
      const sum = df.getColumn("close").sum() as number;
      assertEquals(Math.abs(sum - closeSum) < 1e-6 * closeSum, true, `${ext}: sum(close)`);
    }
    const day = join(cacheDir, "futures/um/klines/BTCUSDT/15m/BTCUSDT-15m-2024-01-01.arrow");
    const cached = readIpc(day);
    assertEquals(cached.height, 96);
    assertEquals(String(cached.getColumn("open_time").dtype), "DataType(Datetime(ms,UTC))");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
