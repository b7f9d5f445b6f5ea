/** Waiting on things that have no event to await: files another process writes, its output. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { GuildState } from "../../src/bot/guild-state.ts";

/** Polls `probe` until it returns something other than undefined/false; fails after `timeoutMs` with `what`. */
export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A server's state file as the bot last wrote it (atomically), or undefined if none yet. */
export async function readGuildStateFile(dataDir: string, guildId: string): Promise<GuildState | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dataDir, "guilds", `${guildId}.json`), "utf8")) as GuildState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
