/**
 * Shared by `/similar` and "Find similar images": search this server's index as the asking member
 * may see it, then build the reply (a contact sheet of the matches and an embed listing them).
 */
import { AttachmentBuilder, EmbedBuilder, TimestampStyles, time, userMention } from "discord.js";
import type { AnalyzedImage, LookalikeEngine, SimilarMatch } from "../retrieval/engine.ts";
import type { RowFilter } from "../retrieval/filters.ts";
import { describeRegion } from "../retrieval/regions/describe.ts";
import { contactSheet } from "./contact-sheet.ts";
import { jumpLink } from "./jump-link.ts";
import { type Asker, baseChannelId, visibleChannelIds } from "./permissions.ts";

export interface SimilarQuery extends Asker {
  readonly guildId: string;
  readonly image: AnalyzedImage;
  readonly count: number;
  readonly scope: "server" | "channel";
  readonly authorId?: string | null;
  /** Messages whose images are left out (the message the context menu was used on). */
  readonly excludeMessageIds?: readonly string[];
  readonly title: string;
}

export interface SimilarReply {
  readonly embed: EmbedBuilder;
  readonly file: AttachmentBuilder | null;
}

export async function findVisibleMatches(engine: LookalikeEngine, query: SimilarQuery): Promise<SimilarMatch[]> {
  const visible = visibleChannelIds(query);
  const here = baseChannelId(query.guild, query.channelId);
  const filter: RowFilter = {
    visibleChannelIds: query.scope === "channel" ? visible.filter((id) => id === here) : visible,
    authorIds: query.authorId ? [query.authorId] : undefined,
    excludeMessageIds: query.excludeMessageIds?.length ? query.excludeMessageIds : undefined,
  };
  return engine.findSimilar(query.image, { collection: query.guildId, k: query.count, filter });
}

export async function buildSimilarReply(engine: LookalikeEngine, query: SimilarQuery, fileName: string): Promise<SimilarReply> {
  const matches = await findVisibleMatches(engine, query);
  const table = await engine.collection(query.guildId);
  if (matches.length === 0) {
    const total = await table.count();
    return {
      embed: new EmbedBuilder()
        .setTitle(query.title)
        .setDescription(`No look-alikes found that you can see. This server has ${total} image${total === 1 ? "" : "s"} indexed.`),
      file: null,
    };
  }
  const stored = await table.get(
    matches.map((m) => m.id),
    true,
  );
  const sheet = await contactSheet(
    matches.map((match) => ({
      thumbnail: stored.get(match.id)?.thumbnail ?? null,
      // A spoilered image stays hidden unless it is shown in the channel it was posted in.
      blur: Boolean(match.spoiler) && match.channelId !== query.channelId,
      box: match.region?.match,
    })),
  );
  const lines = matches.map((match, index) => {
    const link = jumpLink(query.guildId, match.channelId, match.messageId);
    const author = match.authorId ? userMention(match.authorId) : "unknown";
    const when = match.createdAt ? time(match.createdAt, TimestampStyles.ShortDate) : "";
    const where = match.region ? ` · ${describeRegion(match.region)}` : "";
    return `**${index + 1}.** ${(match.score * 100).toFixed(1)} % · ${author} · ${when}${link ? ` · [jump](${link})` : ""}${where}`;
  });
  const embed = new EmbedBuilder()
    .setTitle(query.title)
    .setDescription(lines.join("\n"))
    .setImage(`attachment://${fileName}`)
    .setFooter({ text: "Scores are cosine similarity of image features." });
  return { embed, file: new AttachmentBuilder(sheet, { name: fileName }) };
}
