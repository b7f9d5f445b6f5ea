/**
 * Indexes the images of one Discord message: the images not stored yet are downloaded and
 * analysed in the background lane and, when asked, checked against the server's earlier posts
 * (under its settings) in the same slot; then they are written through the server's GuildIndex.
 * Live messages, catch-up and backfill all come through here. A message is indexed by one caller
 * at a time: a second caller (a catch-up page that reads a message the live path is still
 * working on) waits for the first, then finds its images stored.
 */
import { ChannelType, type Message, type PartialMessage } from "discord.js";
import type { Logger } from "pino";
import type { AnalyzedImage } from "../../retrieval/engine.ts";
import { isLookalikeError } from "../../retrieval/errors.ts";
import { errorCode, logFailure } from "../errors.ts";
import type { GuildState, GuildStateStore } from "../guild-state.ts";
import { type ImageRef, imagesInMessage } from "../message-images.ts";
import type { BotMetrics, IndexSource } from "../metrics.ts";
import { visibleChannelIds } from "../permissions.ts";
import { alertFor, type Post, type RepostFinding, repostQuery, skipReason } from "../repost-policy.ts";
import { QueueFullError } from "../work-queue.ts";
import type { GuildIndex, IndexItem } from "./guild-index.ts";
import type { ImagePipeline } from "./image-pipeline.ts";

export interface IndexOutcome {
  readonly indexed: number;
  /** Reason code → count (e.g. too_large, unsupported_format, opted_out, already_indexed). */
  readonly skipped: Record<string, number>;
  readonly reposts: RepostFinding[];
  /** The background lane was full: nothing was done, the caller reads the message again later. */
  readonly deferred: boolean;
}

export interface IndexMessageOptions {
  /** Check each new image against earlier posts (also embeds the extra query views it needs). */
  readonly checkReposts: boolean;
  /** A full background lane: `defer` the message (live), or `wait` for room (catch-up, backfill). */
  readonly whenBusy: "defer" | "wait";
  /** For the metrics: how the message reached us. */
  readonly source: IndexSource;
  /**
   * An image whose host failed (`download_failed`): `hold` throws, so the message is not indexed
   * and is read again later (live indexing and catch-ups, whose checkpoint stays below it); `skip`
   * stores the message's other images and counts that one as skipped (backfills, and a catch-up
   * that has tried long enough). Default `hold`.
   */
  readonly onHostFailure?: "hold" | "skip";
  readonly signal?: AbortSignal;
}

/** The message as the repost rules see it (repost-policy.ts). */
function postOf(message: Message<true>): Post {
  return {
    messageId: message.id,
    channelId: message.channelId,
    parentId: message.channel?.isThread() ? message.channel.parentId : null,
    authorId: message.author.id,
    postedAt: message.createdTimestamp,
  };
}

const nothing = (deferred = false): IndexOutcome => ({ indexed: 0, skipped: {}, reposts: [], deferred });

export class MessageIndexer {
  private readonly inFlight = new Map<string, Promise<IndexOutcome>>();

  constructor(
    private readonly pipeline: ImagePipeline,
    private readonly index: GuildIndex,
    private readonly state: GuildStateStore,
    private readonly metrics: BotMetrics,
    private readonly logger: Logger,
  ) {}

  /** Whether a message's images belong in the index at all. */
  static indexable(message: Message | PartialMessage, botUserId: string | undefined): boolean {
    if (!message.inGuild() || message.author?.id === botUserId) return false;
    // Private threads are only for their members; their images are never indexed.
    return message.channel?.type !== ChannelType.PrivateThread;
  }

  async indexMessage(message: Message<true>, options: IndexMessageOptions): Promise<IndexOutcome> {
    // Chained, not raced: a later caller starts once the earlier one has stored what it could.
    const previous = this.inFlight.get(message.id);
    const current =
      previous === undefined
        ? this.indexOnce(message, options)
        : previous.catch(() => undefined).then(() => this.indexOnce(message, options));
    this.inFlight.set(message.id, current);
    try {
      const outcome = await current;
      if (outcome.indexed > 0) this.metrics.imagesIndexed(options.source, outcome.indexed);
      for (const [reason, count] of Object.entries(outcome.skipped)) this.metrics.imagesSkipped(reason, count);
      return outcome;
    } finally {
      if (this.inFlight.get(message.id) === current) this.inFlight.delete(message.id);
    }
  }

  private async indexOnce(message: Message<true>, options: IndexMessageOptions): Promise<IndexOutcome> {
    const refs = imagesInMessage(message);
    if (refs.length === 0) return nothing();
    const skipped: Record<string, number> = {};
    const skip = (reason: string, count = 1) => (skipped[reason] = (skipped[reason] ?? 0) + count);
    const guildId = message.guildId;
    const state = await this.state.get(guildId);
    if (state.optedOutUserIds.includes(message.author.id)) {
      skip("opted_out", refs.length);
      return { ...nothing(), skipped };
    }
    const known = await this.index.read(
      guildId,
      refs.map((ref) => ref.id),
    );
    const fresh = refs.filter((ref) => !known.has(ref.id));
    if (fresh.length < refs.length) skip("already_indexed", refs.length - fresh.length);
    if (fresh.length === 0) return { ...nothing(), skipped };
    if (options.whenBusy === "defer" && !this.pipeline.hasBackgroundRoom(fresh.length)) return nothing(true);

    const post = postOf(message);
    // Whether to check is decided before the analysis: a check also embeds the extra query views.
    const check = options.checkReposts && skipReason(post, state.settings) === null;
    // Every image enters the lane now (no await in between), so the room just checked is still there.
    const results = await Promise.all(
      fresh.map((ref) =>
        this.pipeline
          .run(
            ref,
            {
              lane: "background",
              waitForRoom: options.whenBusy === "wait",
              flipped: check,
              centre: check,
              regions: check,
              signal: options.signal,
            },
            async (image) => ({
              ref,
              image,
              finding: check ? await this.findOriginal(message, post, ref, image, state) : null,
            }),
          )
          .catch((error: unknown) => {
            if (error instanceof QueueFullError) return "deferred" as const;
            // The embedding workers' queue (Redis) or the image's host failed, not the image: the
            // message is not indexed rather than its image skipped, so its checkpoint stays and a
            // catch-up reads it again (with fresh links).
            if (isLookalikeError(error, "queue_unavailable")) throw error;
            if (isLookalikeError(error, "download_failed") && options.onHostFailure !== "skip") throw error;
            skip(errorCode(error));
            logFailure(this.logger, error, { imageId: ref.id, messageId: message.id }, "image skipped");
            return null;
          }),
      ),
    );
    if (results.includes("deferred")) return nothing(true);
    const ok = results.filter((result) => result !== null && result !== "deferred");
    const written = await this.index.write(guildId, this.records(message, ok));
    if (written < ok.length) {
      // The author opted out, or the message was deleted, while these images were being analysed.
      skip("withdrawn", ok.length - written);
      return { indexed: written, skipped, reposts: [], deferred: false };
    }
    const reposts = ok.flatMap(({ finding }) => (finding ? [finding] : []));
    return { indexed: written, skipped, reposts, deferred: false };
  }

  private records(message: Message<true>, items: readonly { ref: ImageRef; image: AnalyzedImage }[]): IndexItem[] {
    return items.map(({ ref, image }) => ({
      image,
      meta: {
        id: ref.id,
        source: ref.url,
        channelId: message.channelId,
        parentId: message.channel?.isThread() ? message.channel.parentId : null,
        messageId: message.id,
        authorId: message.author.id,
        createdAt: message.createdAt,
        spoiler: ref.spoiler,
      },
    }));
  }

  /** The earlier post this image repeats, under the server's repost rules; null if none. */
  private async findOriginal(
    message: Message<true>,
    post: Post,
    ref: ImageRef,
    image: AnalyzedImage,
    state: GuildState,
  ): Promise<RepostFinding | null> {
    const stopTimer = this.metrics.timeRepostCheck();
    const guild = message.guild ?? null;
    const member = message.member ?? (await guild?.members.fetch(post.authorId).catch(() => null)) ?? null;
    const visible = visibleChannelIds({ guild, member, channelId: post.channelId });
    const query = repostQuery({ ...post, phash: image.phash }, state.settings, state.notReposts, visible);
    if (!query.check) {
      stopTimer();
      return null;
    }
    const verdict = await this.pipeline.engine.checkRepost(image, {
      collection: message.guildId,
      thresholds: query.thresholds,
      filter: query.filter,
      accept: query.accept,
    });
    stopTimer();
    return alertFor(ref.id, verdict);
  }
}
