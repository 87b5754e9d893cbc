/**
 * Symbol globs: `*` any run of characters, `?` one character, everything else literal.
 *
 * @module
 */

/** Whether `pattern` contains a glob metacharacter. */
export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** A case-insensitive, anchored matcher for a symbol glob. */
export function globMatcher(pattern: string): (symbol: string) => boolean {
  const source = pattern.split("").map((ch) =>
    ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\]/g, "\\$&")
  ).join("");
  const re = new RegExp(`^${source}$`, "i");
  return (symbol) => re.test(symbol);
}
