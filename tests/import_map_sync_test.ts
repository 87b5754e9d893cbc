import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { fromFileUrl, join } from "@std/path";

const root = fromFileUrl(new URL("..", import.meta.url));
const readJson = (p: string) => JSON.parse(Deno.readTextFileSync(join(root, p)));

function* sourceFiles(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(join(root, dir))) {
    const rel = join(dir, e.name);
    if (e.isDirectory && e.name !== "fixtures" && !e.name.startsWith(".")) yield* sourceFiles(rel);
    else if (e.isFile && /\.(ts|tsx|js|mjs)$/.test(e.name)) yield rel;
  }
}

Deno.test("every @std specifier used in the repo is mapped in deno.json and the offline map", () => {
  const used = new Set<string>();
  for (const dir of ["src", "testing", "tests", "bench", "examples", "."]) {
    for (const file of dir === "." ? ["mod.ts"] : sourceFiles(dir)) {
      const text = Deno.readTextFileSync(join(root, file));
      for (const m of text.matchAll(/from\s+["'](@std\/[a-z-]+)[^"']*["']/g)) used.add(m[1]);
    }
  }
  const jsr = readJson("deno.json").imports as Record<string, string>;
  const offline = readJson("offline/import_map.json").imports as Record<string, string>;
  for (const spec of used) {
    // `^1`, or a 1.x floor where the code needs a later 1.x feature (e.g. retry's signal).
    assertMatch(jsr[spec], new RegExp(`^jsr:${spec}@\\^1(\\.\\d+\\.\\d+)?$`), `deno.json: ${spec}`);
    assertEquals(typeof offline[spec], "string", `offline map must map ${spec}`);
  }
  assertEquals(used.has("@std/async"), true);
  // retry()'s `isRetriable` (stable in 1.1.0) and `signal` (stabilized after it) are used.
  assertEquals(jsr["@std/async"], "jsr:@std/async@^1.2.0");
});

Deno.test("the offline map repeats every non-std entry of deno.json exactly", () => {
  const jsr = readJson("deno.json").imports as Record<string, string>;
  const offline = readJson("offline/import_map.json").imports as Record<string, string>;
  const strip = (m: Record<string, string>) =>
    Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith("@std/")).sort());
  assertEquals(strip(offline), strip(jsr));
  const stdKeys = (m: Record<string, string>) =>
    Object.keys(m).filter((k) => k.startsWith("@std/")).sort();
  assertEquals(stdKeys(offline), stdKeys(jsr));
});

Deno.test("source files import std only through bare specifiers", () => {
  for (const dir of ["src", "testing"]) {
    for (const file of sourceFiles(dir)) {
      const text = Deno.readTextFileSync(join(root, file));
      assertEquals(/["']jsr:@std\//.test(text), false, `${file} imports jsr:@std directly`);
      assertEquals(/offline\/std\//.test(text), false, `${file} imports an offline adapter`);
    }
  }
});

Deno.test("native test-only packages stay out of what the library and `task demo` load", () => {
  // Deno caches every npm package of the lockfile it uses: these ~360 MB of native binaries
  // must be in neither import map nor deno.lock (the test and check tasks use tests/test.lock).
  const natives = /nodejs-polars|@duckdb\//;
  const maps = ["deno.json", "offline/import_map.json"].map((p) => readJson(p).imports);
  for (const map of maps) {
    for (const [k, v] of Object.entries(map as Record<string, string>)) {
      assertEquals(natives.test(k) || natives.test(v), false, `${k} is in an import map`);
    }
  }
  const lock = Deno.readTextFileSync(join(root, "deno.lock"));
  assertEquals(natives.test(lock), false, "deno.lock lists a native test-only package");
  const tasks = readJson("deno.json").tasks as Record<string, string>;
  for (const name of ["test", "test:jsr", "check"]) {
    assertStringIncludes(tasks[name], "--lock=tests/test.lock");
  }
  assertEquals(tasks.demo.includes("--lock"), false);
});
