/**
 * The "Not a repost" button under an alert: the poster or a moderator records the pair so it is
 * never flagged again, and the alert goes away.
 */
import { type ButtonInteraction, MessageFlags } from "discord.js";
import {
  type ButtonHandler,
  type InGuild,
  NOT_A_REPOST_PREFIX,
  parseNotARepostCustomId,
  UserFacingError,
} from "../bot/command-services.ts";

const isPoster = (interaction: ButtonInteraction<InGuild>) =>
  parseNotARepostCustomId(interaction.customId)?.posterId === interaction.user.id;

export const notARepost: ButtonHandler = {
  prefix: NOT_A_REPOST_PREFIX,
  requires: {
    permission: "ManageMessages",
    to: "say it is not a repost",
    orElse: { who: "the person who posted the image", is: isPoster },
  },
  async execute(interaction, { notReposts }) {
    const parsed = parseNotARepostCustomId(interaction.customId);
    if (!parsed) throw new UserFacingError("This button is out of date.");
    await notReposts.mark(interaction.guildId, parsed.imageId, parsed.originalId);
    await interaction.reply({ content: "Thanks — I won't flag that pair again.", flags: MessageFlags.Ephemeral });
    await interaction.message.delete().catch(() => undefined);
  },
};
