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
  PermissionFlagsBits,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import { UserFacingError } from "../bot/errors.ts";
import { REPOST_ACTIONS, SENSITIVITIES, type RepostSettings } from "../bot/guild-state.ts";
import type { SlashCommand } from "./types.ts";

const TEXT_CHANNELS = [ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.GuildForum, ChannelType.GuildMedia] as const;

const data = {
  type: ApplicationCommandType.ChatInput,
  name: "repost",
  description: "Repost detection for this server",
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  default_member_permissions: String(PermissionFlagsBits.ManageGuild),
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
          choices: [
            { name: "reply under the repost", value: "reply" },
            { name: "react with ♻️", value: "react" },
            { name: "post in a log channel", value: "log" },
          ],
        },
        { type: ApplicationCommandOptionType.Channel, name: "log_channel", description: "Where the log action posts", channel_types: [ChannelType.GuildText] },
        {
          type: ApplicationCommandOptionType.String,
          name: "sensitivity",
          description: "How alike two images must be",
          choices: [
            { name: "strict (fewest false alarms)", value: "strict" },
            { name: "balanced (default)", value: "balanced" },
            { name: "loose (catches heavier edits)", value: "loose" },
          ],
        },
        { type: ApplicationCommandOptionType.Channel, name: "ignore_channel", description: "Stop checking this channel", channel_types: [...TEXT_CHANNELS] },
        { type: ApplicationCommandOptionType.Channel, name: "unignore_channel", description: "Check this channel again", channel_types: [...TEXT_CHANNELS] },
        { type: ApplicationCommandOptionType.Integer, name: "lookback_days", description: "Only earlier posts this recent count (0 = all)", min_value: 0, max_value: 3650 },
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
    { name: "Action", value: settings.action + (settings.action === "log" ? ` → ${settings.logChannelId ? channelMention(settings.logChannelId) : "(no channel set)"}` : ""), inline: true },
    { name: "Sensitivity", value: settings.sensitivity, inline: true },
    { name: "Ignored channels", value: ignored, inline: false },
    { name: "Look back", value: settings.lookbackDays === 0 ? "all history" : `${settings.lookbackDays} days`, inline: true },
    { name: "Same-author window", value: settings.sameAuthorWindowHours === 0 ? "off" : `${settings.sameAuthorWindowHours} h`, inline: true },
  );
}

export const repost: SlashCommand = {
  data,
  async execute(interaction, { state }) {
    // Discord hides the command from others by default_member_permissions, but servers can change that.
    if (!interaction.memberPermissions.has(PermissionFlagsBits.ManageGuild)) {
      throw new UserFacingError("You need the Manage Server permission to change repost settings.");
    }
    const options = interaction.options;
    const action = options.getString("action") as (typeof REPOST_ACTIONS)[number] | null;
    const logChannel = options.getChannel("log_channel");
    if (action === "log" && !logChannel && !(await state.get(interaction.guildId)).settings.logChannelId) {
      throw new UserFacingError("Choose a `log_channel` for the log action.");
    }
    const updated = await state.update(interaction.guildId, ({ settings }) => {
      const enabled = options.getBoolean("enabled");
      if (enabled !== null) settings.enabled = enabled;
      if (action) settings.action = action;
      if (logChannel) settings.logChannelId = logChannel.id;
      const sensitivity = options.getString("sensitivity") as (typeof SENSITIVITIES)[number] | null;
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
    await interaction.reply({ embeds: [describe(updated.settings)], flags: MessageFlags.Ephemeral });
  },
};
