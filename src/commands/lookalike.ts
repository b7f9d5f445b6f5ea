/** `/lookalike forget-me | remember-me | stats`: a member's opt-out, and what the index holds. */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  EmbedBuilder,
  InteractionContextType,
  MessageFlags,
  time,
  TimestampStyles,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import type { SlashCommand } from "./types.ts";

const data = {
  type: ApplicationCommandType.ChatInput,
  name: "lookalike",
  description: "Your images in Lookalike's index, and what it knows about this server",
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  options: [
    { type: ApplicationCommandOptionType.Subcommand, name: "forget-me", description: "Remove all your images from this server's index and stop indexing them" },
    { type: ApplicationCommandOptionType.Subcommand, name: "remember-me", description: "Index your images again from now on" },
    { type: ApplicationCommandOptionType.Subcommand, name: "stats", description: "Images indexed, channels covered, last backfill, queue" },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export const lookalike: SlashCommand = {
  data,
  async execute(interaction, { engine, state, pipeline, config, index, sync }) {
    const guildId = interaction.guildId;
    const userId = interaction.user.id;
    const subcommand = interaction.options.getSubcommand(true);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    if (subcommand === "forget-me") {
      const removed = await index.forgetAuthor(guildId, userId);
      await interaction.editReply(
        `Done: ${removed} of your image${removed === 1 ? "" : "s"} removed from this server's index, and new ones will not be indexed. ` +
          "Use `/lookalike remember-me` to change your mind.",
      );
    } else if (subcommand === "remember-me") {
      await index.rememberAuthor(guildId, userId);
      await interaction.editReply("Your new images will be indexed again. (Earlier ones can be added back by a moderator's `/index`.)");
    } else {
      const [stats, guildState, whitening] = await Promise.all([index.stats(guildId), state.get(guildId), engine.whitening(guildId)]);
      const { lastStartedAt, lastFinishedAt } = guildState.backfill;
      const queues = pipeline.depths;
      const when = (iso: string | null) => (iso ? time(new Date(iso), TimestampStyles.RelativeTime) : "never");
      const embed = new EmbedBuilder().setTitle("Lookalike in this server").addFields(
        { name: "Images indexed", value: String(stats.images), inline: true },
        { name: "Channels covered", value: String(stats.channels), inline: true },
        { name: "Last backfill", value: `started ${when(lastStartedAt)}, finished ${when(lastFinishedAt)}`, inline: false },
        {
          name: "Backlog",
          value:
            `${queues.background} images waiting or being indexed (limit ${config.queueLimit}), ` +
            `${queues.interactive} searches, ${sync.backlog} channels catching up`,
          inline: false,
        },
        { name: "Model", value: `${config.modelId} · ${engine.store.space.descriptor}`, inline: true },
        { name: "Repost detection", value: guildState.settings.enabled ? `on (${guildState.settings.action}, ${guildState.settings.sensitivity})` : "off", inline: true },
        {
          name: "Repost metric",
          value: whitening
            ? `learned from this server's images (${whitening.collectionRows}, ${time(whitening.fittedAt, TimestampStyles.RelativeTime)})`
            : `plain cosine until ${engine.whiteningMinRows} images are indexed`,
          inline: false,
        },
      );
      await interaction.editReply({ embeds: [embed] });
    }
  },
};
