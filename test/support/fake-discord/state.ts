import {
  type APIGuildMember,
  type APIMessage,
  type APIOverwrite,
  type APIRole,
  type APIThreadMetadata,
  type APIUser,
  ChannelType,
} from "discord-api-types/v10";
import { discordErrors } from "./errors.ts";
import { channelPermissions } from "./permissions.ts";
import { compareSnowflakes, type SnowflakeGenerator } from "./snowflake.ts";

export type StoredMember = APIGuildMember & { user: APIUser };

export interface StoredGuild {
  id: string;
  name: string;
  ownerId: string;
  /** When the bot joined: discord.js exposes it as `guild.joinedAt`. */
  joinedAt: string;
  roles: Map<string, APIRole>;
  members: Map<string, StoredMember>;
}

/**
 * One shape for every guild channel the fake knows (text, announcement, category, forum,
 * threads). Fields that do not apply to a kind are left out, as Discord does, because
 * discord.js decides some things by the presence of a field.
 */
export interface StoredChannel {
  id: string;
  type: ChannelType;
  guild_id: string;
  name: string;
  parent_id: string | null;
  nsfw?: boolean;
  position?: number;
  topic?: string | null;
  permission_overwrites?: APIOverwrite[];
  last_message_id?: string | null;
  rate_limit_per_user?: number;
  flags: number;
  // threads only
  owner_id?: string;
  thread_metadata?: APIThreadMetadata;
  message_count?: number;
  member_count?: number;
  total_message_sent?: number;
}

const THREAD_TYPES = new Set<ChannelType>([ChannelType.PublicThread, ChannelType.PrivateThread, ChannelType.AnnouncementThread]);

export function isThread(channel: StoredChannel): boolean {
  return THREAD_TYPES.has(channel.type);
}

export function isActiveThread(channel: StoredChannel): boolean {
  return isThread(channel) && channel.thread_metadata?.archived !== true;
}

/**
 * Everything the fake Discord "knows": users, guilds, channels and message history. Pure data
 * with lookups that throw Discord's own errors, so REST routes stay short. Nothing here talks
 * to the gateway; the FakeDiscord facade decides what to dispatch.
 */
export class FakeDiscordState {
  readonly users = new Map<string, APIUser>();
  readonly guilds = new Map<string, StoredGuild>();
  readonly channels = new Map<string, StoredChannel>();
  /** Per channel, sorted by id ascending (oldest first). */
  readonly #messages = new Map<string, APIMessage[]>();

  constructor(
    readonly ids: SnowflakeGenerator,
    readonly botUser: APIUser,
    readonly applicationId: string,
  ) {
    this.users.set(botUser.id, botUser);
  }

  requireGuild(guildId: string): StoredGuild {
    const guild = this.guilds.get(guildId);
    if (!guild) throw discordErrors.unknownGuild();
    return guild;
  }

  requireChannel(channelId: string): StoredChannel {
    const channel = this.channels.get(channelId);
    if (!channel) throw discordErrors.unknownChannel();
    return channel;
  }

  requireMember(guildId: string, userId: string): StoredMember {
    const member = this.requireGuild(guildId).members.get(userId);
    if (!member) throw discordErrors.unknownMember();
    return member;
  }

  requireUser(userId: string): APIUser {
    const user = this.users.get(userId);
    if (!user) throw discordErrors.unknownUser();
    return user;
  }

  requireMessage(channelId: string, messageId: string): APIMessage {
    const message = this.messages(channelId).find((candidate) => candidate.id === messageId);
    if (!message) throw discordErrors.unknownMessage();
    return message;
  }

  channelsOfGuild(guildId: string): StoredChannel[] {
    return [...this.channels.values()].filter((channel) => channel.guild_id === guildId);
  }

  threadsOf(parentId: string): StoredChannel[] {
    return [...this.channels.values()].filter((channel) => isThread(channel) && channel.parent_id === parentId);
  }

  /** Permissions of a user in a channel; threads use their parent's overwrites, as on Discord. */
  permissionsIn(channelId: string, userId: string): bigint {
    const channel = this.requireChannel(channelId);
    const guild = this.requireGuild(channel.guild_id);
    const member = guild.members.get(userId);
    if (!member) return 0n;
    const overwriteSource = isThread(channel) && channel.parent_id ? this.channels.get(channel.parent_id) : channel;
    return channelPermissions(guild, member, overwriteSource?.permission_overwrites ?? []);
  }

  botPermissionsIn(channelId: string): bigint {
    return this.permissionsIn(channelId, this.botUser.id);
  }

  /** Oldest first. The returned array is the live store: do not mutate it. */
  messages(channelId: string): readonly APIMessage[] {
    return this.#messages.get(channelId) ?? [];
  }

  insertMessage(message: APIMessage): void {
    const list = this.#messages.get(message.channel_id) ?? [];
    this.#messages.set(message.channel_id, list);
    const last = list.at(-1);
    // History is usually appended in order; seeding backdated messages needs a sorted insert.
    if (!last || compareSnowflakes(last.id, message.id) < 0) list.push(message);
    else {
      const position = list.findIndex((existing) => compareSnowflakes(existing.id, message.id) > 0);
      list.splice(position, 0, message);
    }
    const channel = this.channels.get(message.channel_id);
    if (!channel) return;
    if (compareSnowflakes(message.id, channel.last_message_id ?? "0") > 0) channel.last_message_id = message.id;
    if (channel.message_count !== undefined) channel.message_count += 1;
    if (channel.total_message_sent !== undefined) channel.total_message_sent += 1;
  }

  replaceMessage(message: APIMessage): void {
    const list = this.#messages.get(message.channel_id) ?? [];
    const position = list.findIndex((existing) => existing.id === message.id);
    if (position < 0) throw discordErrors.unknownMessage();
    list[position] = message;
  }

  removeMessage(channelId: string, messageId: string): APIMessage {
    const list = this.#messages.get(channelId) ?? [];
    const position = list.findIndex((existing) => existing.id === messageId);
    if (position < 0) throw discordErrors.unknownMessage();
    const [removed] = list.splice(position, 1);
    return removed as APIMessage;
  }

  /** Removes a channel with its threads and their history; returns everything removed. */
  removeChannel(channelId: string): StoredChannel[] {
    const channel = this.requireChannel(channelId);
    const removed = [channel, ...this.threadsOf(channelId)];
    for (const gone of removed) {
      this.channels.delete(gone.id);
      this.#messages.delete(gone.id);
    }
    return removed;
  }

  removeGuild(guildId: string): StoredGuild {
    const guild = this.requireGuild(guildId);
    for (const channel of this.channelsOfGuild(guildId)) {
      this.channels.delete(channel.id);
      this.#messages.delete(channel.id);
    }
    this.guilds.delete(guildId);
    return guild;
  }
}
