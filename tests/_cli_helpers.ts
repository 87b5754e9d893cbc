/**
 * Runs the CLI in-process with captured output.
 *
 * @module
 */
import { main } from "../src/cli/main.ts";

/** Runs `vision-data …args` (not a terminal); returns the exit code and what it printed. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, {
    io: { stdout: (s) => out += s, stderr: (s) => err += s, isTerminal: false },
  });
  return { code, out, err };
}
