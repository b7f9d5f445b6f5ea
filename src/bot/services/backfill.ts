/**
 * Backfill: indexes the images already in a server's history (`/index`), one job per server at
 * a time. Jobs save a checkpoint per channel after every page; a job interrupted by a restart
 * (shutdown or crash) is resumed by `resumeAll`, and a cancelled one continues with the next
 * `/index`. The work itself is in ./backfill/ (job, channel discovery, history paging, progress).
 */
import { type Client, channelMention, type Guild } from "discord.js";
import type { Logger } from "pino";
import { UserFacingError } from "../errors.ts";
import type { BackfillCheckpoint, GuildState, GuildStateStore } from "../guild-state.ts";
import { BackfillJob, type BackfillOptions, DEFAULT_BACKFILL_OPTIONS, type JobSpec } from "./backfill/job.ts";
import { type BackfillReport, logProgressSink, type ProgressSink } from "./backfill/progress.ts";
import type { GuildIndex } from "./guild-index.ts";
import type { MessageIndexer } from "./message-indexer.ts";

export { BackfillJob, type BackfillOptions } from "./backfill/job.ts";
export type { BackfillReport, ProgressSink } from "./backfill/progress.ts";

export interface BackfillServiceDeps {
  readonly client: Client;
  readonly indexer: MessageIndexer;
  readonly state: GuildStateStore;
  readonly logger: Logger;
  readonly index: GuildIndex;
  /** Tuning (tests shorten the waits); DEFAULT_BACKFILL_OPTIONS otherwise. */
  readonly options?: Partial<BackfillOptions>;
}

export type BackfillStatus =
  | { readonly running: true; readonly report: BackfillReport }
  | {
      readonly running: false;
      readonly lastStartedAt: Date | null;
      readonly lastFinishedAt: Date | null;
      /** Saved checkpoints, one per channel or thread of the last backfill(s). */
      readonly channels: readonly { readonly channelId: string; readonly checkpoint: BackfillCheckpoint }[];
      readonly imagesInIndex: number;
    };

/** A job started but never finished (no finish time after its start): the bot stopped under it. */
function interruptedChannels(state: GuildState): string[] {
  const { lastStartedAt, lastFinishedAt, checkpoints } = state.backfill;
  if (!lastStartedAt || (lastFinishedAt && Date.parse(lastFinishedAt) >= Date.parse(lastStartedAt))) return [];
  return Object.entries(checkpoints)
    .filter(([, checkpoint]) => !checkpoint.done)
    .map(([channelId]) => channelId);
}

export class BackfillService {
  private readonly jobs = new Map<string, BackfillJob>();
  private readonly options: BackfillOptions;
  private stopping = false;
  private resuming: Promise<void> = Promise.resolve();

  constructor(private readonly deps: BackfillServiceDeps) {
    this.options = { ...DEFAULT_BACKFILL_OPTIONS, ...deps.options };
  }

  /**
   * Starts indexing `channelIds` (each with its public threads), or the whole server for null.
   * Refuses while another backfill runs in the server. Returns at once; `job.done` settles at the end.
   */
  start(guild: Guild, channelIds: string[] | null, progress: ProgressSink): BackfillJob {
    return this.launch({
      guild,
      request: channelIds === null ? { kind: "server" } : { kind: "channels", ids: channelIds },
      scope: channelIds === null ? "the whole server" : channelIds.map(channelMention).join(", "),
      sink: progress,
      resume: false,
    });
  }

  isRunning(guildId: string): boolean {
    return this.jobs.has(guildId);
  }

  /** Refuses, in the words `/index` answers with, while a backfill runs in the server. */
  assertIdle(guildId: string): void {
    if (this.jobs.has(guildId)) {
      throw new UserFacingError("A backfill is already running in this server: see `/index status`, or stop it with `/index cancel`.");
    }
  }

  /** The running job's progress, or what the last backfill left behind. */
  async status(guildId: string): Promise<BackfillStatus> {
    const job = this.jobs.get(guildId);
    if (job) return { running: true, report: job.report() };
    const { backfill } = await this.deps.state.get(guildId);
    const date = (iso: string | null) => (iso ? new Date(iso) : null);
    return {
      running: false,
      lastStartedAt: date(backfill.lastStartedAt),
      lastFinishedAt: date(backfill.lastFinishedAt),
      channels: Object.entries(backfill.checkpoints).map(([channelId, checkpoint]) => ({ channelId, checkpoint })),
      imagesInIndex: await this.deps.index.count(guildId),
    };
  }

  /** Stops the server's backfill, keeping its checkpoints; false if none was running. */
  cancel(guildId: string): boolean {
    const job = this.jobs.get(guildId);
    job?.abort("cancelled");
    return job !== undefined;
  }

  /** After a (re)start: continues, in the background, every backfill the last process did not finish. */
  resumeAll(): void {
    this.resuming = this.resumeInterrupted().catch((error: unknown) =>
      this.deps.logger.error({ err: error }, "could not resume interrupted backfills"),
    );
  }

  /** Aborts every job and waits until each has saved its checkpoints (they resume on the next start). */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await this.resuming;
    const jobs = [...this.jobs.values()];
    for (const job of jobs) job.abort("stopped");
    await Promise.all(jobs.map((job) => job.done));
  }

  private async resumeInterrupted(): Promise<void> {
    for (const guild of this.deps.client.guilds.cache.values()) {
      if (this.stopping) return;
      const channelIds = interruptedChannels(await this.deps.state.get(guild.id));
      if (channelIds.length === 0 || this.jobs.has(guild.id)) continue;
      this.deps.logger.info({ guildId: guild.id, channels: channelIds.length }, "resuming an interrupted backfill");
      this.launch({
        guild,
        request: { kind: "exact", ids: channelIds },
        scope: "the interrupted backfill",
        sink: logProgressSink(this.deps.logger.child({ guildId: guild.id })),
        resume: true,
      });
    }
  }

  private launch(spec: JobSpec): BackfillJob {
    const guildId = spec.guild.id;
    if (this.stopping) throw new UserFacingError("I'm restarting; please run `/index` again in a minute.");
    this.assertIdle(guildId);
    const job = new BackfillJob({ ...this.deps, options: this.options }, spec);
    this.jobs.set(guildId, job);
    // Registered before anyone else can await `done`, so the slot is free when they resume.
    void job.done.finally(() => {
      if (this.jobs.get(guildId) === job) this.jobs.delete(guildId);
    });
    return job;
  }
}
