// Invalid options are rejected the same way everywhere: an InvalidOptionError (a
// VisionDataError) naming the option, its value and what is allowed; nothing is clamped.
import { assertEquals, assertInstanceOf, assertThrows } from "@std/assert";
import { InvalidOptionError } from "../src/option_error.ts";
import { VisionDataError } from "../src/errors.ts";
import { VisionDataClient } from "../src/vision/client.ts";
import { RestDataClient } from "../src/rest/client.ts";
import { DataSourceManager } from "../src/manager/mod.ts";
import { DeadlineCleanupManager } from "../src/resource/mod.ts";
import { KlineCache } from "../src/cache/mod.ts";
import { csvChunks } from "../src/export/mod.ts";
import { allocateColumns } from "../src/columns.ts";

const cases: [string, () => unknown, string, unknown, string][] = [
  [
    "vision concurrency 0",
    () => new VisionDataClient({ marketType: "spot", concurrency: 0 }),
    "concurrency",
    0,
    "an integer >= 1",
  ],
  [
    "vision retry max below min",
    () =>
      new VisionDataClient({ marketType: "spot", retryMinTimeoutMs: 500, retryMaxTimeoutMs: 100 }),
    "retryMaxTimeoutMs",
    100,
    "a finite number >= 500",
  ],
  [
    "rest maxRateLimitWaits -1",
    () => new RestDataClient({ marketType: "spot", maxRateLimitWaits: -1 }),
    "maxRateLimitWaits",
    -1,
    "an integer >= 0",
  ],
  [
    "rest weightSafety 1.5",
    () => new RestDataClient({ marketType: "spot", weightSafety: 1.5 }),
    "weightSafety",
    1.5,
    "a finite number > 0 and <= 1",
  ],
  [
    "manager concurrency 2.5",
    () => new DataSourceManager({ marketType: "spot", concurrency: 2.5, useCache: false }),
    "concurrency",
    2.5,
    "an integer >= 1",
  ],
  [
    "manager negative budget",
    () => new DataSourceManager({ marketType: "spot", disposeTimeoutMs: -5, useCache: false }),
    "disposeTimeoutMs",
    -5,
    "a finite number >= 0",
  ],
  [
    "manager grace above budget",
    () =>
      new DataSourceManager({
        marketType: "spot",
        disposeTimeoutMs: 100,
        graceMs: 200,
        useCache: false,
      }),
    "graceMs",
    200,
    "a finite number >= 0 and <= 100",
  ],
  [
    "cache concurrency 0",
    () => new KlineCache({ dir: "/nonexistent", concurrency: 0 }),
    "concurrency",
    0,
    "an integer >= 1",
  ],
  [
    "CSV chunkRows 0",
    () => csvChunks(allocateColumns(1), { chunkRows: 0 }).next(),
    "chunkRows",
    0,
    "an integer >= 1",
  ],
  [
    "cleanup manager infinite timeout",
    () => new DeadlineCleanupManager({ timeoutMs: Infinity }),
    "timeoutMs",
    Infinity,
    "a finite number >= 0",
  ],
];

for (const [name, make, option, value, allowed] of cases) {
  Deno.test(`invalid option is rejected, not clamped: ${name}`, () => {
    const err = assertThrows(make, InvalidOptionError);
    assertInstanceOf(err, VisionDataError);
    assertEquals([err.option, err.value, err.allowed], [option, value, allowed]);
    assertEquals(err.message, `Invalid option ${option}: ${value}; allowed: ${allowed}`);
  });
}
