/**
 * The one write path to a server's index. Live indexing, catch-up, backfill, deletions (message,
 * bulk, channel, thread, server), `/lookalike forget-me` and "Not a repost" all go through here,
 * under the server's lock, so they happen in one order:
 * - writes are batched (every LanceDB write is a commit and a fragment) and, at write time, drop
 *   the images of members who opted out and of messages or channels deleted meanwhile;
 * - a deletion is remembered (tombstones.ts) the moment its event arrives, before any await, so an
 *   image still being downloaded or embedded for that message can never be written back;
 * - the table is compacted by fragment count and age (compaction-policy.ts) and gets its ANN
 *   index and whitening upkeep as it grows or loses rows;
 * - a write for a server another shard owns is refused (sharding/write-guard.ts), here and in the
 *   state store, whatever led to it.
 * Events and commands never get the raw table.
 */
import type { Logger } from "pino";
import type { AnalyzedImage, ImageMeta, LookalikeEngine } from "../../retrieval/engine.ts";
import { hashToHex } from "../../retrieval/hashes.ts";
import type { StoredImage } from "../../retrieval/store/schema.ts";
import type { GuildStateStore } from "../guild-state.ts";
import { KeyedLock } from "../keyed-lock.ts";
import { GuildWriteGuard } from "../sharding/write-guard.ts";
import { type Deletions, isDeleted, TOMBSTONE_LIMITS, withTombstones } from "../tombstones.ts";
import { type CompactionPolicy, compactionDue, DEFAULT_COMPACTION_POLICY } from "./compaction-policy.ts";

export interface IndexItem {
  readonly image: AnalyzedImage;
  readonly meta: ImageMeta;
}

export interface GuildIndexOptions {
  /** Rows that make a batch write at once… */
  readonly maxRows: number;
  /** …or how long a write waits for company. */
  readonly maxDelayMs: number;
  /** ANN index and whitening upkeep after this many new rows (a fit takes seconds, in a worker). */
  readonly maintainEveryRows: number;
  readonly compaction: CompactionPolicy;
  /** Refuses writes for servers another shard owns (the state store's guard). */
  readonly guard: GuildWriteGuard;
}

export const DEFAULT_GUILD_INDEX_OPTIONS: GuildIndexOptions = {
  maxRows: 128,
  maxDelayMs: 50,
  maintainEveryRows: 2_000,
  compaction: DEFAULT_COMPACTION_POLICY,
  guard: GuildWriteGuard.unsharded,
};

interface Waiter {
  readonly items: readonly IndexItem[];
  resolve(written: number): void;
  reject(error: unknown): void;
}

interface Batch {
  readonly waiters: Waiter[];
  rows: number;
  timer: NodeJS.Timeout | undefined;
}

/** Per server: every remembered deletion, as sets; this process's own are added before any await. */
class DeletionSet implements Deletions {
  readonly messages = new Set<string>();
  readonly channels = new Set<string>();
  /** Settles once the persisted tombstones are merged in (writes wait for it). */
  loaded: Promise<void> = Promise.resolve();

  hasMessage(id: string): boolean {
    return this.messages.has(id);
  }

  hasChannel(id: string): boolean {
    return this.channels.has(id);
  }
}

/** Keeps the in-memory set as bounded as the persisted list: what the list let go, the set forgets. */
function forgetExpired(set: Set<string>, before: readonly { id: string }[], after: readonly { id: string }[]): void {
  const kept = new Set(after.map((stone) => stone.id));
  for (const stone of before) if (!kept.has(stone.id)) set.delete(stone.id);
}

interface Upkeep {
  rowsSinceMaintenance: number;
  maintaining: boolean;
  fragmentsSinceCompaction: number;
  oldestFragmentAt: number | null;
}

export class GuildIndex {
  private readonly batches = new Map<string, Batch>();
  private readonly lock = new KeyedLock();
  private readonly deletions = new Map<string, DeletionSet>();
  private readonly upkeep = new Map<string, Upkeep>();
  private readonly options: GuildIndexOptions;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(
    private readonly engine: LookalikeEngine,
    private readonly state: GuildStateStore,
    private readonly logger: Logger,
    options: Partial<GuildIndexOptions> = {},
  ) {
    this.options = { ...DEFAULT_GUILD_INDEX_OPTIONS, ...options };
    // A server that stops posting still gets its last few fragments merged.
    this.sweepTimer = setInterval(() => this.compactQuietServers(), Math.max(1_000, this.options.compaction.maxDelayMs / 4));
    this.sweepTimer.unref();
  }

  /** Resolves with how many of `items` were written (opted-out authors and deleted messages are dropped). */
  write(guildId: string, items: readonly IndexItem[]): Promise<number> {
    const refused = this.options.guard.refusal(guildId, "store images");
    if (refused) return Promise.reject(refused);
    if (items.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(guildId);
      if (!batch) {
        batch = { waiters: [], rows: 0, timer: undefined };
        this.batches.set(guildId, batch);
        batch.timer = setTimeout(() => void this.flush(guildId), this.options.maxDelayMs);
      }
      batch.waiters.push({ items, resolve, reject });
      batch.rows += items.length;
      if (batch.rows >= this.options.maxRows) void this.flush(guildId);
    });
  }

  /** Whether the message (or its channel, or the thread's parent) was deleted: no alert for it, no rows. */
  wasDeleted(guildId: string, row: { messageId: string; channelId: string; parentId?: string | null }): boolean {
    return isDeleted(this.deletionsOf(guildId), row);
  }

  /** Messages deleted in Discord: remembered at once, then their rows go. Returns rows removed. */
  deleteMessages(guildId: string, messageIds: readonly string[]): Promise<number> {
    const recent = this.deletionsOf(guildId);
    for (const id of messageIds) recent.messages.add(id);
    return this.exclusive(guildId, "delete messages' images", async () => {
      await this.state.update(guildId, (guild) => {
        const kept = withTombstones(guild.deleted.messages, messageIds, Date.now(), TOMBSTONE_LIMITS.messages);
        forgetExpired(recent.messages, guild.deleted.messages, kept);
        guild.deleted.messages = kept;
      });
      let removed = 0;
      // Bulk deletes come in up to 100 ids; a bounded IN list per call.
      for (let i = 0; i < messageIds.length; i += 100) {
        removed += await this.engine.delete(guildId, { messageIds: messageIds.slice(i, i + 100) });
      }
      return removed;
    });
  }

  /** A channel or thread was deleted: its rows, its threads' rows and its checkpoints go. */
  deleteChannel(guildId: string, channelId: string): Promise<number> {
    const recent = this.deletionsOf(guildId);
    recent.channels.add(channelId);
    return this.exclusive(guildId, "delete a channel's images", async () => {
      await this.state.update(guildId, (guild) => {
        const kept = withTombstones(guild.deleted.channels, [channelId], Date.now(), TOMBSTONE_LIMITS.channels);
        forgetExpired(recent.channels, guild.deleted.channels, kept);
        guild.deleted.channels = kept;
        delete guild.backfill.checkpoints[channelId];
        delete guild.live.channels[channelId];
      });
      return (
        (await this.engine.delete(guildId, { channelIds: [channelId] })) + (await this.engine.delete(guildId, { parentIds: [channelId] }))
      );
    });
  }

  /** Opts the member out and deletes their images; the server's whitening forgets them too. */
  async forgetAuthor(guildId: string, userId: string): Promise<number> {
    const removed = await this.exclusive(guildId, "delete a member's images", async () => {
      await this.state.update(guildId, (guild) => {
        if (!guild.optedOutUserIds.includes(userId)) guild.optedOutUserIds.push(userId);
      });
      return this.engine.delete(guildId, { authorIds: [userId] });
    });
    if (removed > 0) this.maintainInBackground(guildId);
    return removed;
  }

  /** Lets the member's new images be indexed again. */
  async rememberAuthor(guildId: string, userId: string): Promise<void> {
    await this.exclusive(guildId, "index a member's images again", () =>
      this.state.update(guildId, (guild) => {
        guild.optedOutUserIds = guild.optedOutUserIds.filter((id) => id !== userId);
      }),
    );
  }

  /**
   * Remembers that the stored image `imageId` is not a repost of `originalId`, by content (its
   * pHash), so the same picture is not flagged against that original again. False if the image is gone.
   */
  async markNotARepost(guildId: string, imageId: string, originalId: string): Promise<boolean> {
    return this.exclusive(guildId, "mark an image not a repost", async () => {
      const image = (await this.read(guildId, [imageId])).get(imageId);
      if (!image) return false;
      const entry = { originalId, phash: hashToHex(image.phash) };
      await this.state.update(guildId, (guild) => {
        if (!guild.notReposts.some((n) => n.originalId === entry.originalId && n.phash === entry.phash)) guild.notReposts.push(entry);
      });
      return true;
    });
  }

  /** The bot left the server: its index, whitening and state go. */
  async dropServer(guildId: string): Promise<void> {
    await this.exclusive(guildId, "drop the server's index", async () => {
      await this.engine.dropCollection(guildId);
      await this.state.remove(guildId);
    });
    this.deletions.delete(guildId);
    this.upkeep.delete(guildId);
  }

  /**
   * Upkeep after a bulk of writes (a backfill): the ANN index and whitening when due, and a
   * compaction under the server's lock when the index upkeep did not already compact.
   */
  async upkeepNow(guildId: string): Promise<void> {
    this.options.guard.assert(guildId, "maintain the server's index");
    const { index } = await this.engine.maintain(guildId);
    if (index === "none") await this.lock.run(guildId, () => this.compact(guildId));
  }

  /** Stored images by id (reads need no lock). */
  async read(guildId: string, ids: readonly string[]): Promise<Map<string, StoredImage>> {
    return (await this.engine.collection(guildId)).get(ids);
  }

  async stats(guildId: string): Promise<{ images: number; channels: number }> {
    const table = await this.engine.collection(guildId);
    const [images, perChannel] = await Promise.all([table.count(), table.countByChannel()]);
    return { images, channels: [...perChannel.keys()].filter(Boolean).length };
  }

  async count(guildId: string): Promise<number> {
    return (await this.engine.collection(guildId)).count();
  }

  /**
   * The server became available to this shard: its state is read from the table again (another
   * process may have written it meanwhile, e.g. its owner before a restart with another shard
   * count), and the deletions recorded there join the ones this process remembers.
   */
  serverAvailable(guildId: string): void {
    this.state.forget(guildId);
    const deletions = this.deletions.get(guildId);
    if (!deletions) return;
    // The set already holds every deletion this process saw: when the table cannot be read now, it
    // stays as it is, and writes are not held up by the failure.
    deletions.loaded = this.loadTombstones(guildId, deletions).catch((error: unknown) =>
      this.logger.warn({ err: error, guildId }, "could not read the server's deletions again"),
    );
  }

  close(): void {
    clearInterval(this.sweepTimer);
  }

  /** Runs a write under the server's lock; refused at once for a server another shard owns. */
  private async exclusive<T>(guildId: string, what: string, write: () => Promise<T>): Promise<T> {
    this.options.guard.assert(guildId, what);
    return this.lock.run(guildId, write);
  }

  private deletionsOf(guildId: string): DeletionSet {
    let deletions = this.deletions.get(guildId);
    if (!deletions) {
      const created = new DeletionSet();
      created.loaded = this.loadTombstones(guildId, created);
      deletions = created;
      this.deletions.set(guildId, deletions);
    }
    return deletions;
  }

  /** Merges the server's persisted tombstones into `deletions`. */
  private async loadTombstones(guildId: string, deletions: DeletionSet): Promise<void> {
    const { deleted } = await this.state.get(guildId);
    for (const stone of deleted.messages) deletions.messages.add(stone.id);
    for (const stone of deleted.channels) deletions.channels.add(stone.id);
  }

  /** The server's upkeep counters; the first time, the fragments an earlier process left count too. */
  private async upkeepOf(guildId: string): Promise<Upkeep> {
    let upkeep = this.upkeep.get(guildId);
    if (!upkeep) {
      const fragments = await (await this.engine.collection(guildId)).fragmentCount();
      upkeep = this.upkeep.get(guildId) ?? {
        rowsSinceMaintenance: 0,
        maintaining: false,
        // One fragment is the compacted table itself.
        fragmentsSinceCompaction: Math.max(0, fragments - 1),
        oldestFragmentAt: fragments > 1 ? Date.now() : null,
      };
      this.upkeep.set(guildId, upkeep);
    }
    return upkeep;
  }

  private async flush(guildId: string): Promise<void> {
    const batch = this.batches.get(guildId);
    if (!batch) return;
    this.batches.delete(guildId);
    clearTimeout(batch.timer);
    await this.lock.run(guildId, async () => {
      try {
        const state = await this.state.get(guildId);
        const optedOut = new Set(state.optedOutUserIds);
        const deletions = this.deletionsOf(guildId);
        await deletions.loaded;
        const keep = (item: IndexItem) =>
          !optedOut.has(item.meta.authorId ?? "") &&
          !isDeleted(deletions, { messageId: item.meta.messageId, channelId: item.meta.channelId, parentId: item.meta.parentId });
        const kept = batch.waiters.map((waiter) => waiter.items.filter(keep));
        const rows = kept.flat();
        if (rows.length > 0) await this.engine.add(guildId, rows);
        batch.waiters.forEach((waiter, i) => waiter.resolve(kept[i]!.length));
        if (rows.length > 0) await this.afterWrite(guildId, rows.length);
      } catch (error) {
        // Waiters already resolved ignore this; the others learn that their images were not stored.
        for (const waiter of batch.waiters) waiter.reject(error);
      }
    });
  }

  /** Runs under the server's lock, right after a write: compaction when due, upkeep every so many rows. */
  private async afterWrite(guildId: string, rows: number): Promise<void> {
    const upkeep = await this.upkeepOf(guildId);
    upkeep.fragmentsSinceCompaction++;
    upkeep.oldestFragmentAt ??= Date.now();
    if (compactionDue(upkeep, Date.now(), this.options.compaction)) await this.compact(guildId);
    upkeep.rowsSinceMaintenance += rows;
    if (upkeep.rowsSinceMaintenance >= this.options.maintainEveryRows) this.maintainInBackground(guildId);
  }

  /** Merges the server's fragments; under its lock, so no write or delete races the rewrite. */
  private async compact(guildId: string): Promise<void> {
    const upkeep = await this.upkeepOf(guildId);
    try {
      await this.engine.compact(guildId);
      upkeep.fragmentsSinceCompaction = 0;
      upkeep.oldestFragmentAt = null;
    } catch (error) {
      this.logger.warn({ err: error, guildId }, "compaction failed; it is tried again after the next writes");
    }
  }

  private compactQuietServers(): void {
    for (const [guildId, upkeep] of this.upkeep) {
      if (compactionDue(upkeep, Date.now(), this.options.compaction)) void this.lock.run(guildId, () => this.compact(guildId));
    }
  }

  private maintainInBackground(guildId: string): void {
    void this.upkeepOf(guildId).then(
      (upkeep) => {
        if (!upkeep.maintaining) this.maintain(guildId, upkeep);
      },
      () => undefined,
    );
  }

  private maintain(guildId: string, upkeep: Upkeep): void {
    upkeep.rowsSinceMaintenance = 0;
    upkeep.maintaining = true;
    // In the background: a whitening fit takes seconds (in a worker), and writes must not wait.
    void this.engine
      .maintain(guildId)
      .then((done) => this.logger.debug({ guildId, ...done }, "index maintenance"))
      .catch((error: unknown) => this.logger.warn({ err: error, guildId }, "index maintenance failed"))
      .finally(() => (upkeep.maintaining = false));
  }
}
