/** Message context menu "Find similar images": look-alikes of the images in a message, answered privately. */
import {
  ApplicationCommandType,
  EmbedBuilder,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from "discord.js";
import { userMessage, UserFacingError } from "../bot/errors.ts";
import { imagesInMessage } from "../bot/message-images.ts";
import { askerOf } from "../bot/permissions.ts";
import { buildSimilarReply, type SimilarReply } from "../bot/similar-reply.ts";
import type { MessageMenuCommand } from "./types.ts";

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
  async execute(interaction, { engine, pipeline, metrics }) {
    const answered = metrics.timeSimilar("find_similar");
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const target = interaction.targetMessage;
    const refs = imagesInMessage(target).slice(0, MAX_IMAGES);
    if (refs.length === 0) throw new UserFacingError("That message has no images I can read.");
    const replies: SimilarReply[] = [];
    for (const [index, ref] of refs.entries()) {
      try {
        const image = await pipeline.analyzeRef(ref, { lane: "interactive", flipped: true });
        replies.push(
          await buildSimilarReply(
            engine,
            {
              ...askerOf(interaction),
              image,
              count: 5,
              scope: "server",
              excludeMessageIds: [target.id],
              title: `Look-alikes of ${ref.name}`,
            },
            `lookalikes-${index + 1}.webp`,
          ),
        );
      } catch (error) {
        // One unreadable image should not hide the answers for the others.
        if (refs.length === 1) throw error;
        replies.push({ embed: new EmbedBuilder().setTitle(ref.name).setDescription(userMessage(error).text), file: null });
      }
    }
    await interaction.editReply({
      embeds: replies.map((r) => r.embed),
      files: replies.flatMap((r) => (r.file ? [r.file] : [])),
    });
    answered();
  },
};
