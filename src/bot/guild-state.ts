/**
 * Per-server state that is not image data: repost settings, the opt-out list, pairs marked
 * "not a repost", and backfill checkpoints. One JSON file per server, written atomically
 * (temp file + rename), so a process killed mid-write leaves the previous version intact.
 * Writes to one server are serialised; servers never share a file.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { assertSnowflake } from "../retrieval/filters.ts";
import { SENSITIVITIES } from "./sensitivity.ts";

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

export class GuildStateStore {
  private readonly cache = new Map<string, GuildState>();
  private readonly writes = new Map<string, Promise<void>>();

  constructor(private readonly directory: string) {}

  async get(guildId: string): Promise<GuildState> {
    assertSnowflake(guildId, "guild id");
    const cached = this.cache.get(guildId);
    if (cached) return cached;
    const state = await this.read(guildId);
    this.cache.set(guildId, state);
    return state;
  }

  /** Applies `change` to the server's state and persists it; changes to one server run in order. */
  async update(guildId: string, change: (state: GuildState) => void): Promise<GuildState> {
    const previous = this.writes.get(guildId) ?? Promise.resolve();
    let result!: GuildState;
    const next = previous.then(async () => {
      const state = structuredClone(await this.get(guildId));
      change(state);
      const valid = stateSchema.parse(state);
      await this.write(guildId, valid);
      this.cache.set(guildId, valid);
      result = valid;
    });
    this.writes.set(
      guildId,
      next.catch(() => undefined),
    );
    await next;
    return result;
  }

  /** Forgets a server entirely (the bot was removed from it). */
  async remove(guildId: string): Promise<void> {
    assertSnowflake(guildId, "guild id");
    await (this.writes.get(guildId) ?? Promise.resolve());
    this.cache.delete(guildId);
    await rm(this.file(guildId), { force: true });
  }

  private file(guildId: string): string {
    return path.join(this.directory, `${guildId}.json`);
  }

  private async read(guildId: string): Promise<GuildState> {
    const text = await readFile(this.file(guildId), "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "{}";
      throw error;
    });
    return stateSchema.parse(JSON.parse(text));
  }

  private async write(guildId: string, state: GuildState): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const temp = `${this.file(guildId)}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`);
    await rename(temp, this.file(guildId));
  }
}
