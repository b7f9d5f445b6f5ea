import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ALLOCATOR_SCRIPT_PREFIX, ALLOCATOR_TUNABLES } from "../src/bot/allocator.ts";

const scripts = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { scripts: Record<string, string> })
  .scripts;

/** What GLIBC_TUNABLES a process started behind the prefix sees, run by sh as npm runs scripts. */
function tunablesSeen(own?: string): string {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.GLIBC_TUNABLES;
  if (own !== undefined) env.GLIBC_TUNABLES = own;
  const script = `${ALLOCATOR_SCRIPT_PREFIX} "${process.execPath}" -e 'process.stdout.write(process.env.GLIBC_TUNABLES ?? "")'`;
  const run = spawnSync("sh", ["-c", script], { env, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

test("the bot starts with the allocator tuning; the embedding worker without it (it costs CPU per image)", () => {
  assert.ok(scripts.start?.startsWith(`${ALLOCATOR_SCRIPT_PREFIX} node `), scripts.start);
  assert.ok(!scripts.worker?.includes("GLIBC_TUNABLES"), scripts.worker);
});

test("the scripts' prefix sets the tuning, and keeps an operator's own GLIBC_TUNABLES", () => {
  assert.equal(tunablesSeen(), ALLOCATOR_TUNABLES);
  assert.equal(tunablesSeen("glibc.malloc.arena_max=4"), "glibc.malloc.arena_max=4");
});
