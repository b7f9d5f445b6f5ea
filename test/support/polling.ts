/** Waiting on things that have no event to await: state another process writes, its output. */
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type GuildState, parseGuildState } from "../../src/bot/guild-state.ts";
import { connectStateDatabase, GUILD_STATE_TABLE, GuildStateTable } from "../../src/bot/state/guild-state-table.ts";

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

/**
 * A server's state as the bot last committed it to the `guild_state` table (read with a fresh
 * connection, so writes of another process are seen), or undefined if it has none yet. `database`
 * is where the bot keeps it: the data directory's `lancedb/` by default.
 */
export async function readGuildStateFile(
  dataDir: string,
  guildId: string,
  database: string = path.join(dataDir, "lancedb"),
): Promise<GuildState | undefined> {
  const db = await connectStateDatabase(database);
  try {
    // Never creates the table: the bot may be creating it.
    if (!(await db.tableNames()).includes(GUILD_STATE_TABLE)) return undefined;
    const table = await GuildStateTable.open(db);
    try {
      const json = await table.read(guildId);
      return json === undefined ? undefined : parseGuildState(json);
    } finally {
      table.close();
    }
  } finally {
    db.close();
  }
}
