/** `/similar image:<attachment>`: the server's look-alikes of an uploaded image. */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import { type SimilarScope, type SlashCommand, UserFacingError } from "../bot/command-services.ts";
import { choicesOf, getChoice } from "./options.ts";

const SCOPES = ["server", "channel"] as const satisfies readonly SimilarScope[];
const SCOPE_LABELS: Record<(typeof SCOPES)[number], string> = { server: "whole server", channel: "this channel" };

const data = {
  type: ApplicationCommandType.ChatInput,
  name: "similar",
  description: "Find images in this server that look like the one you attach",
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  options: [
    { type: ApplicationCommandOptionType.Attachment, name: "image", description: "The image to look for", required: true },
    {
      type: ApplicationCommandOptionType.Integer,
      name: "count",
      description: "How many matches (1–10, default 5)",
      min_value: 1,
      max_value: 10,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "scope",
      description: "Where to look (default: the whole server)",
      choices: choicesOf(SCOPES, SCOPE_LABELS),
    },
    { type: ApplicationCommandOptionType.User, name: "author", description: "Only images posted by this member" },
    { type: ApplicationCommandOptionType.Boolean, name: "private", description: "Only you see the answer (default: no)" },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export const similar: SlashCommand = {
  data,
  async execute(interaction, { search }) {
    const answered = search.timeAnswer("similar");
    const ephemeral = interaction.options.getBoolean("private") ?? false;
    // Answer within Discord's 3 seconds; the download and the model take longer.
    await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
    const attachment = interaction.options.getAttachment("image", true);
    if (attachment.contentType && !attachment.contentType.startsWith("image/")) {
      throw new UserFacingError(`\`${attachment.name}\` is not an image (${attachment.contentType}).`);
    }
    const reply = await search.lookalikes(interaction, search.fromAttachment(attachment), {
      count: interaction.options.getInteger("count") ?? 5,
      scope: getChoice(interaction, "scope", SCOPES) ?? "server",
      authorId: interaction.options.getUser("author")?.id ?? null,
      title: `Look-alikes of ${attachment.name}`,
      fileName: "lookalikes.webp",
    });
    await interaction.editReply({ embeds: [reply.embed], files: reply.file ? [reply.file] : [] });
    answered();
  },
};
