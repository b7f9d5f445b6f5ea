/**
 * Keeps every channel's index in step with Discord, live or not. A channel is either *in sync*
 * (new messages are indexed as their events arrive) or *catching up* (its history is read from
 * the channel's checkpoint, oldest first, through the history API, and every message there is
 * indexed; events meanwhile only ask for another pass). A channel starts out catching up after
 * every start and reconnect, and falls back to it whenever a live message could not be stored
 * (the background lane was full, or a write failed): so images posted while the bot was down,
 * during a gateway outage or during a flood are read from Discord instead of being lost or
 * piling up in memory. Messages caught up within `recentMs` of their posting are checked for
 * reposts as live ones are; older ones are indexed silently.
 */

import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Client, Guild, Message } from "discord.js";
import pLimit from "p-limit";
import type { Logger } from "pino";
import { isLookalikeError } from "../../retrieval/errors.ts";
import { logFailure } from "../errors.ts";
import type { GuildStateStore } from "../guild-state.ts";
import type { BotMetrics } from "../metrics.ts";
import { alertAction } from "../repost-policy.ts";
import { ChannelStopped, type HistoryChannel, PAGE_SIZE, withRetries } from "./backfill/history.ts";
import { canRead, hasHistory } from "./backfill/targets.ts";
import type { GuildIndex } from "./guild-index.ts";
import type { LiveCheckpoints } from "./live-checkpoints.ts";
import { type IndexOutcome, MessageIndexer } from "./message-indexer.ts";
import type { RepostAlerts } from "./repost-alerts.ts";

export interface ChannelSyncOptions {
  /** Channels read at once across all servers (Discord rate-limits history per channel and globally). */
  readonly concurrency: number;
  /** Messages of one page indexed at once. */
  readonly messagesInFlight: number;
  /** Caught-up messages younger than this are checked for reposts. */
  readonly recentMs: number;
  /**
   * An alert waits until its message is this old: moderation bots and AutoMod delete spam within
   * a fraction of a second, and an alert under a message that is gone is noise.
   */
  readonly alertGraceMs: number;
  /** Waits before another pass after a failed one (an outage, a failed write). */
  readonly retryDelaysMs: readonly number[];
  /**
   * How long a message whose images cannot be downloaded (the host failing: `download_failed`)
   * holds its channel's catch-up before those images are skipped. An outage of Discord's CDN passes
   * well within it and loses nothing; a file that fails for good stops stalling the channel.
   */
  readonly hostFailureBudgetMs: number;
}

export const DEFAULT_CHANNEL_SYNC_OPTIONS: ChannelSyncOptions = {
  concurrency: 3,
  messagesInFlight: 8,
  recentMs: 10 * 60_000,
  alertGraceMs: 1_500,
  retryDelaysMs: [2_000, 10_000, 30_000, 120_000],
  hostFailureBudgetMs: 30 * 60_000,
};

export interface ChannelSyncDeps {
  readonly client: Client;
  readonly indexer: MessageIndexer;
  readonly index: GuildIndex;
  readonly checkpoints: LiveCheckpoints;
  readonly state: GuildStateStore;
  readonly alerts: RepostAlerts;
  readonly metrics: BotMetrics;
  readonly logger: Logger;
  readonly options?: Partial<ChannelSyncOptions>;
}

interface Pass {
  readonly guildId: string;
  readonly channelId: string;
  /** An event arrived during the pass: read again before calling the channel in sync. */
  dirty: boolean;
  failures: number;
}

const key = (guildId: string, channelId: string) => `${guildId}/${channelId}`;
const oldestFirst = (a: Message, b: Message) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1);

export class ChannelSync {
  private readonly options: ChannelSyncOptions;
  private readonly inSync = new Set<string>();
  private readonly waiting = new Map<string, Pass>();
  private readonly running = new Map<string, Pass>();
  /** Servers whose channels could not be checked: failures in a row. */
  private readonly failedGuilds = new Map<string, number>();
  /** Servers with a check of their channels scheduled after a failure. */
  private readonly guildRetries = new Set<string>();
  /** Messages whose images' host failed, by message id: when it first did. */
  private readonly hostFailingSince = new Map<string, number>();
  private readonly controller = new AbortController();

  constructor(private readonly deps: ChannelSyncDeps) {
    this.options = { ...DEFAULT_CHANNEL_SYNC_OPTIONS, ...deps.options };
    setMaxListeners(1_000, this.controller.signal);
  }

  /** Channels waiting for or in a catch-up pass. */
  get backlog(): number {
    return this.waiting.size + this.running.size;
  }

  /** After a connect, reconnect or resume: every channel of every server is checked again. */
  async syncAll(): Promise<void> {
    for (const guild of this.deps.client.guilds.cache.values()) await this.syncGuild(guild);
  }

  /**
   * Checks each readable channel of the server against its checkpoint: channels with newer
   * messages (from the gateway's last message id) are caught up, the others are in sync at once.
   */
  async syncGuild(guild: Guild): Promise<void> {
    if (this.controller.signal.aborted) return;
    try {
      await this.deps.checkpoints.load(guild.id);
      const me = guild.members.me;
      const counts = { behind: 0, unreadable: 0, current: 0 };
      for (const channel of guild.channels.cache.values()) {
        if (!hasHistory(channel)) continue;
        const id = key(guild.id, channel.id);
        // Without Read Message History there is nothing to catch up from: such a channel is live only.
        if (me && !canRead(channel, me)) {
          this.inSync.add(id);
          counts.unreadable++;
          continue;
        }
        this.inSync.delete(id);
        if (this.deps.checkpoints.behind(guild.id, channel.id, channel.lastMessageId)) {
          this.requestPass(guild.id, channel.id);
          counts.behind++;
        } else {
          if (!this.running.has(id) && !this.waiting.has(id)) this.inSync.add(id);
          counts.current++;
        }
      }
      this.failedGuilds.delete(guild.id);
      // One line per server and (re)connect: what a restart found to catch up.
      this.deps.logger.info({ guildId: guild.id, channels: counts }, "checked the server's channels for missed messages");
    } catch (error) {
      if (this.controller.signal.aborted) return;
      // Without a retry, images posted while the bot was down would wait for the next reconnect.
      const failures = this.failedGuilds.get(guild.id) ?? 0;
      this.failedGuilds.set(guild.id, failures + 1);
      const retryInMs = this.retryDelay(failures);
      this.deps.logger.error(
        { err: error, guildId: guild.id, retryInMs },
        "could not check the server's channels for missed messages; trying again later",
      );
      this.deps.metrics.error("catch_up_failed");
      // One retry per server at a time, however many events asked for a check meanwhile.
      if (this.guildRetries.has(guild.id)) return;
      this.guildRetries.add(guild.id);
      void sleep(retryInMs, undefined, { signal: this.controller.signal }).then(
        () => {
          this.guildRetries.delete(guild.id);
          const current = this.deps.client.guilds.cache.get(guild.id);
          if (current && this.failedGuilds.has(guild.id)) void this.syncGuild(current);
        },
        () => undefined,
      );
    }
  }

  /** A new (or newly unfurled) message from the gateway. */
  async onMessage(message: Message): Promise<void> {
    if (!message.inGuild() || !MessageIndexer.indexable(message, this.deps.client.user?.id)) return;
    const { guildId, channelId } = message;
    const { checkpoints } = this.deps;
    await checkpoints.load(guildId);
    // Without Read Message History no pass can read this message later: this is its only chance,
    // whether the server's channels were checked yet or not, and however busy the bot is.
    const me = message.guild.members.me;
    const passCanRead = !me || canRead(message.channel, me);
    // A message past the checkpoint of a channel that is catching up is that pass's to read; an
    // older one (an edit that delivers an unfurled link's image) is indexed here, as no pass will.
    if (passCanRead && !this.inSync.has(key(guildId, channelId)) && checkpoints.behind(guildId, channelId, message.id)) {
      this.requestPass(guildId, channelId);
      return;
    }
    checkpoints.begin(guildId, channelId, message.id);
    let outcome: IndexOutcome;
    try {
      outcome = await this.deps.indexer.indexMessage(message, {
        checkReposts: true,
        whenBusy: passCanRead ? "defer" : "wait",
        source: "live",
      });
    } catch (error) {
      this.deps.metrics.error("index_failed");
      if (!passCanRead) {
        logFailure(
          this.deps.logger,
          error,
          { messageId: message.id },
          "could not index a live message, and its channel's history cannot be read",
        );
        checkpoints.finish(guildId, channelId, message.id);
        return;
      }
      logFailure(this.deps.logger, error, { messageId: message.id }, "could not index a live message; its channel will be caught up");
      this.fallBehind(guildId, channelId, message.id);
      return;
    }
    if (outcome.deferred) {
      this.fallBehind(guildId, channelId, message.id);
      return;
    }
    checkpoints.finish(guildId, channelId, message.id);
    await this.announce(message, outcome);
  }

  /** A deleted channel or thread is never read again. */
  forgetChannel(guildId: string, channelId: string): void {
    const id = key(guildId, channelId);
    this.inSync.delete(id);
    this.waiting.delete(id);
    this.deps.checkpoints.forget(guildId, channelId);
  }

  forgetGuild(guildId: string): void {
    this.failedGuilds.delete(guildId);
    for (const set of [this.inSync, this.waiting]) for (const id of set.keys()) if (id.startsWith(`${guildId}/`)) set.delete(id);
    this.deps.checkpoints.forget(guildId);
  }

  /** Stops every pass (their checkpoints stay where the last stored page left them) and saves the checkpoints. */
  async stop(): Promise<void> {
    this.controller.abort();
    this.waiting.clear();
    // Every wait of a pass listens to the signal; the deadline only guards against one that does not.
    const deadline = Date.now() + 10_000;
    while (this.running.size > 0 && Date.now() < deadline) await sleep(20);
    await this.deps.checkpoints.save();
  }

  /** A live message could not be stored: the checkpoint stays below it and a catch-up reads it again. */
  private fallBehind(guildId: string, channelId: string, messageId: string): void {
    this.deps.checkpoints.hold(guildId, channelId, messageId);
    this.inSync.delete(key(guildId, channelId));
    this.requestPass(guildId, channelId);
  }

  private requestPass(guildId: string, channelId: string): void {
    const id = key(guildId, channelId);
    const running = this.running.get(id);
    if (running) running.dirty = true;
    else if (!this.waiting.has(id)) this.waiting.set(id, { guildId, channelId, dirty: false, failures: 0 });
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.options.concurrency && this.waiting.size > 0 && !this.controller.signal.aborted) {
      const [id, pass] = this.waiting.entries().next().value!;
      this.waiting.delete(id);
      this.running.set(id, pass);
      void this.runPass(pass).finally(() => {
        this.running.delete(id);
        this.pump();
      });
    }
  }

  /** Reads the channel after its checkpoint until it reaches the present with no new event meanwhile. */
  private async runPass(pass: Pass): Promise<void> {
    const { guildId, channelId } = pass;
    const id = key(guildId, channelId);
    const logger = this.deps.logger.child({ guildId, channelId });
    try {
      const channel = await this.channel(guildId, channelId);
      if (!channel) {
        this.forgetChannel(guildId, channelId);
        return;
      }
      const from = this.deps.checkpoints.position(guildId, channelId);
      let read = 0;
      for (;;) {
        pass.dirty = false;
        const page = await this.nextPage(channel, this.deps.checkpoints.position(guildId, channelId));
        const messages = [...page.values()].sort(oldestFirst);
        await this.indexPage(messages);
        // Images skipped because we are stopping are not stored: the checkpoint must not pass them.
        this.controller.signal.throwIfAborted();
        if (messages.length > 0) this.deps.checkpoints.advanceTo(guildId, channelId, messages.at(-1)!.id);
        read += messages.length;
        if (messages.length < PAGE_SIZE && !pass.dirty) break;
      }
      if (read > 0) logger.info({ messages: read, from, to: this.deps.checkpoints.position(guildId, channelId) }, "caught up a channel");
      this.inSync.add(id);
      pass.failures = 0;
    } catch (error) {
      if (this.controller.signal.aborted) return;
      if (error instanceof ChannelStopped && error.reason !== "discord_unavailable") {
        logger.warn({ reason: error.reason }, "cannot read the channel's history; it is not caught up");
        if (error.reason === "gone") this.forgetChannel(guildId, channelId);
        return;
      }
      const delay = this.retryDelay(pass.failures);
      logger.warn({ err: error, retryInMs: delay }, "catching up a channel failed; trying again later");
      this.deps.metrics.error("catch_up_failed");
      pass.failures++;
      void sleep(delay, undefined, { signal: this.controller.signal }).then(
        () => {
          if (!this.running.has(id) && !this.waiting.has(id)) this.waiting.set(id, { ...pass, dirty: false });
          this.pump();
        },
        () => undefined,
      );
    }
  }

  /** The wait before another try after `failures` failures in a row. */
  private retryDelay(failures: number): number {
    return this.options.retryDelaysMs[Math.min(failures, this.options.retryDelaysMs.length - 1)]!;
  }

  private async channel(guildId: string, channelId: string): Promise<HistoryChannel | null> {
    const guild = this.deps.client.guilds.cache.get(guildId);
    const cached = guild?.channels.cache.get(channelId);
    if (cached) return hasHistory(cached) ? cached : null;
    const fetched = await this.deps.client.channels.fetch(channelId).catch(() => null);
    return fetched && "guildId" in fetched && fetched.guildId === guildId && hasHistory(fetched) ? fetched : null;
  }

  private nextPage(channel: HistoryChannel, after: string) {
    const policy = { delaysMs: [1_000, 5_000], logger: this.deps.logger, signal: this.controller.signal };
    return withRetries(`catch-up of ${channel.id}`, () => channel.messages.fetch({ limit: PAGE_SIZE, after, cache: false }), policy);
  }

  /** Indexes a page's messages (a few at a time); throws if any could not be stored, so the checkpoint stays. */
  private async indexPage(messages: readonly Message[]): Promise<void> {
    const limit = pLimit(this.options.messagesInFlight);
    await Promise.all(messages.map((message) => limit(() => this.catchUpMessage(message))));
  }

  private async catchUpMessage(message: Message): Promise<void> {
    if (!message.inGuild() || !MessageIndexer.indexable(message, this.deps.client.user?.id)) return;
    const recent = Date.now() - message.createdTimestamp < this.options.recentMs;
    const failingSince = this.hostFailingSince.get(message.id);
    const giveUp = failingSince !== undefined && Date.now() - failingSince >= this.options.hostFailureBudgetMs;
    let outcome: IndexOutcome;
    try {
      outcome = await this.deps.indexer.indexMessage(message, {
        checkReposts: recent,
        whenBusy: "wait",
        source: "catch_up",
        onHostFailure: giveUp ? "skip" : "hold",
        signal: this.controller.signal,
      });
    } catch (error) {
      if (failingSince === undefined && isLookalikeError(error, "download_failed")) this.hostFailingSince.set(message.id, Date.now());
      throw error;
    }
    this.hostFailingSince.delete(message.id);
    if (giveUp && outcome.skipped.download_failed) {
      this.deps.logger.warn(
        { messageId: message.id, channelId: message.channelId, skipped: outcome.skipped.download_failed },
        "gave up downloading images that kept failing; the rest of the message is indexed",
      );
    }
    await this.announce(message, outcome);
  }

  /** Sends the alert for a repost, unless the message was deleted before its grace period ended. */
  private async announce(message: Message<true>, outcome: IndexOutcome): Promise<void> {
    if (outcome.reposts.length === 0) return;
    const wait = message.createdTimestamp + this.options.alertGraceMs - Date.now();
    if (wait > 0) await sleep(wait);
    const parentId = message.channel?.isThread() ? message.channel.parentId : null;
    const deleted = () => this.deps.index.wasDeleted(message.guildId, { messageId: message.id, channelId: message.channelId, parentId });
    if (deleted()) return;
    const { settings } = await this.deps.state.get(message.guildId);
    if (!(await this.deps.alerts.announce(message, outcome.reposts, settings))) return;
    this.deps.metrics.repostAlert(alertAction(settings).kind);
    // Deleted while the alert was on its way: the deletion found nothing to take down yet.
    if (deleted()) await this.deps.alerts.withdraw([message.id]);
  }
}
