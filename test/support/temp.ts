import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

const created: string[] = [];
// Removed when the test process exits, not by a node:test hook: an `after` registered from
// inside a `before` hook runs as soon as that hook ends, deleting the directory mid-suite.
process.once("exit", () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed when the test process exits. */
export async function tempDir(prefix = "lookalike-"): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}
