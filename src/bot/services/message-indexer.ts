/**
 * Indexes the images of one Discord message. For live messages it first asks whether each image
 * reposts an earlier one of the same server (under the server's settings) and raises an alert.
 * The backfill calls the same code with alerts off.
 */
import { ChannelType, type Message, type PartialMessage } from "discord.js";
import type { Logger } from "pino";
import type { AnalyzedImage } from "../../retrieval/engine.ts";
import { errorCode } from "../errors.ts";
import type { GuildState, GuildStateStore, RepostSettings } from "../guild-state.ts";
import { hamming, hexToHash } from "../../retrieval/hashes.ts";
import { imagesInMessage, type ImageRef } from "../message-images.ts";
import { visibleChannelIds } from "../permissions.ts";
import type { RepostFinding } from "./repost-alerts.ts";
import type { ImagePipeline } from "./image-pipeline.ts";
import { thresholdsFor } from "../sensitivity.ts";
import { IndexWriter, type IndexItem } from "./index-writer.ts";

export interface IndexOutcome {
  readonly indexed: number;
  /** Reason code → count (e.g. too_large, unsupported_format, opted_out, already_indexed). */
  readonly skipped: Record<string, number>;
  readonly reposts: RepostFinding[];
}

export interface IndexMessageOptions {
  readonly alerts: boolean;
  readonly signal?: AbortSignal;
}

const HOUR = 3_600_000;
/** pHash distance within which two images count as the same picture for a "not a repost" mark. */
const SAME_PICTURE_HAMMING = 6;

function markedNotARepost(image: AnalyzedImage, originalId: string, marks: GuildState["notReposts"]): boolean {
  return marks.some((mark) => mark.originalId === originalId && hamming(hexToHash(mark.phash), image.phash) <= SAME_PICTURE_HAMMING);
}
const DAY = 24 * HOUR;

export class MessageIndexer {
  constructor(
    private readonly pipeline: ImagePipeline,
    private readonly state: GuildStateStore,
    private readonly logger: Logger,
  ) {
    this.writer = new IndexWriter(pipeline.engine, state, logger);
  }

  private readonly writer: IndexWriter;

  /** Whether a message's images belong in the index at all. */
  static indexable(message: Message | PartialMessage, botUserId: string | undefined): boolean {
    if (!message.inGuild() || message.author?.id === botUserId) return false;
    // Private threads are only for their members; their images are never indexed.
    return message.channel?.type !== ChannelType.PrivateThread;
  }

  async indexMessage(message: Message<true>, options: IndexMessageOptions): Promise<IndexOutcome> {
    const skipped: Record<string, number> = {};
    const skip = (reason: string, count = 1) => (skipped[reason] = (skipped[reason] ?? 0) + count);
    const reposts: RepostFinding[] = [];
    const refs = imagesInMessage(message);
    if (refs.length === 0) return { indexed: 0, skipped, reposts };
    const guildId = message.guildId;
    const state = await this.state.get(guildId);
    if (state.optedOutUserIds.includes(message.author.id)) {
      skip("opted_out", refs.length);
      return { indexed: 0, skipped, reposts };
    }
    const engine = this.pipeline.engine;
    const table = await engine.collection(guildId);
    const known = await table.get(refs.map((ref) => ref.id));
    const fresh = refs.filter((ref) => !known.has(ref.id));
    if (fresh.length < refs.length) skip("already_indexed", refs.length - fresh.length);

    const analysed = await Promise.all(
      fresh.map(async (ref) => {
        try {
          const image = await this.pipeline.analyzeRef(ref, {
            priority: options.alerts ? "live" : "backfill",
            flipped: options.alerts,
            centre: options.alerts,
            signal: options.signal,
          });
          return { ref, image };
        } catch (error) {
          skip(errorCode(error));
          this.logger.debug({ err: error, imageId: ref.id, messageId: message.id }, "image skipped");
          return null;
        }
      }),
    );
    const ok = analysed.filter((item): item is { ref: ImageRef; image: AnalyzedImage } => item !== null);
    if (options.alerts && state.settings.enabled && !this.ignored(message, state.settings)) {
      for (const { ref, image } of ok) {
        const finding = await this.findOriginal(message, ref, image, state.settings, state.notReposts);
        if (finding) reposts.push(finding);
      }
    }
    const written = await this.writer.write(guildId, this.records(message, ok));
    if (written < ok.length) {
      // The author opted out while these images were being analysed.
      skip("opted_out", ok.length - written);
      return { indexed: written, skipped, reposts: [] };
    }
    return { indexed: ok.length, skipped, reposts };
  }

  forgetAuthor(guildId: string, userId: string): Promise<number> {
    return this.writer.forgetAuthor(guildId, userId);
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

  private ignored(message: Message<true>, settings: RepostSettings): boolean {
    const parentId = message.channel?.isThread() ? message.channel.parentId : null;
    return settings.ignoredChannelIds.some((id) => id === message.channelId || id === parentId);
  }

  private async findOriginal(
    message: Message<true>,
    ref: ImageRef,
    image: AnalyzedImage,
    settings: RepostSettings,
    notReposts: GuildState["notReposts"],
  ): Promise<RepostFinding | null> {
    const guild = message.guild ?? null;
    const member = message.member ?? (await guild?.members.fetch(message.author.id).catch(() => null)) ?? null;
    const posted = message.createdTimestamp;
    const channelIds = visibleChannelIds({ guild, member, channelId: message.channelId });
    const sameAuthorWindow = settings.sameAuthorWindowHours * HOUR;
    const verdict = await this.pipeline.engine.checkRepost(image, {
      collection: message.guildId,
      thresholds: thresholdsFor(settings.sensitivity),
      // Only earlier posts the poster could have seen; never the message itself.
      filter: {
        visibleChannelIds: channelIds,
        excludeMessageIds: [message.id],
        createdBefore: new Date(posted + 1),
        createdAfter: settings.lookbackDays > 0 ? new Date(posted - settings.lookbackDays * DAY) : undefined,
      },
      accept: (match) =>
        !markedNotARepost(image, match.id, notReposts) &&
        !(match.authorId === message.author.id && posted - (match.createdAt?.getTime() ?? 0) < sameAuthorWindow),
    });
    if (verdict.verdict !== "exact" && verdict.verdict !== "near-duplicate") return null;
    return { imageId: ref.id, verdict: verdict.verdict, original: verdict.match! };
  }
}
