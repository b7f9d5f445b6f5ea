/**
 * Writes to the `guild_state` table, one commit at a time, with group commit: writes that arrive
 * while a commit is in flight go out together in the next one (one `mergeInsert` for any number
 * of servers), so a burst of updates across many servers (live checkpoints, tombstones, backfill
 * pages) costs a handful of commits, and this process never races itself on the table. Every
 * `compactEveryCommits` commits the table is compacted between two commits, so the fragments and
 * versions each commit leaves do not pile up.
 */
import type { Logger } from "pino";
import type { GuildStateTable } from "./guild-state-table.ts";

export interface StateWriterOptions {
  /** Compact the table after this many commits (each leaves a fragment, a version and ~4 files). */
  readonly compactEveryCommits: number;
  /** Versions younger than this survive a compaction (readers elsewhere may still be on them). */
  readonly keepVersionsMs: number;
}

export const DEFAULT_STATE_WRITER_OPTIONS: StateWriterOptions = { compactEveryCommits: 64, keepVersionsMs: 60_000 };

interface Pending {
  /** The document to write, or null to delete the server's row. */
  state: string | null;
  readonly waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

export class StateWriter {
  private pending = new Map<string, Pending>();
  private draining: Promise<void> | undefined;
  private commitsSinceCompaction: number;

  constructor(
    private readonly table: GuildStateTable,
    private readonly logger: Pick<Logger, "debug" | "warn"> | undefined,
    private readonly options: StateWriterOptions = DEFAULT_STATE_WRITER_OPTIONS,
    /** Commits an earlier process left uncompacted (e.g. the table's fragments beyond one). */
    uncompacted = 0,
  ) {
    this.commitsSinceCompaction = uncompacted;
  }

  /** Resolves once the server's document is committed. */
  put(guildId: string, state: string): Promise<void> {
    return this.enqueue(guildId, state);
  }

  /** Resolves once the server's row is deleted. */
  delete(guildId: string): Promise<void> {
    return this.enqueue(guildId, null);
  }

  /** Resolves once everything queued so far is committed (or has failed). */
  async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  /** Compacts now (after the commits queued so far). */
  async compact(): Promise<void> {
    await this.flush();
    await this.compactNow();
  }

  private enqueue(guildId: string, state: string | null): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = this.pending.get(guildId);
      // A later write for the same server replaces the queued one; both callers learn the outcome.
      if (entry) {
        entry.state = state;
        entry.waiters.push({ resolve, reject });
      } else this.pending.set(guildId, { state, waiters: [{ resolve, reject }] });
      this.draining ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Let the writes queued in this same tick join the first commit.
    await Promise.resolve();
    while (this.pending.size > 0) {
      const batch = this.pending;
      this.pending = new Map();
      await this.commit(batch);
      if (this.commitsSinceCompaction >= this.options.compactEveryCommits) await this.compactNow();
    }
    // No await between the empty check and this: a write queued from now on starts a new drain.
    this.draining = undefined;
  }

  private async commit(batch: Map<string, Pending>): Promise<void> {
    const deletes = [...batch].filter(([, entry]) => entry.state === null);
    const upserts = [...batch].filter(([, entry]) => entry.state !== null);
    await this.settle(deletes, () => this.table.delete(deletes.map(([guildId]) => guildId)));
    await this.settle(upserts, () => this.table.upsert(upserts.map(([guildId, entry]) => ({ guildId, state: entry.state! }))));
  }

  private async settle(entries: [string, Pending][], write: () => Promise<void>): Promise<void> {
    if (entries.length === 0) return;
    try {
      await write();
      this.commitsSinceCompaction++;
      for (const [, entry] of entries) for (const waiter of entry.waiters) waiter.resolve();
    } catch (error) {
      for (const [, entry] of entries) for (const waiter of entry.waiters) waiter.reject(error);
    }
  }

  private async compactNow(): Promise<void> {
    const started = performance.now();
    try {
      await this.table.compact(this.options.keepVersionsMs);
      this.logger?.debug(
        { commits: this.commitsSinceCompaction, ms: Math.round(performance.now() - started) },
        "compacted the server state table",
      );
    } catch (error) {
      // Not fatal: the table only stays fragmented a little longer.
      this.logger?.warn(
        { err: error },
        `could not compact the server state table; trying again after ${this.options.compactEveryCommits} commits`,
      );
    } finally {
      this.commitsSinceCompaction = 0;
    }
  }
}
