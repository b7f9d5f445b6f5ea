/**
 * `/index channel | server | status | cancel`: moderators index the images already posted
 * (backfill), watch its progress and stop it. The work runs in BackfillService; this file only
 * checks who may ask and what, and puts the answers into words.
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  channelMention,
  ChannelType,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  time,
  TimestampStyles,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import { UserFacingError } from "../bot/errors.ts";
import type { BackfillStatus } from "../bot/services/backfill.ts";
import { InteractionProgressSink } from "../bot/services/backfill/interaction-sink.ts";
import { renderProgress } from "../bot/services/backfill/progress.ts";
import { canRead } from "../bot/services/backfill/targets.ts";
import type { SlashCommand } from "./types.ts";

const INDEXABLE_CHANNELS = [ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.GuildForum, ChannelType.GuildMedia] as const;

const data = {
  type: ApplicationCommandType.ChatInput,
  name: "index",
  description: "Index the images already posted in this server (moderators)",
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  default_member_permissions: String(PermissionFlagsBits.ManageMessages),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "channel",
      description: "Index one channel's history and its public threads",
      options: [
        { type: ApplicationCommandOptionType.Channel, name: "channel", description: "The channel to index", required: true, channel_types: [...INDEXABLE_CHANNELS] },
      ],
    },
    { type: ApplicationCommandOptionType.Subcommand, name: "server", description: "Index every channel I can read, and their public threads" },
    { type: ApplicationCommandOptionType.Subcommand, name: "status", description: "Progress of the running backfill, or how the last one ended" },
    { type: ApplicationCommandOptionType.Subcommand, name: "cancel", description: "Stop the running backfill (the next /index continues it)" },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

/** Status lists at most this many channels, to stay well inside Discord's 2,000 characters. */
const STATUS_CHANNEL_LINES = 15;

export const indexCommand: SlashCommand = {
  data,
  async execute(interaction, { backfill, logger }) {
    // default_member_permissions is only a default: server admins can grant the command to anyone.
    if (!interaction.memberPermissions.has(PermissionFlagsBits.ManageMessages)) {
      throw new UserFacingError("You need the Manage Messages permission to use `/index`.");
    }
    const guildId = interaction.guildId;
    const subcommand = interaction.options.getSubcommand(true);
    if (subcommand === "status") {
      await interaction.deferReply({ flags: MessageFlags.Ephemeral });
      await interaction.editReply(renderStatus(await backfill.status(guildId)));
      return;
    }
    if (subcommand === "cancel") {
      const cancelled = backfill.cancel(guildId);
      await interaction.reply({
        content: cancelled
          ? "Stopping the backfill. Its progress is saved: `/index` continues where it stopped."
          : "No backfill is running in this server.",
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (backfill.isRunning(guildId)) {
      throw new UserFacingError("A backfill is already running in this server: see `/index status`, or stop it with `/index cancel`.");
    }
    // The backfill walks the guild's channel list and permissions: it needs the server in the cache.
    if (!interaction.inCachedGuild()) {
      throw new UserFacingError("I can't see this server's channels right now; please try again in a minute.");
    }
    let channelIds: string[] | null = null;
    if (subcommand === "channel") {
      const channel = interaction.options.getChannel("channel", true, [...INDEXABLE_CHANNELS]);
      const me = interaction.guild.members.me;
      if (!me || !canRead(channel, me)) {
        throw new UserFacingError(`I can't read ${channelMention(channel.id)}: I need View Channel and Read Message History there.`);
      }
      channelIds = [channel.id];
    }
    // Public: other moderators see that a backfill runs. Progress replaces this reply every few seconds.
    await interaction.deferReply();
    const job = backfill.start(interaction.guild, channelIds, new InteractionProgressSink(interaction, logger));
    await interaction.editReply(renderProgress(job.report()));
  },
};

function renderStatus(status: BackfillStatus): string {
  if (status.running) return renderProgress(status.report);
  const { lastStartedAt, lastFinishedAt, channels, imagesInIndex } = status;
  if (!lastStartedAt) return `No backfill has run in this server yet. Images in the index: ${imagesInIndex}. Start one with \`/index server\`.`;
  const when = (date: Date) => time(date, TimestampStyles.RelativeTime);
  const finished = lastFinishedAt && lastFinishedAt >= lastStartedAt;
  const unfinished = channels.filter(({ checkpoint }) => !checkpoint.done).length;
  const lines = [
    `**Last backfill** started ${when(lastStartedAt)}, ` +
      (finished ? `ended ${when(lastFinishedAt)}` : "did not finish (it continues when I restart)") +
      (unfinished > 0 ? ` · ${unfinished} channel(s) unfinished: \`/index\` continues them` : ""),
    `Images in the index: ${imagesInIndex.toLocaleString("en-US")}`,
  ];
  const sorted = [...channels].sort((a, b) => b.checkpoint.scanned - a.checkpoint.scanned);
  for (const { channelId, checkpoint } of sorted.slice(0, STATUS_CHANNEL_LINES)) {
    lines.push(
      `${checkpoint.done ? "✅" : "⏸️"} ${channelMention(channelId)}: ${checkpoint.scanned.toLocaleString("en-US")} messages, ` +
        `${checkpoint.indexed.toLocaleString("en-US")} images indexed` +
        (checkpoint.skipped > 0 ? `, ${checkpoint.skipped} skipped` : ""),
    );
  }
  if (sorted.length > STATUS_CHANNEL_LINES) lines.push(`… and ${sorted.length - STATUS_CHANNEL_LINES} more`);
  return lines.join("\n");
}
