// The public surface: a root of what applications need, subpath entries that only
// re-export, `deno doc --lint` clean on every entry.
import { assert, assertEquals } from "@std/assert";
import { fromFileUrl, join } from "@std/path";

const ROOT = fromFileUrl(new URL("..", import.meta.url));
const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
const exportsMap = config.exports as Record<string, string>;
/** Entry points that are programs, not modules of re-exports. */
const PROGRAMS = new Set(["./cli"]);

async function denoOut(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("deno.json exports the root and the documented subpaths", () => {
  assertEquals(Object.keys(exportsMap).sort(), [
    ".",
    "./agg-trades",
    "./cache",
    "./cli",
    "./dataset",
    "./export",
    "./funding",
    "./live",
    "./market",
    "./resource",
    "./rest",
    "./testing",
    "./vision",
  ]);
});

Deno.test("every module entry only re-exports (mod.ts rule)", () => {
  for (const [name, path] of Object.entries(exportsMap)) {
    if (PROGRAMS.has(name)) continue;
    assert(path.endsWith("/mod.ts"), `${name} → ${path} is not a mod.ts`);
    const code = Deno.readTextFileSync(join(ROOT, path))
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/[^\n]*/g, "");
    const statements = code.split(";").map((s) => s.trim()).filter(Boolean);
    for (const s of statements) {
      assert(/^export\s[\s\S]*\sfrom\s+"[^"]+"$/.test(s), `${path}: not a re-export: ${s}`);
    }
  }
});

Deno.test("the root export is what applications need (~60 before live streams, funding, aggTrades and limits; ≤ 90 now, a third of them errors), helpers live in subpaths", async () => {
  const { code, stdout, stderr } = await denoOut([
    "doc",
    "--json",
    "--import-map=offline/import_map.json",
    "mod.ts",
  ]);
  assertEquals(code, 0, stderr);
  const nodes = JSON.parse(stdout).nodes as Record<string, { symbols: { name: string }[] }>;
  const names = new Set(Object.values(nodes).flatMap((n) => n.symbols.map((s) => s.name)));
  assert(names.size >= 50 && names.size <= 90, `root exports ${names.size} names`);
  for (
    const n of [
      "DataSourceManager",
      "VisionDataClient",
      "RestDataClient",
      "Klines",
      "Interval",
      "MarketType",
      "DataSource",
      "ResourceOwner",
      "DeadlineCleanupManager",
      "DisposeError",
      "InvalidOptionError",
      "fetchMarketData",
      "LifecycleOptions",
      "ProgressEvent",
      "ClientStats",
    ]
  ) assert(names.has(n), `root lacks ${n}`);
  for (const n of ["KlineCache", "intervalMs", "writeCsv", "parseKlineCsv", "createTempDir"]) {
    assert(!names.has(n), `${n} belongs in a subpath, not the root`);
  }
});

Deno.test("deno doc --lint is clean on every entry point", async () => {
  const entries = Object.values(exportsMap);
  const { code, stdout, stderr } = await denoOut([
    "doc",
    "--lint",
    "--import-map=offline/import_map.json",
    ...entries,
  ]);
  assertEquals(code, 0, stdout + stderr);
});

/** Relative import specifiers of a source file (static and dynamic). */
function relativeImports(path: string): string[] {
  const text = Deno.readTextFileSync(join(ROOT, path));
  return [...text.matchAll(/(?:from|import\()\s*["'](\.[^"']+)["']/g)].map((m) => m[1]);
}

function* tsFiles(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory) yield* tsFiles(rel);
    else if (e.name.endsWith(".ts")) yield rel;
  }
}

Deno.test("layout: src/cli does not import examples/; testing/ imports only public or testing-owned modules", () => {
  for (const file of tsFiles("src/cli")) {
    for (const spec of relativeImports(file)) {
      assert(!spec.includes("examples/"), `${file} imports ${spec}`);
    }
  }
  for (const file of tsFiles("testing")) {
    for (const spec of relativeImports(file)) {
      if (spec.startsWith("./")) continue; // testing-owned
      // A library module: public ones only (private modules are `_`-prefixed).
      assert(!/\/_[^/]+$/.test(spec), `${file} imports the private module ${spec}`);
    }
  }
  for (const file of tsFiles("src")) {
    for (const spec of relativeImports(file)) {
      assert(!spec.includes("testing/_"), `${file} imports testing internals: ${spec}`);
    }
  }
});
