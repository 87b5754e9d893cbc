import { assertEquals } from "@std/assert";
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
    assertEquals(jsr[spec], `jsr:${spec}@^1`, `deno.json must map ${spec} to JSR`);
    assertEquals(typeof offline[spec], "string", `offline map must map ${spec}`);
  }
  assertEquals(used.has("@std/async"), true);
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
