/** `/repost settings`: moderators tune repost detection for their server. No options: show the settings. */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ChannelType,
  channelMention,
  EmbedBuilder,
  InteractionContextType,
  MessageFlags,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import {
  defaultMemberPermissions,
  INDEXED_CHANNEL_TYPES,
  REPOST_ACTIONS,
  type RepostAction,
  type RepostSettings,
  SENSITIVITIES,
  type Sensitivity,
  type SlashCommand,
  UserFacingError,
} from "../bot/command-services.ts";
import { choicesOf, getChoice } from "./options.ts";

const requires = { permission: "ManageGuild", to: "change repost settings" } as const;

const ACTION_LABELS: Record<RepostAction, string> = {
  reply: "reply under the repost",
  react: "react with ♻️",
  log: "post in a log channel",
};

const SENSITIVITY_LABELS: Record<Sensitivity, string> = {
  strict: "strict (fewest false alarms)",
  balanced: "balanced (default)",
  loose: "loose (catches heavier edits)",
};

const data = {
  type: ApplicationCommandType.ChatInput,
  name: "repost",
  description: "Repost detection for this server",
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  default_member_permissions: defaultMemberPermissions(requires),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "settings",
      description: "Show or change repost detection settings",
      options: [
        { type: ApplicationCommandOptionType.Boolean, name: "enabled", description: "Detect reposts" },
        {
          type: ApplicationCommandOptionType.String,
          name: "action",
          description: "What to do about a repost",
          choices: choicesOf(REPOST_ACTIONS, ACTION_LABELS),
        },
        {
          type: ApplicationCommandOptionType.Channel,
          name: "log_channel",
          description: "Where the log action posts",
          channel_types: [ChannelType.GuildText],
        },
        {
          type: ApplicationCommandOptionType.String,
          name: "sensitivity",
          description: "How alike two images must be",
          choices: choicesOf(SENSITIVITIES, SENSITIVITY_LABELS),
        },
        {
          type: ApplicationCommandOptionType.Channel,
          name: "ignore_channel",
          description: "Stop checking this channel",
          channel_types: [...INDEXED_CHANNEL_TYPES],
        },
        {
          type: ApplicationCommandOptionType.Channel,
          name: "unignore_channel",
          description: "Check this channel again",
          channel_types: [...INDEXED_CHANNEL_TYPES],
        },
        {
          type: ApplicationCommandOptionType.Integer,
          name: "lookback_days",
          description: "Only earlier posts this recent count (0 = all)",
          min_value: 0,
          max_value: 3650,
        },
        {
          type: ApplicationCommandOptionType.Integer,
          name: "same_author_hours",
          description: "A member's own images within this many hours are not reposts (0 = off)",
          min_value: 0,
          max_value: 720,
        },
      ],
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

function describe(settings: RepostSettings): EmbedBuilder {
  const ignored = settings.ignoredChannelIds.map(channelMention).join(", ") || "none";
  return new EmbedBuilder().setTitle("Repost detection").addFields(
    { name: "Enabled", value: settings.enabled ? "yes" : "no", inline: true },
    {
      name: "Action",
      value:
        settings.action +
        (settings.action === "log" ? ` → ${settings.logChannelId ? channelMention(settings.logChannelId) : "(no channel set)"}` : ""),
      inline: true,
    },
    { name: "Sensitivity", value: settings.sensitivity, inline: true },
    { name: "Ignored channels", value: ignored, inline: false },
    { name: "Look back", value: settings.lookbackDays === 0 ? "all history" : `${settings.lookbackDays} days`, inline: true },
    {
      name: "Same-author window",
      value: settings.sameAuthorWindowHours === 0 ? "off" : `${settings.sameAuthorWindowHours} h`,
      inline: true,
    },
  );
}

export const repost: SlashCommand = {
  data,
  requires,
  async execute(interaction, { repostSettings }) {
    const options = interaction.options;
    const action = getChoice(interaction, "action", REPOST_ACTIONS);
    const sensitivity = getChoice(interaction, "sensitivity", SENSITIVITIES);
    const logChannel = options.getChannel("log_channel");
    if (action === "log" && !logChannel && !(await repostSettings.get(interaction.guildId)).logChannelId) {
      throw new UserFacingError("Choose a `log_channel` for the log action.");
    }
    const updated = await repostSettings.update(interaction.guildId, (settings) => {
      const enabled = options.getBoolean("enabled");
      if (enabled !== null) settings.enabled = enabled;
      if (action) settings.action = action;
      if (logChannel) settings.logChannelId = logChannel.id;
      if (sensitivity) settings.sensitivity = sensitivity;
      const ignore = options.getChannel("ignore_channel");
      if (ignore && !settings.ignoredChannelIds.includes(ignore.id)) settings.ignoredChannelIds.push(ignore.id);
      const unignore = options.getChannel("unignore_channel");
      if (unignore) settings.ignoredChannelIds = settings.ignoredChannelIds.filter((id) => id !== unignore.id);
      const lookback = options.getInteger("lookback_days");
      if (lookback !== null) settings.lookbackDays = lookback;
      const sameAuthor = options.getInteger("same_author_hours");
      if (sameAuthor !== null) settings.sameAuthorWindowHours = sameAuthor;
    });
    await interaction.reply({ embeds: [describe(updated)], flags: MessageFlags.Ephemeral });
  },
};
