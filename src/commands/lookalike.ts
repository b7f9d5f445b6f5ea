/** `/lookalike forget-me | remember-me | stats`: a member's opt-out, and what the index holds. */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  EmbedBuilder,
  InteractionContextType,
  MessageFlags,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  TimestampStyles,
  time,
} from "discord.js";
import { describeShard, type ServerStats, type SlashCommand } from "../bot/command-services.ts";
import { bySubcommand, type SubcommandHandler, type SubcommandName } from "./options.ts";

const data = {
  type: ApplicationCommandType.ChatInput,
  name: "lookalike",
  description: "Your images in Lookalike's index, and what it knows about this server",
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "forget-me",
      description: "Remove all your images from this server's index and stop indexing them",
    },
    { type: ApplicationCommandOptionType.Subcommand, name: "remember-me", description: "Index your images again from now on" },
    { type: ApplicationCommandOptionType.Subcommand, name: "stats", description: "Images indexed, channels covered, last backfill, queue" },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const subcommands: Record<SubcommandName<typeof data>, SubcommandHandler> = {
  async "forget-me"(interaction, { members }) {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const removed = await members.forget(interaction.guildId, interaction.user.id);
    await interaction.editReply(
      `Done: ${removed} of your image${removed === 1 ? "" : "s"} removed from this server's index, and new ones will not be indexed. ` +
        "Use `/lookalike remember-me` to change your mind.",
    );
  },
  async "remember-me"(interaction, { members }) {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    await members.remember(interaction.guildId, interaction.user.id);
    await interaction.editReply("Your new images will be indexed again. (Earlier ones can be added back by a moderator's `/index`.)");
  },
  async stats(interaction, { stats }) {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    await interaction.editReply({ embeds: [statsEmbed(await stats(interaction.guildId))] });
  },
};

export const lookalike: SlashCommand = { data, execute: bySubcommand(subcommands) };

function statsEmbed({
  images,
  channels,
  lastBackfill,
  backlog,
  model,
  repost,
  whitening,
  whiteningMinRows,
  shard,
}: ServerStats): EmbedBuilder {
  const when = (date: Date | null) => (date ? time(date, TimestampStyles.RelativeTime) : "never");
  const embed = new EmbedBuilder().setTitle("Lookalike in this server").addFields(
    { name: "Images indexed", value: String(images), inline: true },
    { name: "Channels covered", value: String(channels), inline: true },
    { name: "Last backfill", value: `started ${when(lastBackfill.startedAt)}, finished ${when(lastBackfill.finishedAt)}`, inline: false },
    {
      name: "Backlog",
      value:
        `${backlog.background} images waiting or being indexed (limit ${backlog.limit}), ` +
        `${backlog.interactive} searches, ${backlog.channelsCatchingUp} channels catching up`,
      inline: false,
    },
    { name: "Model", value: `${model.id} · ${model.descriptor}`, inline: true },
    { name: "Repost detection", value: repost.enabled ? `on (${repost.action}, ${repost.sensitivity})` : "off", inline: true },
    {
      name: "Repost metric",
      value: whitening
        ? `learned from this server's images (${whitening.rows}, ${time(whitening.fittedAt, TimestampStyles.RelativeTime)})`
        : `plain cosine until ${whiteningMinRows} images are indexed`,
      inline: false,
    },
  );
  // Only a bot with shards says which one serves the server.
  return shard ? embed.addFields({ name: "Shard", value: `${describeShard(shard)} serves this server`, inline: false }) : embed;
}
