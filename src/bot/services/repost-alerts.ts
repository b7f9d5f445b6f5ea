/**
 * Tells the server about a repost the way its moderators chose: a reply under the repost, a ♻️
 * reaction, or a post in a log channel. Replies and log posts carry a "Not a repost" button, and
 * are taken down again when the repost itself is deleted (a reaction goes with its message).
 */
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, EmbedBuilder, type Message, TimestampStyles, time, userMention } from "discord.js";
import type { Logger } from "pino";
import { describeRegion } from "../../retrieval/regions/describe.ts";
import type { RepostSettings } from "../guild-state.ts";
import { jumpLink } from "../jump-link.ts";
import { alertAction, type RepostFinding, strongestFinding } from "../repost-policy.ts";

export type { RepostFinding } from "../repost-policy.ts";

export const NOT_A_REPOST_PREFIX = "nr";

/** `nr:<new image id>:<original image id>:<poster id>`, within Discord's 100-character limit. */
export function notARepostCustomId(finding: RepostFinding, posterId: string): string {
  return [NOT_A_REPOST_PREFIX, finding.imageId, finding.original.id, posterId].join(":");
}

export function parseNotARepostCustomId(customId: string): { imageId: string; originalId: string; posterId: string } | null {
  const [prefix, imageId, originalId, posterId, ...rest] = customId.split(":");
  if (prefix !== NOT_A_REPOST_PREFIX || !imageId || !originalId || !posterId || rest.length > 0) return null;
  return { imageId, originalId, posterId };
}

export function alertEmbed(guildId: string, finding: RepostFinding, repost?: Message<true>): EmbedBuilder {
  const { original } = finding;
  const link = jumpLink(guildId, original.channelId, original.messageId);
  const when = original.createdAt ? time(original.createdAt, TimestampStyles.RelativeTime) : "earlier";
  const lines = [
    `${finding.verdict === "exact" ? "Exact copy" : "Near-duplicate"} of ${link ? `[this post](${link})` : "an earlier post"}` +
      `${original.authorId ? ` by ${userMention(original.authorId)}` : ""}, ${when}.`,
    `Similarity ${(original.score * 100).toFixed(1)} %, hash distance ${original.hamming}/64${original.flipped ? " (mirrored)" : ""}.`,
  ];
  if (original.region) lines.push(`Found ${describeRegion(original.region)}.`);
  if (repost) lines.push(`Repost: ${repost.url} by ${userMention(repost.author.id)}`);
  return new EmbedBuilder().setColor(0xf0b232).setTitle("♻️ Possible repost").setDescription(lines.join("\n"));
}

function notARepostButton(finding: RepostFinding, posterId: string): ActionRowBuilder<ButtonBuilder> {
  return new ActionRowBuilder<ButtonBuilder>().addComponents(
    new ButtonBuilder().setCustomId(notARepostCustomId(finding, posterId)).setLabel("Not a repost").setStyle(ButtonStyle.Secondary),
  );
}

/** Alerts remembered for taking down: the most recent ones (older reposts are rarely deleted). */
const REMEMBERED_ALERTS = 1_000;

export class RepostAlerts {
  /** Repost message id → the alert posted about it. */
  private readonly posted = new Map<string, Message>();

  constructor(private readonly logger: Logger) {}

  /** The repost was deleted: its alert goes too. */
  async withdraw(repostMessageIds: readonly string[]): Promise<void> {
    for (const id of repostMessageIds) {
      const alert = this.posted.get(id);
      if (!alert) continue;
      this.posted.delete(id);
      await alert.delete().catch((error: unknown) => this.logger.debug({ err: error, messageId: id }, "could not take down an alert"));
    }
  }

  private remember(repostMessageId: string, alert: Message): void {
    this.posted.set(repostMessageId, alert);
    if (this.posted.size > REMEMBERED_ALERTS) this.posted.delete(this.posted.keys().next().value!);
  }

  /** Posts the alert; false if there was nothing to say or Discord refused it (logged). */
  async announce(message: Message<true>, findings: readonly RepostFinding[], settings: RepostSettings): Promise<boolean> {
    // One alert per message: the strongest finding speaks for the rest.
    const finding = strongestFinding(findings);
    if (!finding) return false;
    const action = alertAction(settings);
    try {
      if (action.kind === "react") {
        await message.react("♻️");
      } else if (action.kind === "log") {
        const channel = await message.guild.channels.fetch(action.channelId).catch(() => null);
        if (!channel?.isSendable()) throw new Error(`log channel ${action.channelId} is not available`);
        const alert = await channel.send({
          embeds: [alertEmbed(message.guildId, finding, message)],
          components: [notARepostButton(finding, message.author.id)],
          allowedMentions: { parse: [] },
        });
        this.remember(message.id, alert);
      } else {
        const alert = await message.reply({
          embeds: [alertEmbed(message.guildId, finding)],
          components: [notARepostButton(finding, message.author.id)],
          allowedMentions: { parse: [], repliedUser: false },
        });
        this.remember(message.id, alert);
      }
      return true;
    } catch (error) {
      this.logger.warn({ err: error, messageId: message.id, action: settings.action }, "could not post repost alert");
      return false;
    }
  }
}
