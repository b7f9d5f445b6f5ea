import { type APIMessage, type APIPartialEmoji, type ChannelType, GatewayDispatchEvents } from "discord-api-types/v10";
import type { FakeGateway } from "./gateway.ts";
import { gatewayMessage, guildCreatePayload, toApiChannel } from "./gateway-payloads.ts";
import { type FakeDiscordState, isThread, type StoredChannel, type StoredGuild } from "./state.ts";

/**
 * The gateway events Discord sends when something changes, in their exact payload shapes. Both
 * test helpers (a user posts) and REST routes (the bot posts) go through here, so the bot sees
 * its own actions echoed back as it does in production.
 */
export class EventPublisher {
  constructor(
    private readonly state: FakeDiscordState,
    private readonly gateway: FakeGateway,
  ) {}

  messageCreated(message: APIMessage): Promise<number> {
    return this.gateway.dispatch(GatewayDispatchEvents.MessageCreate, gatewayMessage(this.state, message));
  }

  messageUpdated(message: APIMessage): Promise<number> {
    return this.gateway.dispatch(GatewayDispatchEvents.MessageUpdate, gatewayMessage(this.state, message));
  }

  messageDeleted(channelId: string, messageId: string): Promise<number> {
    return this.gateway.dispatch(GatewayDispatchEvents.MessageDelete, {
      id: messageId,
      channel_id: channelId,
      ...this.#guildIdOf(channelId),
    });
  }

  messagesBulkDeleted(channelId: string, messageIds: string[]): Promise<number> {
    return this.gateway.dispatch(GatewayDispatchEvents.MessageDeleteBulk, {
      ids: messageIds,
      channel_id: channelId,
      ...this.#guildIdOf(channelId),
    });
  }

  reactionAdded(message: APIMessage, userId: string, emoji: APIPartialEmoji): Promise<number> {
    return this.gateway.dispatch(GatewayDispatchEvents.MessageReactionAdd, {
      user_id: userId,
      channel_id: message.channel_id,
      message_id: message.id,
      message_author_id: message.author.id,
      emoji,
      burst: false,
      type: 0,
      ...this.#guildIdOf(message.channel_id),
    });
  }

  /** CHANNEL_CREATE, or THREAD_CREATE (flagged newly created) for threads. */
  channelCreated(channel: StoredChannel): Promise<number> {
    if (isThread(channel)) {
      return this.gateway.dispatch(GatewayDispatchEvents.ThreadCreate, { ...toApiChannel(channel), newly_created: true });
    }
    return this.gateway.dispatch(GatewayDispatchEvents.ChannelCreate, toApiChannel(channel));
  }

  /** CHANNEL_DELETE for channels, THREAD_DELETE (with the thread's ids only) for threads. */
  channelDeleted(channel: StoredChannel): Promise<number> {
    if (isThread(channel)) {
      return this.gateway.dispatch(GatewayDispatchEvents.ThreadDelete, {
        id: channel.id,
        guild_id: channel.guild_id,
        parent_id: channel.parent_id,
        type: channel.type as ChannelType,
      });
    }
    return this.gateway.dispatch(GatewayDispatchEvents.ChannelDelete, toApiChannel(channel));
  }

  guildCreated(guild: StoredGuild): Promise<number> {
    return this.gateway.dispatch(GatewayDispatchEvents.GuildCreate, guildCreatePayload(this.state, guild));
  }

  /** Without `unavailable`, GUILD_DELETE means the bot was removed from the guild (or it was deleted). */
  guildDeleted(guildId: string): Promise<number> {
    return this.gateway.dispatch(GatewayDispatchEvents.GuildDelete, { id: guildId });
  }

  interactionCreated(payload: unknown): Promise<number> {
    return this.gateway.dispatch(GatewayDispatchEvents.InteractionCreate, payload);
  }

  #guildIdOf(channelId: string): { guild_id?: string } {
    const guildId = this.state.channels.get(channelId)?.guild_id;
    return guildId ? { guild_id: guildId } : {};
  }
}
