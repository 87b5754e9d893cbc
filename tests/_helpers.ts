/**
 * Helpers shared by many test files: unhandled-rejection watching, directory listings and
 * column-for-column comparison. Dependency-light on purpose: every test file may load it.
 *
 * @module
 */
import { assertEquals, fail } from "@std/assert";
import { join } from "@std/path";
import { KLINE_COLUMNS, type KlineColumns } from "../src/columns.ts";

/** Lets the runtime report unhandled rejections: Deno fires the event within one timer turn. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Records `unhandledrejection` events (and prevents them from failing the process). */
export function watchUnhandled(): { seen: unknown[] } & Disposable {
  const seen: unknown[] = [];
  const listener = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    seen.push(e.reason);
  };
  globalThis.addEventListener("unhandledrejection", listener);
  return {
    seen,
    [Symbol.dispose]: () => globalThis.removeEventListener("unhandledrejection", listener),
  };
}

/** Every path below `dir`, sorted: the files, and with `dirs` the directories too. */
export function walk(dir: string, options: { dirs?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (!e.isDirectory || options.dirs) out.push(p);
    if (e.isDirectory) out.push(...walk(p, options));
  }
  return out.sort();
}

/**
 * Asserts equal row counts and, column by column, the same values (`Object.is`: bit-for-bit
 * but for NaN payloads). Reports the first differing cell, not a diff of whole columns.
 */
export function assertColumnsEqual(
  actual: KlineColumns,
  expected: KlineColumns,
  label = "columns",
): void {
  assertEquals(actual.openTime.length, expected.openTime.length, `${label}: row count`);
  for (const name of KLINE_COLUMNS) {
    const got = actual[name];
    const want = expected[name];
    assertEquals(got.length, want.length, `${label}: length of ${name}`);
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[i], want[i])) {
        fail(
          `${label}: ${name}[${i}] (open ${expected.openTime[i]}): got ${got[i]}, want ${want[i]}`,
        );
      }
    }
  }
}
