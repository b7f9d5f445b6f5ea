/**
 * Per-server state that is not image data: repost settings, the opt-out list, pairs marked
 * "not a repost", backfill and live checkpoints, tombstones. Kept in the database beside the
 * images (the `guild_state` table, state/guild-state-table.ts: one row per server, a JSON document
 * validated by the schema below on every read and write), so any process that reaches the database
 * can take a server over. Each write is one atomic commit: a process killed mid-write leaves the
 * previous version. Changes to one server are serialised; writes of many servers share commits
 * (state/state-writer.ts). Servers' state from before the table (`data/guilds/<id>.json`) is
 * imported on first use (state/legacy-import.ts).
 */
import type * as lancedb from "@lancedb/lancedb";
import type { Logger } from "pino";
import { z } from "zod";
import { assertSnowflake } from "../retrieval/filters.ts";
import { KeyedLock } from "./keyed-lock.ts";
import { SENSITIVITIES } from "./sensitivity.ts";
import { GuildWriteGuard } from "./sharding/write-guard.ts";
import { connectStateDatabase, GuildStateTable, type StateDatabase } from "./state/guild-state-table.ts";
import { importLegacyState } from "./state/legacy-import.ts";
import { DEFAULT_STATE_WRITER_OPTIONS, StateWriter, type StateWriterOptions } from "./state/state-writer.ts";

/** What a repost alert does: reply under the repost, react ♻️, or post in the log channel. */
export const REPOST_ACTIONS = ["reply", "react", "log"] as const;
export type RepostAction = (typeof REPOST_ACTIONS)[number];

const settingsSchema = z.object({
  enabled: z.boolean().default(true),
  action: z.enum(REPOST_ACTIONS).default("reply"),
  logChannelId: z.string().nullable().default(null),
  sensitivity: z.enum(SENSITIVITIES).default("balanced"),
  ignoredChannelIds: z.array(z.string()).default([]),
  /** Only earlier posts from this many days back count (0 = all). */
  lookbackDays: z.number().int().min(0).default(0),
  /** A member's own images posted within this many hours are not reposts of each other. */
  sameAuthorWindowHours: z.number().min(0).default(24),
});

const checkpointSchema = z.object({
  /** Oldest message id processed so far; the next page starts before it. */
  before: z.string().nullable().default(null),
  done: z.boolean().default(false),
  scanned: z.number().default(0),
  indexed: z.number().default(0),
  skipped: z.number().default(0),
});

const tombstoneSchema = z.object({ id: z.string(), at: z.number() });

const stateSchema = z.object({
  settings: settingsSchema.default(settingsSchema.parse({})),
  optedOutUserIds: z.array(z.string()).default([]),
  /**
   * Images a moderator or the poster said are not reposts of `originalId`, remembered by content
   * (pHash), so the same picture is not flagged against that original again even in a new message.
   */
  notReposts: z.array(z.object({ originalId: z.string(), phash: z.string().regex(/^[0-9a-f]{16}$/) })).default([]),
  backfill: z
    .object({
      checkpoints: z.record(z.string(), checkpointSchema).default({}),
      lastStartedAt: z.string().nullable().default(null),
      lastFinishedAt: z.string().nullable().default(null),
    })
    .default({ checkpoints: {}, lastStartedAt: null, lastFinishedAt: null }),
  /**
   * Live indexing's progress: per channel (or thread), the newest message id up to which every
   * message's images are stored. `since` is when the bot first watched this server: a channel
   * with no checkpoint of its own is caught up from there, never from the beginning of time
   * (history before it is `/index`'s job).
   */
  live: z
    .object({
      since: z.string().nullable().default(null),
      channels: z.record(z.string(), z.string()).default({}),
    })
    .default({ since: null, channels: {} }),
  /** Deleted messages and channels (tombstones.ts), so a late write cannot bring them back. */
  deleted: z
    .object({ messages: z.array(tombstoneSchema).default([]), channels: z.array(tombstoneSchema).default([]) })
    .default({ messages: [], channels: [] }),
});

export type RepostSettings = z.infer<typeof settingsSchema>;
export type BackfillCheckpoint = z.infer<typeof checkpointSchema>;
export type GuildState = z.infer<typeof stateSchema>;

export interface GuildStateStoreOptions {
  /**
   * The folder of `<id>.json` files servers' state lived in before the database (`data/guilds`):
   * imported on first use for servers that have no row yet, then renamed to `guilds.migrated`.
   */
  readonly legacyDir?: string;
  readonly logger?: Pick<Logger, "info" | "warn" | "debug">;
  readonly writer?: Partial<StateWriterOptions>;
  /** Refuses writes for servers another shard owns; default: this process owns every server. */
  readonly guard?: GuildWriteGuard;
}

interface Opened {
  readonly db: lancedb.Connection;
  readonly table: GuildStateTable;
  readonly writer: StateWriter;
}

/** The state in a stored JSON document (or none), validated, with defaults filled in. */
export function parseGuildState(json: string | undefined): GuildState {
  // A copy: zod hands out its default values themselves (the same `{}` for every server's empty
  // checkpoints), and a change to one must not become every new server's default.
  return structuredClone(stateSchema.parse(JSON.parse(json ?? "{}")));
}

export class GuildStateStore {
  private readonly cache = new Map<string, GuildState>();
  private readonly lock = new KeyedLock();
  private opening: Promise<Opened> | undefined;
  private closed = false;

  /** Connects on first use; `GuildStateStore.open` connects (and migrates) at once. */
  constructor(
    private readonly database: StateDatabase,
    private readonly options: GuildStateStoreOptions = {},
  ) {}

  /** A store whose database is connected, and old state files imported, before it returns. */
  static async open(database: StateDatabase, options: GuildStateStoreOptions = {}): Promise<GuildStateStore> {
    const store = new GuildStateStore(database, options);
    await store.opened();
    return store;
  }

  async get(guildId: string): Promise<GuildState> {
    assertSnowflake(guildId, "guild id");
    const cached = this.cache.get(guildId);
    if (cached) return cached;
    const { table } = await this.opened();
    const state = parseGuildState(await table.read(guildId));
    // An update that finished while this read was under way is newer.
    const current = this.cache.get(guildId) ?? state;
    this.cache.set(guildId, current);
    return current;
  }

  /**
   * Drops the server's cached state, so the next read comes from the table: when the server becomes
   * available to this shard, another process may have written it since (its owner before a restart
   * with another shard count).
   */
  forget(guildId: string): void {
    this.cache.delete(guildId);
  }

  /**
   * Applies `change` to the server's state and persists it; changes to one server run in order.
   * Refused (GuildNotOwnedError) for a server another shard owns.
   */
  async update(guildId: string, change: (state: GuildState) => void): Promise<GuildState> {
    assertSnowflake(guildId, "guild id");
    this.guard.assert(guildId, "write the server's state");
    return this.lock.run(guildId, async () => {
      const state = structuredClone(await this.get(guildId));
      change(state);
      const valid = stateSchema.parse(state);
      await (await this.opened()).writer.put(guildId, JSON.stringify(valid));
      this.cache.set(guildId, valid);
      return valid;
    });
  }

  /** Forgets a server entirely (the bot was removed from it). */
  async remove(guildId: string): Promise<void> {
    assertSnowflake(guildId, "guild id");
    this.guard.assert(guildId, "delete the server's state");
    return this.lock.run(guildId, async () => {
      try {
        await (await this.opened()).writer.delete(guildId);
      } finally {
        this.cache.delete(guildId);
      }
    });
  }

  /** Compacts the table now (it is also compacted every so many commits on its own). */
  async compact(): Promise<void> {
    await (await this.opened()).writer.compact();
  }

  /** Waits for the writes under way, then closes the connection; later calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const opened = await this.opening?.catch(() => undefined);
    if (!opened) return;
    await opened.writer.flush();
    opened.table.close();
    opened.db.close();
  }

  private get guard(): GuildWriteGuard {
    return this.options.guard ?? GuildWriteGuard.unsharded;
  }

  private opened(): Promise<Opened> {
    if (this.closed) return Promise.reject(new Error("the server state store is closed"));
    if (!this.opening) {
      this.opening = this.open();
      // A failed start (the database unreachable) is tried again on the next call.
      this.opening.catch(() => (this.opening = undefined));
    }
    return this.opening;
  }

  private async open(): Promise<Opened> {
    const { legacyDir, logger } = this.options;
    const db = await connectStateDatabase(this.database);
    let table: GuildStateTable | undefined;
    try {
      table = await GuildStateTable.open(db);
      if (legacyDir) await importLegacyState(table, legacyDir, (json) => stateSchema.parse(json), logger);
      // Fragments beyond one were left by commits an earlier process did not compact.
      const uncompacted = Math.max(0, (await table.fragmentCount()) - 1);
      const writer = new StateWriter(table, logger, { ...DEFAULT_STATE_WRITER_OPTIONS, ...this.options.writer }, uncompacted);
      return { db, table, writer };
    } catch (error) {
      table?.close();
      db.close();
      throw error;
    }
  }
}
