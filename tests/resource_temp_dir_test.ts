import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { existsSync } from "@std/fs";
import { basename, dirname, fromFileUrl, join } from "@std/path";
import { ClientClosedError } from "../src/errors.ts";
import {
  isProcessAlive,
  removeTempDirSync,
  ResourceOwner,
  sweepStaleTempDirs,
  TempDir,
} from "../src/resource/mod.ts";
import { createTempDir, TEMP_DIR_LOCK_FILE } from "../src/resource/temp_dir.ts";
import { TempDirError } from "../src/limit_errors.ts";

/** Above Linux's PID_MAX_LIMIT (2^22): a pid that cannot be alive. */
const DEAD_PID = 4_194_305;

Deno.test("TempDir: created lazily with a recognisable name, removed recursively on dispose", () => {
  const tmp = new TempDir({ sweep: false });
  assertEquals(tmp.created, false);
  const dir = tmp.path;
  assertEquals(tmp.created, true);
  assertEquals(tmp.path, dir);
  assertMatch(basename(dir), new RegExp(`^vision-data-${Deno.pid}-`));
  Deno.mkdirSync(join(dir, "nested"));
  Deno.writeTextFileSync(join(dir, "nested", "part.csv"), "1,2\n");
  tmp[Symbol.dispose]();
  assertEquals(existsSync(dir), false);
  assertThrows(() => tmp.path, ClientClosedError);
  tmp[Symbol.dispose](); // twice is fine
});

Deno.test("TempDir: never created → dispose does nothing; already removed → tolerated", () => {
  new TempDir({ sweep: false })[Symbol.dispose]();
  const tmp = new TempDir({ sweep: false });
  const dir = tmp.path;
  assertEquals(removeTempDirSync(dir), true);
  assertEquals(removeTempDirSync(dir), false);
  tmp[Symbol.dispose]();
  assertEquals(existsSync(dir), false);
});

Deno.test("sweepStaleTempDirs: removes a dead pid's dir, keeps live ones and unrelated dirs", () => {
  const root = Deno.makeTempDirSync({ prefix: "vision-data-sweep-root-" });
  try {
    const dead = join(root, `vision-data-${DEAD_PID}-abc123`);
    const live = join(root, `vision-data-${Deno.pid}-def456`);
    const other = join(root, "someone-else-1");
    for (const d of [dead, live, other]) Deno.mkdirSync(d);
    Deno.writeTextFileSync(join(dead, "leftover.zip"), "x");
    Deno.writeTextFileSync(join(root, `vision-data-${DEAD_PID}-file`), "a file, not a dir");

    assertEquals(isProcessAlive(DEAD_PID), false);
    assertEquals(isProcessAlive(Deno.pid), true);
    // Lockless dirs (older versions) are judged by pid only once past a minute's grace.
    assertEquals(sweepStaleTempDirs({ root }), { removed: [], failed: [] });
    const result = sweepStaleTempDirs({ root, now: Date.now() + 120_000 });
    assertEquals(result, { removed: [dead], failed: [] });
    assertEquals(existsSync(dead), false);
    assert(existsSync(live));
    assert(existsSync(other));
    assert(existsSync(join(root, `vision-data-${DEAD_PID}-file`)));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("ResourceOwner.tempDir: one lazily created dir per owner, removed on dispose", async () => {
  const a = new ResourceOwner({ name: "A" });
  const b = new ResourceOwner({ name: "B" });
  const da = a.tempDir();
  const db = b.tempDir();
  assert(da !== db);
  assertEquals(a.tempDir(), da);
  Deno.writeTextFileSync(join(da, "x.tmp"), "x");
  await a.disposeAsync();
  assertEquals(existsSync(da), false);
  assert(existsSync(db));
  await b.disposeAsync();
  assertEquals(existsSync(db), false);
});

Deno.test("a process that exits without disposing leaves a temp dir the next sweep removes", async () => {
  const ownerModule = new URL("../src/resource/owner.ts", import.meta.url).href;
  const importMap = fromFileUrl(new URL("../offline/import_map.json", import.meta.url));
  const script = `import { ResourceOwner } from ${JSON.stringify(ownerModule)};
const owner = new ResourceOwner({ name: "Crashy" });
console.log(owner.tempDir());
Deno.exit(3); // no dispose: simulates a crash`;
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `--import-map=${importMap}`, script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assertEquals(code, 3);
  const dir = new TextDecoder().decode(stdout).trim();
  assertMatch(basename(dir), /^vision-data-\d+-/);
  assert(existsSync(dir), "the crashed process left its temp dir behind");
  const { removed } = sweepStaleTempDirs({ root: dirname(dir) });
  assert(removed.includes(dir));
  assertEquals(existsSync(dir), false);
});

Deno.test("sweepStaleTempDirs: a held lock keeps a dir (whatever its pid), a free lock removes it", () => {
  const root = Deno.makeTempDirSync({ prefix: "vision-data-sweep-root-" });
  try {
    // A live owner in another PID namespace: its pid means nothing here, its lock is held.
    const live = join(root, `vision-data-${DEAD_PID}-live01`);
    const crashed = join(root, `vision-data-${Deno.pid}-crash1`);
    for (const d of [live, crashed]) {
      Deno.mkdirSync(d);
      Deno.writeTextFileSync(join(d, TEMP_DIR_LOCK_FILE), "");
    }
    using holder = Deno.openSync(join(live, TEMP_DIR_LOCK_FILE), { write: true });
    holder.lockSync(true);
    const result = sweepStaleTempDirs({ root, now: Date.now() + 48 * 3600_000 });
    assertEquals(result, { removed: [crashed], failed: [] });
    assert(existsSync(live));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("TempDir: holds the lock of its dir until dispose, so sweeps leave it alone", () => {
  const tmp = new TempDir({ sweep: false });
  const dir = tmp.path;
  assert(existsSync(join(dir, TEMP_DIR_LOCK_FILE)));
  const r = sweepStaleTempDirs({ root: dirname(dir), now: Date.now() + 48 * 3600_000 });
  assert(!r.removed.includes(dir));
  assert(existsSync(dir));
  tmp[Symbol.dispose]();
  assertEquals(existsSync(dir), false);
});

Deno.test("createTempDir: a missing temp root is a TempDirError naming it", () => {
  const missing = join(Deno.makeTempDirSync(), "gone");
  Deno.removeSync(dirname(missing), { recursive: true });
  const before = Deno.env.get("TMPDIR");
  Deno.env.set("TMPDIR", missing);
  try {
    const err = assertThrows(() => createTempDir(), TempDirError);
    assertEquals(err.dir, missing);
    assertMatch(err.message, /gone is unusable: the directory does not exist/);
  } finally {
    if (before === undefined) Deno.env.delete("TMPDIR");
    else Deno.env.set("TMPDIR", before);
  }
});
