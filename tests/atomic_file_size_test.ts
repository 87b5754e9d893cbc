/** `writeFileAtomic` reports the size of the file it wrote (the writer's final position). */
import { assertEquals } from "@std/assert";
import { join } from "@std/path";
import { writeAll, writeFileAtomic } from "../src/_atomic_file.ts";

Deno.test("writeFileAtomic returns the written file's size, written in chunks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "sub", "x.bin");
    const bytes = new Uint8Array(300_001).map((_, i) => i % 251);
    const size = await writeFileAtomic(
      path,
      async (file) => {
        await writeAll(file, bytes.subarray(0, 1), { chunkSize: 1 });
        await writeAll(file, bytes.subarray(1), { chunkSize: 65_536 });
      },
      { createDir: true },
    );
    assertEquals(size, 300_001);
    assertEquals((await Deno.stat(path)).size, size);
    assertEquals(await Deno.readFile(path), bytes);
    assertEquals(await writeFileAtomic(join(dir, "empty"), async () => {}), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
