/** Message context menu "Find similar images": look-alikes of the images in a message, answered privately. */
import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  EmbedBuilder,
  InteractionContextType,
  MessageFlags,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from "discord.js";
import { type MessageMenuCommand, type SimilarReply, UserFacingError } from "../bot/command-services.ts";

/** Each image gets an embed and a sheet; Discord allows 10 of each, 4 keeps the reply readable. */
const MAX_IMAGES = 4;

const data = {
  type: ApplicationCommandType.Message,
  name: "Find similar images",
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
} as const satisfies RESTPostAPIContextMenuApplicationCommandsJSONBody;

export const findSimilar: MessageMenuCommand = {
  data,
  async execute(interaction, { search, reportError }) {
    const answered = search.timeAnswer("find_similar");
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const target = interaction.targetMessage;
    const refs = search.imagesIn(target).slice(0, MAX_IMAGES);
    if (refs.length === 0) throw new UserFacingError("That message has no images I can read.");
    const replies: SimilarReply[] = [];
    for (const [index, ref] of refs.entries()) {
      try {
        replies.push(
          await search.lookalikes(interaction, ref, {
            count: 5,
            scope: "server",
            excludeMessageIds: [target.id],
            title: `Look-alikes of ${ref.name}`,
            fileName: `lookalikes-${index + 1}.webp`,
          }),
        );
      } catch (error) {
        // One unreadable image should not hide the answers for the others.
        if (refs.length === 1) throw error;
        const text = reportError(error, { guildId: interaction.guildId, messageId: target.id, image: ref.id });
        replies.push({ embed: new EmbedBuilder().setTitle(ref.name).setDescription(text), file: null });
      }
    }
    await interaction.editReply({
      embeds: replies.map((r) => r.embed),
      files: replies.flatMap((r) => (r.file ? [r.file] : [])),
    });
    answered();
  },
};
