/**
 * The "Not a repost" button under an alert: the poster or a moderator records the pair so it is
 * never flagged again, and the alert goes away.
 */
import { MessageFlags, PermissionFlagsBits } from "discord.js";
import { UserFacingError } from "../bot/errors.ts";
import { NOT_A_REPOST_PREFIX, parseNotARepostCustomId } from "../bot/services/repost-alerts.ts";
import type { ButtonHandler } from "./types.ts";

export const notARepost: ButtonHandler = {
  prefix: NOT_A_REPOST_PREFIX,
  async execute(interaction, { index, metrics }) {
    const parsed = parseNotARepostCustomId(interaction.customId);
    if (!parsed) throw new UserFacingError("This button is out of date.");
    const isModerator = interaction.memberPermissions.has(PermissionFlagsBits.ManageMessages);
    if (!isModerator && interaction.user.id !== parsed.posterId) {
      throw new UserFacingError("Only the person who posted the image or a moderator can say it is not a repost.");
    }
    if (await index.markNotARepost(interaction.guildId, parsed.imageId, parsed.originalId)) metrics.notARepostMarked();
    await interaction.reply({ content: "Thanks — I won't flag that pair again.", flags: MessageFlags.Ephemeral });
    await interaction.message.delete().catch(() => undefined);
  },
};
