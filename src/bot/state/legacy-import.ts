/**
 * Before the `guild_state` table, each server's state was a JSON file, `<data dir>/guilds/<id>.json`.
 * On first start with the table, those files are imported (validated) for every server that has no
 * row yet, and the folder is renamed to `guilds.migrated`, so it is never imported twice and
 * nothing is deleted. The import is one commit: a process killed before the rename imports nothing
 * twice on its next start (rows already there win) and renames then.
 */
import { readdir, readFile, rename, stat } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import type { GuildStateTable, StateDocument } from "./guild-state-table.ts";

export interface LegacyImport {
  /** Servers whose state went into the table. */
  readonly imported: number;
  /** Servers that already had a row (kept as they are). */
  readonly alreadyStored: number;
  /** Files that are not valid state (left in the renamed folder, logged). */
  readonly invalid: readonly string[];
  /** Where the folder went. */
  readonly movedTo: string;
}

const STATE_FILE = /^(\d{1,20})\.json$/;

/**
 * Imports `directory`'s state files into `table`, `parse` validating each (and filling defaults),
 * then renames the folder. Null when there is no such folder.
 */
export async function importLegacyState(
  table: GuildStateTable,
  directory: string,
  parse: (json: unknown) => unknown,
  logger?: Pick<Logger, "info" | "warn">,
): Promise<LegacyImport | null> {
  let names: string[];
  try {
    names = (await readdir(directory)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const documents: StateDocument[] = [];
  const invalid: string[] = [];
  for (const name of names) {
    const guildId = STATE_FILE.exec(name)?.[1];
    // Leftover `<id>.json.<pid>.tmp` files are half-written copies: the .json beside them is whole.
    if (!guildId) continue;
    try {
      const state = parse(JSON.parse(await readFile(path.join(directory, name), "utf8")));
      documents.push({ guildId, state: JSON.stringify(state) });
    } catch (error) {
      invalid.push(name);
      logger?.warn({ err: error, file: path.join(directory, name) }, "not importing a server state file that is not valid state");
    }
  }
  const imported = await table.insertMissing(documents);
  const movedTo = await renameAside(directory);
  const result = { imported, alreadyStored: documents.length - imported, invalid, movedTo };
  logger?.info(
    { from: directory, to: movedTo, imported, alreadyStored: result.alreadyStored, invalid: invalid.length },
    `migrated ${imported} servers' settings from ${directory} into the database`,
  );
  return result;
}

/** Renames `directory` to `<directory>.migrated` (or `.migrated-2`, … when that is taken). */
async function renameAside(directory: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const target = `${directory}.migrated${attempt === 1 ? "" : `-${attempt}`}`;
    const taken = await stat(target).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return false;
        throw error;
      },
    );
    if (taken) continue;
    await rename(directory, target);
    return target;
  }
}
