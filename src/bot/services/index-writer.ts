/**
 * Writes analysed images to a server's index in batches: every LanceDB write is a commit and a new
 * fragment, so one write per message would make a backfill spend most of its time committing.
 * Writes wait at most `maxDelayMs` for company. Opt-outs are applied at write time under the
 * server's lock, so `/lookalike forget-me` can never be undone by a write that was already queued.
 * Every `maintainEveryRows` rows a server's index gets its upkeep (ANN index, whitening), so a
 * server that only ever grows by live posts gets them too, not just one that ran `/index`.
 */
import type { Logger } from "pino";
import type { ImageMeta, AnalyzedImage, LookalikeEngine } from "../../retrieval/engine.ts";
import type { GuildStateStore } from "../guild-state.ts";
import { KeyedLock } from "../keyed-lock.ts";

export interface IndexItem {
  readonly image: AnalyzedImage;
  readonly meta: ImageMeta;
}

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

export class IndexWriter {
  private readonly batches = new Map<string, Batch>();
  private readonly lock = new KeyedLock();
  private readonly rowsSinceMaintenance = new Map<string, number>();
  private readonly maintaining = new Set<string>();

  constructor(
    private readonly engine: LookalikeEngine,
    private readonly state: GuildStateStore,
    private readonly logger: Logger,
    private readonly maxRows = 128,
    private readonly maxDelayMs = 50,
    private readonly maintainEveryRows = 2_000,
  ) {}

  /** Resolves with how many of `items` were written (an author who opted out meanwhile is dropped). */
  write(guildId: string, items: readonly IndexItem[]): Promise<number> {
    if (items.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      let batch = this.batches.get(guildId);
      if (!batch) {
        batch = { waiters: [], rows: 0, timer: undefined };
        this.batches.set(guildId, batch);
        batch.timer = setTimeout(() => void this.flush(guildId), this.maxDelayMs);
      }
      batch.waiters.push({ items, resolve, reject });
      batch.rows += items.length;
      if (batch.rows >= this.maxRows) void this.flush(guildId);
    });
  }

  /** Opts the member out and deletes their images, ordered with this server's writes. */
  forgetAuthor(guildId: string, userId: string): Promise<number> {
    return this.lock.run(guildId, async () => {
      await this.state.update(guildId, (guild) => {
        if (!guild.optedOutUserIds.includes(userId)) guild.optedOutUserIds.push(userId);
      });
      return (await this.engine.collection(guildId)).delete({ authorIds: [userId] });
    });
  }

  private async flush(guildId: string): Promise<void> {
    const batch = this.batches.get(guildId);
    if (!batch) return;
    this.batches.delete(guildId);
    clearTimeout(batch.timer);
    await this.lock.run(guildId, async () => {
      const optedOut = new Set((await this.state.get(guildId)).optedOutUserIds);
      const kept = batch.waiters.map((waiter) => waiter.items.filter((item) => !optedOut.has(item.meta.authorId ?? "")));
      try {
        const rows = kept.flat();
        await this.engine.add(guildId, rows);
        batch.waiters.forEach((waiter, i) => waiter.resolve(kept[i]!.length));
        this.countTowardsMaintenance(guildId, rows.length);
      } catch (error) {
        for (const waiter of batch.waiters) waiter.reject(error);
      }
    });
  }

  private countTowardsMaintenance(guildId: string, rows: number): void {
    const since = (this.rowsSinceMaintenance.get(guildId) ?? 0) + rows;
    if (since < this.maintainEveryRows || this.maintaining.has(guildId)) {
      this.rowsSinceMaintenance.set(guildId, since);
      return;
    }
    this.rowsSinceMaintenance.set(guildId, 0);
    this.maintaining.add(guildId);
    // In the background: a whitening fit takes seconds (in a worker), and writes must not wait.
    void this.engine
      .maintain(guildId)
      .then((done) => this.logger.debug({ guildId, ...done }, "index maintenance"))
      .catch((error: unknown) => this.logger.warn({ err: error, guildId }, "index maintenance failed"))
      .finally(() => this.maintaining.delete(guildId));
  }
}
