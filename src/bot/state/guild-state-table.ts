/**
 * The `guild_state` table: one row per Discord server holding its bot state (settings, opt-outs,
 * "not a repost" marks, backfill and live checkpoints, tombstones) as a JSON document, in the same
 * LanceDB database as the images, so any process that can reach the database can take a server
 * over. Every write is one LanceDB commit: a process killed mid-write leaves the previous version.
 * This module only stores and fetches documents; validating them is the caller's job
 * (`guild-state.ts`), and so is batching writes (`state-writer.ts`).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type * as lancedb from "@lancedb/lancedb";
import { arrow } from "../../retrieval/arrow.ts";
import { assertSnowflake } from "../../retrieval/filters.ts";
import { connectDatabase, type DatabaseLocation } from "../../retrieval/store/database.ts";

export const GUILD_STATE_TABLE = "guild_state";

/** `guild_id` (the key), `state` (the JSON document), `updated_at` (when it was written). */
export function guildStateSchema() {
  const { Field, Utf8, TimestampMillisecond } = arrow;
  return new arrow.Schema([
    new Field("guild_id", new Utf8(), false),
    new Field("state", new Utf8(), false),
    new Field("updated_at", new TimestampMillisecond(), false),
  ]);
}

/** A server's document as written. */
export interface StateDocument {
  readonly guildId: string;
  /** JSON text. */
  readonly state: string;
}

/** The database: a folder or an object-store URI (`store/database.ts`), or a function that connects to one. */
export type StateDatabase = string | DatabaseLocation | (() => Promise<lancedb.Connection>);

/**
 * A connection of its own that always reads the latest committed version
 * (`readConsistencyInterval: 0`): state another process wrote is seen on the next uncached read.
 * Reads are rare (the store caches), so the extra manifest check costs little.
 */
export async function connectStateDatabase(database: StateDatabase): Promise<lancedb.Connection> {
  return typeof database === "function" ? database() : connectDatabase(database, { readConsistencyInterval: 0 });
}

/** LanceDB's error for a table whose folder exists but whose first version is not written yet. */
const isBeingCreated = (error: unknown) => error instanceof Error && /was not found|_versions/.test(error.message);

const quoted = (guildId: string) => `'${assertSnowflake(guildId, "guild id")}'`;

export class GuildStateTable {
  private constructor(private readonly table: lancedb.Table) {}

  /**
   * Opens the table, creating it (empty) if needed. Shards start together and all open it: on
   * object storage the table's folder is listed as soon as its creator wrote a first file, before
   * its first version, and opening it then fails for a moment. Such a table is opened again, a
   * few times, before giving up. Two processes that both create it commit two Overwrites (LanceDB
   * rebases the later one over the earlier), so the shard manager creates it before any shard starts.
   */
  static async open(db: lancedb.Connection, attempts = 20): Promise<GuildStateTable> {
    for (let attempt = 1; ; attempt++) {
      try {
        const table = (await db.tableNames()).includes(GUILD_STATE_TABLE)
          ? await db.openTable(GUILD_STATE_TABLE)
          : await db.createEmptyTable(GUILD_STATE_TABLE, guildStateSchema(), { existOk: true });
        return new GuildStateTable(table);
      } catch (error) {
        if (attempt >= attempts || !isBeingCreated(error)) throw error;
        await sleep(50 * attempt);
      }
    }
  }

  /** The server's JSON document, or undefined when it has none. */
  async read(guildId: string): Promise<string | undefined> {
    const rows = (await this.table
      .query()
      .where(`guild_id = ${quoted(guildId)}`)
      .select(["state", "updated_at"])
      .toArray()) as { state: string; updated_at: unknown }[];
    // One row per server is the rule; should two concurrent first writes both have inserted one,
    // the newest wins.
    rows.sort((a, b) => Number(b.updated_at) - Number(a.updated_at));
    return rows[0]?.state;
  }

  /** Every server's id that has a row. */
  async guildIds(): Promise<string[]> {
    const rows = (await this.table.query().select(["guild_id"]).toArray()) as { guild_id: string }[];
    return [...new Set(rows.map((row) => row.guild_id))];
  }

  /** Writes (inserts or replaces) the documents in one commit. */
  async upsert(documents: readonly StateDocument[]): Promise<void> {
    if (documents.length === 0) return;
    await this.table.mergeInsert("guild_id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows(documents));
  }

  /** Inserts the documents of servers that have no row yet, in one commit; rows already there win. Returns how many went in. */
  async insertMissing(documents: readonly StateDocument[]): Promise<number> {
    if (documents.length === 0) return 0;
    const result = await this.table.mergeInsert("guild_id").whenNotMatchedInsertAll().execute(rows(documents));
    return result.numInsertedRows;
  }

  /** Deletes the servers' rows in one commit. */
  async delete(guildIds: readonly string[]): Promise<void> {
    if (guildIds.length === 0) return;
    await this.table.delete(`guild_id IN (${guildIds.map(quoted).join(", ")})`);
  }

  /** Data fragments: every commit leaves one until `compact` merges them. */
  async fragmentCount(): Promise<number> {
    return (await this.table.stats()).fragmentStats.numFragments;
  }

  /** The table's version: one more per commit. */
  version(): Promise<number> {
    return this.table.version();
  }

  /**
   * Merges the fragments the commits left and removes versions older than `keepVersionsMs` with
   * their files. A reader in another process still on a removed version re-reads the latest one
   * (this module's connections always do), so a short window is enough.
   */
  async compact(keepVersionsMs = 60_000): Promise<void> {
    await this.table.optimize({ cleanupOlderThan: new Date(Date.now() - keepVersionsMs) });
  }

  close(): void {
    this.table.close();
  }
}

function rows(documents: readonly StateDocument[]) {
  const now = new Date();
  return documents.map((document) => ({
    guild_id: assertSnowflake(document.guildId, "guild id"),
    state: document.state,
    updated_at: now,
  }));
}
