import {
  type APIChannel,
  type APIGuild,
  type APIGuildMember,
  type APIMessage,
  type ApplicationFlags,
  type GatewayGuildCreateDispatchData,
  type GatewayReadyDispatchData,
  GatewayVersion,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  type GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
} from "discord-api-types/v10";
import { type FakeDiscordState, isActiveThread, isThread, type StoredChannel, type StoredGuild } from "./state.ts";

/**
 * JSON shapes Discord sends, built from the fake's state. The state keeps channels in one loose
 * shape (StoredChannel); this is the one place that presents them as discord-api-types objects.
 */
export function toApiChannel(channel: StoredChannel): APIChannel {
  return structuredClone(channel) as unknown as APIChannel;
}

export function toApiGuild(guild: StoredGuild): APIGuild {
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    banner: null,
    description: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: GuildVerificationLevel.Low,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    explicit_content_filter: GuildExplicitContentFilter.AllMembers,
    roles: [...guild.roles.values()],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: GuildMFALevel.None,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: 0 as GuildSystemChannelFlags,
    rules_channel_id: null,
    vanity_url_code: null,
    premium_tier: GuildPremiumTier.None,
    premium_subscription_count: 0,
    preferred_locale: Locale.EnglishUS,
    public_updates_channel_id: null,
    nsfw_level: GuildNSFWLevel.Default,
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
  };
}

export function guildCreatePayload(state: FakeDiscordState, guild: StoredGuild): GatewayGuildCreateDispatchData {
  const channels = state.channelsOfGuild(guild.id);
  return {
    ...toApiGuild(guild),
    joined_at: guild.joinedAt,
    large: false,
    unavailable: false,
    member_count: guild.members.size,
    voice_states: [],
    members: [...guild.members.values()],
    channels: channels.filter((channel) => !isThread(channel)).map(toApiChannel) as GatewayGuildCreateDispatchData["channels"],
    // Like Discord, only active threads are sent; archived ones come from the archived-thread routes.
    threads: channels.filter(isActiveThread).map(toApiChannel) as GatewayGuildCreateDispatchData["threads"],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

/** READY for a session of `shard`, listing `guildIds` (the guilds routed to that shard). */
export function readyPayload(
  state: FakeDiscordState,
  sessionId: string,
  resumeGatewayUrl: string,
  shard: { id: number; count: number },
  guildIds: readonly string[],
): GatewayReadyDispatchData {
  return {
    v: Number(GatewayVersion),
    user: state.botUser,
    // Every guild starts unavailable; GUILD_CREATE for each follows (discord.js waits for them).
    guilds: guildIds.map((id) => ({ id, unavailable: true })),
    session_id: sessionId,
    resume_gateway_url: resumeGatewayUrl,
    shard: [shard.id, shard.count],
    application: { id: state.applicationId, flags: 0 as ApplicationFlags, flags_new: "0" },
  };
}

/** Gateway message events carry `guild_id` and the author's member (without `user`) in guilds. */
export function gatewayMessage(
  state: FakeDiscordState,
  message: APIMessage,
): APIMessage & {
  guild_id?: string;
  member?: Omit<APIGuildMember, "user">;
} {
  const guildId = state.channels.get(message.channel_id)?.guild_id;
  if (!guildId) return message;
  const member = state.guilds.get(guildId)?.members.get(message.author.id);
  if (!member || message.webhook_id) return { ...message, guild_id: guildId };
  const { user: _user, ...memberWithoutUser } = member;
  return { ...message, guild_id: guildId, member: memberWithoutUser };
}
