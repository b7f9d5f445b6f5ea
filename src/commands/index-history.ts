/**
 * `/index channel | server | status | cancel`: moderators index the images already posted
 * (backfill), watch its progress and stop it. The work runs in the bot's BackfillService; this
 * file only says what may be asked, one handler per subcommand, and puts the answers into words.
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  channelMention,
  InteractionContextType,
  MessageFlags,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  TimestampStyles,
  time,
} from "discord.js";
import {
  type BackfillControl,
  type BackfillStatus,
  defaultMemberPermissions,
  INDEXED_CHANNEL_TYPES,
  type SlashCommand,
  UserFacingError,
} from "../bot/command-services.ts";
import { bySubcommand, type SubcommandHandler, type SubcommandName } from "./options.ts";

const requires = { permission: "ManageMessages", to: "use `/index`" } as const;

const data = {
  type: ApplicationCommandType.ChatInput,
  name: "index",
  description: "Index the images already posted in this server (moderators)",
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  default_member_permissions: defaultMemberPermissions(requires),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "channel",
      description: "Index one channel's history and its public threads",
      options: [
        {
          type: ApplicationCommandOptionType.Channel,
          name: "channel",
          description: "The channel to index",
          required: true,
          channel_types: [...INDEXED_CHANNEL_TYPES],
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "server",
      description: "Index every channel I can read, and their public threads",
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "status",
      description: "Progress of the running backfill, or how the last one ended",
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "cancel",
      description: "Stop the running backfill (the next /index continues it)",
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

/** Status lists at most this many channels, to stay well inside Discord's 2,000 characters. */
const STATUS_CHANNEL_LINES = 15;

/** `/index channel` and `/index server`: start a backfill, answered publicly so other moderators see it. */
function start(which: "channel" | "server"): SubcommandHandler {
  return async (interaction, { backfill }) => {
    backfill.assertIdle(interaction.guildId);
    // The backfill walks the guild's channel list and permissions: it needs the server in the cache.
    if (!interaction.inCachedGuild()) {
      throw new UserFacingError("I can't see this server's channels right now; please try again in a minute.");
    }
    let channelIds: string[] | null = null;
    if (which === "channel") {
      const channel = interaction.options.getChannel("channel", true, [...INDEXED_CHANNEL_TYPES]);
      if (!backfill.canRead(channel)) {
        throw new UserFacingError(`I can't read ${channelMention(channel.id)}: I need View Channel and Read Message History there.`);
      }
      channelIds = [channel.id];
    }
    // Public: other moderators see that a backfill runs. Progress replaces this reply every few seconds.
    await interaction.deferReply();
    await interaction.editReply(backfill.describe(backfill.start(interaction, channelIds)));
  };
}

const subcommands: Record<SubcommandName<typeof data>, SubcommandHandler> = {
  channel: start("channel"),
  server: start("server"),
  async status(interaction, { backfill }) {
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    await interaction.editReply(renderStatus(await backfill.status(interaction.guildId), backfill));
  },
  async cancel(interaction, { backfill }) {
    const cancelled = backfill.cancel(interaction.guildId);
    await interaction.reply({
      content: cancelled
        ? "Stopping the backfill. Its progress is saved: `/index` continues where it stopped."
        : "No backfill is running in this server.",
      flags: MessageFlags.Ephemeral,
    });
  },
};

export const indexHistory: SlashCommand = { data, requires, execute: bySubcommand(subcommands) };

function renderStatus(status: BackfillStatus, backfill: BackfillControl): string {
  if (status.running) return backfill.describe(status.report);
  const { lastStartedAt, lastFinishedAt, channels, imagesInIndex } = status;
  if (!lastStartedAt)
    return `No backfill has run in this server yet. Images in the index: ${imagesInIndex}. Start one with \`/index server\`.`;
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
