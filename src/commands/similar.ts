/** `/similar image:<attachment>`: the server's look-alikes of an uploaded image. */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import { UserFacingError } from "../bot/errors.ts";
import { attachmentRef } from "../bot/message-images.ts";
import { askerOf } from "../bot/permissions.ts";
import { buildSimilarReply } from "../bot/similar-reply.ts";
import type { SlashCommand } from "./types.ts";

const data = {
  type: ApplicationCommandType.ChatInput,
  name: "similar",
  description: "Find images in this server that look like the one you attach",
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  options: [
    { type: ApplicationCommandOptionType.Attachment, name: "image", description: "The image to look for", required: true },
    { type: ApplicationCommandOptionType.Integer, name: "count", description: "How many matches (1–10, default 5)", min_value: 1, max_value: 10 },
    {
      type: ApplicationCommandOptionType.String,
      name: "scope",
      description: "Where to look (default: the whole server)",
      choices: [
        { name: "whole server", value: "server" },
        { name: "this channel", value: "channel" },
      ],
    },
    { type: ApplicationCommandOptionType.User, name: "author", description: "Only images posted by this member" },
    { type: ApplicationCommandOptionType.Boolean, name: "private", description: "Only you see the answer (default: no)" },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export const similar: SlashCommand = {
  data,
  async execute(interaction, { engine, pipeline, metrics }) {
    const answered = metrics.timeSimilar("similar");
    const ephemeral = interaction.options.getBoolean("private") ?? false;
    // Answer within Discord's 3 seconds; the download and the model take longer.
    await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
    const attachment = interaction.options.getAttachment("image", true);
    if (attachment.contentType && !attachment.contentType.startsWith("image/")) {
      throw new UserFacingError(`\`${attachment.name}\` is not an image (${attachment.contentType}).`);
    }
    const image = await pipeline.analyzeRef(attachmentRef(attachment), { lane: "interactive", flipped: true });
    const reply = await buildSimilarReply(
      engine,
      {
        ...askerOf(interaction),
        image,
        count: interaction.options.getInteger("count") ?? 5,
        scope: interaction.options.getString("scope") === "channel" ? "channel" : "server",
        authorId: interaction.options.getUser("author")?.id ?? null,
        title: `Look-alikes of ${attachment.name}`,
      },
      "lookalikes.webp",
    );
    await interaction.editReply({ embeds: [reply.embed], files: reply.file ? [reply.file] : [] });
    answered();
  },
};
