/**
 * One backfill of one server: find the channels, then read their history newest-first, a few
 * channels at a time, indexing each page's images (alerts off) before moving the channel's
 * checkpoint past it. The checkpoint is saved after every page, so whatever stops the job (cancel,
 * shutdown, SIGKILL, an outage) loses at most the page in flight; the next run redoes that page and
 * the indexer skips the images it already has.
 */
import { setMaxListeners } from "node:events";
import { type Client, type Guild, type Message, SnowflakeUtil } from "discord.js";
import pLimit from "p-limit";
import type { Logger } from "pino";
import { errorCode, logFailure } from "../../errors.ts";
import type { BackfillCheckpoint, GuildStateStore } from "../../guild-state.ts";
import { imagesInMessage } from "../../message-images.ts";
import type { GuildIndex } from "../guild-index.ts";
import { MessageIndexer } from "../message-indexer.ts";
import { ChannelStopped, fetchHistoryPage, type HistoryChannel, PAGE_SIZE, type RetryPolicy } from "./history.ts";
import { type BackfillPhase, type BackfillReport, type ProgressSink, type Reporter, startReporter } from "./progress.ts";
import { discoverTargets, type TargetRequest } from "./targets.ts";

export interface BackfillOptions {
  /** Channels read at the same time; Discord rate-limits per channel, so a few in parallel go faster without hammering. */
  readonly concurrency: number;
  /** Default time between progress updates (a sink may ask for another). */
  readonly progressIntervalMs: number;
  /** Backoff after a Discord outage on a page, before that channel is given up for this run. */
  readonly retryDelaysMs: readonly number[];
  /** Compact the index after this many new images (each message's images are one LanceDB write). */
  readonly maintainEveryImages: number;
  /**
   * Messages of one page indexed at the same time, per channel. The work queue bounds the model
   * work anyway; this bounds the concurrent LanceDB lookups and writes (one per message).
   */
  readonly messagesInFlight: number;
}

export const DEFAULT_BACKFILL_OPTIONS: BackfillOptions = {
  concurrency: 3,
  progressIntervalMs: 3_000,
  retryDelaysMs: [2_000, 10_000, 30_000],
  maintainEveryImages: 2_000,
  messagesInFlight: 8,
};

export interface JobDeps {
  readonly client: Client;
  readonly indexer: MessageIndexer;
  readonly state: GuildStateStore;
  readonly logger: Logger;
  readonly index: GuildIndex;
  readonly options: BackfillOptions;
}

export interface JobSpec {
  readonly guild: Guild;
  readonly request: TargetRequest;
  /** For the progress text: "the whole server", "<#id>". */
  readonly scope: string;
  readonly sink: ProgressSink;
  /** A resume after a restart: continue the saved checkpoints as they are. */
  readonly resume: boolean;
}

/** Why a job was aborted from outside; becomes its final phase. */
class JobAborted extends Error {
  override readonly name = "JobAborted";
  constructor(readonly phase: "cancelled" | "stopped") {
    super(`backfill ${phase}`);
  }
}

interface Target {
  readonly channel: HistoryChannel;
  checkpoint: BackfillCheckpoint;
  running: boolean;
  /** Estimated span of the channel's history (ms since epoch): its creation to its last message. */
  readonly oldest: number;
  readonly newest: number;
}

interface PageCounts {
  scanned: number;
  imagesNew: number;
  imagesAlreadyIndexed: number;
  skipped: Record<string, number>;
}

const FRESH_CHECKPOINT: BackfillCheckpoint = { before: null, done: false, scanned: 0, indexed: 0, skipped: 0 };

const timestampOf = (id: string) => Number(SnowflakeUtil.timestampFrom(id));

const add = (into: Record<string, number>, key: string, count: number) => (into[key] = (into[key] ?? 0) + count);

export class BackfillJob {
  readonly guildId: string;
  /** Settles (never rejects) with the final report once the job has stopped and saved its state. */
  readonly done: Promise<BackfillReport>;

  private readonly controller = new AbortController();
  private readonly policy: RetryPolicy;
  private readonly logger: Logger;
  private phase: BackfillPhase = "discovering";
  private continued: boolean;
  private targets: Target[] = [];
  private readonly channelSkips: Record<string, number> = {};
  private readonly run = { messagesScanned: 0, imagesNew: 0, imagesAlreadyIndexed: 0, skippedByReason: {} as Record<string, number> };
  private readonly startedAt = Date.now();
  /** Where the estimate stood when scanning began, for the ETA of this run. */
  private scanStart = { at: Date.now(), fraction: 0 };
  private imagesSinceMaintenance = 0;
  private maintenance: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: JobDeps,
    private readonly spec: JobSpec,
  ) {
    this.guildId = spec.guild.id;
    this.continued = spec.resume;
    this.logger = deps.logger.child({ guildId: this.guildId, backfill: spec.scope });
    // Every page, download and decode in flight listens on this one signal: dozens at once is normal.
    setMaxListeners(1_000, this.controller.signal);
    this.policy = { delaysMs: deps.options.retryDelaysMs, logger: this.logger, signal: this.controller.signal };
    this.done = this.execute();
  }

  /** Stops the job; checkpoints stay, so a later run continues. Returns at once; await `done`. */
  abort(phase: "cancelled" | "stopped"): void {
    if (!this.controller.signal.aborted) this.controller.abort(new JobAborted(phase));
  }

  report(): BackfillReport {
    const sum = (pick: (checkpoint: BackfillCheckpoint) => number) => this.targets.reduce((total, t) => total + pick(t.checkpoint), 0);
    const fraction = this.fraction();
    const scanningMs = Date.now() - this.scanStart.at;
    const gained = fraction - this.scanStart.fraction;
    const etaMs = this.phase === "running" && gained > 0.001 && scanningMs > 1_000 ? ((1 - fraction) * scanningMs) / gained : null;
    const elapsedMs = Date.now() - this.startedAt;
    return {
      guildId: this.guildId,
      scope: this.spec.scope,
      phase: this.phase,
      continued: this.continued,
      elapsedMs,
      fraction,
      etaMs,
      channels: {
        total: this.targets.length,
        done: this.targets.filter((t) => t.checkpoint.done).length,
        running: this.targets.filter((t) => t.running).length,
        skipped: { ...this.channelSkips },
      },
      messagesScanned: sum((c) => c.scanned),
      imagesIndexed: sum((c) => c.indexed),
      imagesSkipped: sum((c) => c.skipped),
      run: {
        ...this.run,
        skippedByReason: { ...this.run.skippedByReason },
        messagesPerSecond: this.run.messagesScanned / Math.max(1, elapsedMs / 1000),
      },
    };
  }

  /**
   * Share of the history read, weighting each channel by the time its history spans and reading
   * progress off the checkpoint's timestamp (snowflakes carry one): no message counts needed,
   * which Discord does not give for channels.
   */
  private fraction(): number {
    let total = 0;
    let read = 0;
    for (const target of this.targets) {
      const span = Math.max(1_000, target.newest - target.oldest);
      total += span;
      if (target.checkpoint.done) read += span;
      else if (target.checkpoint.before) read += Math.min(span, Math.max(0, target.newest - timestampOf(target.checkpoint.before)));
    }
    return total === 0 ? (this.phase === "done" ? 1 : 0) : read / total;
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  private async execute(): Promise<BackfillReport> {
    const { sink } = this.spec;
    const reporter = startReporter(sink, sink.intervalMs ?? this.deps.options.progressIntervalMs, () => this.report(), this.logger);
    let outcome: BackfillPhase;
    try {
      const discovery = await discoverTargets(this.spec.guild, this.spec.request, this.policy);
      for (const [reason, count] of Object.entries(discovery.skipped)) add(this.channelSkips, reason, count);
      await this.prepare(discovery.targets);
      this.phase = "running";
      this.scanStart = { at: Date.now(), fraction: this.fraction() };
      await this.scanAll();
      this.signal.throwIfAborted();
      outcome = "done";
    } catch (error) {
      if (this.signal.aborted) outcome = this.signal.reason instanceof JobAborted ? this.signal.reason.phase : "stopped";
      else {
        outcome = "failed";
        this.logger.error({ err: error }, "backfill failed");
      }
    }
    await this.finish(reporter, outcome);
    const report = this.report();
    this.logger.info(
      { phase: report.phase, channels: report.channels, messages: report.messagesScanned, images: report.imagesIndexed },
      "backfill ended",
    );
    return report;
  }

  /** Loads or resets the checkpoints of every target and records them, so a restart knows this job's channels. */
  private async prepare(channels: HistoryChannel[]): Promise<void> {
    const saved = (await this.deps.state.get(this.guildId)).backfill.checkpoints;
    // A run continues an interrupted pass if any of its channels is unfinished; otherwise it reads everything again.
    this.continued ||= channels.some((channel) => saved[channel.id] && !saved[channel.id]!.done);
    this.targets = channels.map((channel) => ({
      channel,
      checkpoint: (this.continued ? saved[channel.id] : undefined) ?? FRESH_CHECKPOINT,
      running: false,
      oldest: timestampOf(channel.id),
      newest: channel.lastMessageId ? timestampOf(channel.lastMessageId) : Date.now(),
    }));
    this.signal.throwIfAborted();
    await this.saveState((state) => {
      for (const target of this.targets) state.backfill.checkpoints[target.channel.id] = target.checkpoint;
      if (!this.spec.resume) state.backfill.lastStartedAt = new Date(this.startedAt).toISOString();
    });
  }

  private async scanAll(): Promise<void> {
    const queue = this.targets.filter((target) => !target.checkpoint.done);
    const worker = async () => {
      for (let target = queue.shift(); target && !this.signal.aborted; target = queue.shift()) await this.scanChannel(target);
    };
    await Promise.all(Array.from({ length: this.deps.options.concurrency }, worker));
  }

  private async scanChannel(target: Target): Promise<void> {
    const channelId = target.channel.id;
    target.running = true;
    try {
      while (!target.checkpoint.done) {
        const page = await fetchHistoryPage(target.channel, target.checkpoint.before, this.policy);
        const counts = await this.indexPage([...page.values()]);
        // A page cut short by an abort is not recorded: the next run reads it again.
        this.signal.throwIfAborted();
        const { checkpoint } = target;
        target.checkpoint = {
          before: page.lastKey() ?? checkpoint.before,
          done: page.size < PAGE_SIZE,
          scanned: checkpoint.scanned + counts.scanned,
          indexed: checkpoint.indexed + counts.imagesNew + counts.imagesAlreadyIndexed,
          skipped: checkpoint.skipped + Object.values(counts.skipped).reduce((sum, count) => sum + count, 0),
        };
        this.record(counts);
        await this.saveState((state) => void (state.backfill.checkpoints[channelId] = target.checkpoint));
      }
    } catch (error) {
      if (this.signal.aborted) return;
      const reason = error instanceof ChannelStopped ? error.reason : "error";
      add(this.channelSkips, reason, 1);
      if (reason === "error") this.logger.error({ err: error, channelId }, "backfill of a channel failed");
      else this.logger.warn({ err: error, channelId, reason }, "backfill of a channel stopped; its checkpoint is kept");
      if (reason === "gone") {
        await this.saveState((state) => void delete state.backfill.checkpoints[channelId]).catch((saveError: unknown) =>
          this.logger.warn({ err: saveError, channelId }, "could not forget a deleted channel's checkpoint"),
        );
      }
    } finally {
      target.running = false;
    }
  }

  /** Indexes a page's messages together; the work queue's `submit` slows us down when the model is busy. */
  private async indexPage(messages: Message<true>[]): Promise<PageCounts> {
    const counts: PageCounts = { scanned: 0, imagesNew: 0, imagesAlreadyIndexed: 0, skipped: {} };
    const botId = this.deps.client.user?.id;
    const wanted = messages.filter((message) => MessageIndexer.indexable(message, botId));
    const limit = pLimit(this.deps.options.messagesInFlight);
    const outcomes = await Promise.all(
      wanted.map((message) =>
        limit(() =>
          this.deps.indexer
            .indexMessage(message, {
              checkReposts: false,
              whenBusy: "wait",
              source: "backfill",
              onHostFailure: "skip",
              signal: this.signal,
            })
            .catch((error: unknown) => {
              // A failure costs that message's images, not the whole backfill; the report counts them
              // by reason, and `/index` run again picks them up. Only an unexpected one is a bug.
              logFailure(this.logger, error, { messageId: message.id }, "backfill could not index a message");
              return { indexed: 0, skipped: { [errorCode(error)]: imagesInMessage(message).length }, reposts: [], deferred: false };
            }),
        ),
      ),
    );
    counts.scanned = wanted.length;
    for (const outcome of outcomes) {
      counts.imagesNew += outcome.indexed;
      for (const [reason, count] of Object.entries(outcome.skipped)) {
        if (reason === "already_indexed") counts.imagesAlreadyIndexed += count;
        else add(counts.skipped, reason, count);
      }
    }
    return counts;
  }

  private record(counts: PageCounts): void {
    this.run.messagesScanned += counts.scanned;
    this.run.imagesNew += counts.imagesNew;
    this.run.imagesAlreadyIndexed += counts.imagesAlreadyIndexed;
    for (const [reason, count] of Object.entries(counts.skipped)) add(this.run.skippedByReason, reason, count);
    this.imagesSinceMaintenance += counts.imagesNew;
    if (this.imagesSinceMaintenance >= this.deps.options.maintainEveryImages) {
      this.imagesSinceMaintenance = 0;
      this.maintenance = this.maintenance.then(() => this.maintainIndex());
    }
  }

  /**
   * Every message's images are one LanceDB write (one fragment): compact them, build the ANN index
   * once big enough, and (re)learn the server's whitening for repost checks when due.
   */
  private async maintainIndex(): Promise<void> {
    try {
      await this.deps.index.upkeepNow(this.guildId);
    } catch (error) {
      this.logger.warn({ err: error }, "index maintenance after backfill failed");
    }
  }

  /** Writes to the server's state, unless the bot has left the server (its state is being deleted). */
  private async saveState(change: Parameters<GuildStateStore["update"]>[1]): Promise<void> {
    if (!this.deps.client.guilds.cache.has(this.guildId)) return;
    await this.deps.state.update(this.guildId, change);
  }

  /**
   * Final bookkeeping — compaction, the finish time (not on shutdown: a restart resumes) — and only
   * then the final phase and progress update, so whoever sees "finished" also finds it recorded.
   */
  private async finish(reporter: Reporter, outcome: BackfillPhase): Promise<void> {
    await reporter.pause();
    // On shutdown the engine is about to close: leave compaction to the resumed run.
    const compact = this.run.imagesNew > 0 && outcome !== "stopped";
    this.maintenance = this.maintenance.then(() => (compact ? this.maintainIndex() : undefined));
    await this.maintenance;
    if (outcome !== "stopped") {
      await this.saveState((state) => void (state.backfill.lastFinishedAt = new Date().toISOString())).catch((error: unknown) =>
        this.logger.error({ err: error }, "could not record the end of the backfill"),
      );
    }
    this.phase = outcome;
    await reporter.flush();
  }
}
