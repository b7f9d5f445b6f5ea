/** Deletions in Discord remove the matching rows (and their thumbnails) through the server's GuildIndex. */
import type {
  AnyThreadChannel,
  DMChannel,
  Guild,
  GuildBasedChannel,
  Message,
  NonThreadGuildBasedChannel,
  PartialMessage,
  Snowflake,
} from "discord.js";
import type { BotContext } from "../context.ts";

export async function onMessageDelete(message: Message | PartialMessage, context: BotContext): Promise<void> {
  if (!message.guildId) return;
  const [removed] = await Promise.all([context.index.deleteMessages(message.guildId, [message.id]), context.alerts.withdraw([message.id])]);
  if (removed > 0) context.logger.info({ guildId: message.guildId, messageId: message.id, removed }, "deleted message's images removed");
}

export async function onMessageDeleteBulk(
  messages: ReadonlyMap<Snowflake, unknown>,
  channel: { guildId: string | null },
  context: BotContext,
): Promise<void> {
  if (!channel.guildId) return;
  const ids = [...messages.keys()];
  const [removed] = await Promise.all([context.index.deleteMessages(channel.guildId, ids), context.alerts.withdraw(ids)]);
  context.logger.info({ guildId: channel.guildId, messages: ids.length, removed }, "bulk-deleted messages' images removed");
}

export async function onChannelDelete(
  channel: DMChannel | NonThreadGuildBasedChannel | GuildBasedChannel | AnyThreadChannel,
  context: BotContext,
): Promise<void> {
  if (!("guildId" in channel) || !channel.guildId) return;
  context.sync.forgetChannel(channel.guildId, channel.id);
  // A channel's threads go with it: their rows carry the channel as parent.
  const removed = await context.index.deleteChannel(channel.guildId, channel.id);
  context.logger.info({ guildId: channel.guildId, channelId: channel.id, removed }, "deleted channel's images removed");
}

export async function onGuildDelete(guild: Guild, context: BotContext): Promise<void> {
  // discord.js reports an outage as guildUnavailable, so this is a real removal: forget the server.
  context.backfill.cancel(guild.id);
  context.sync.forgetGuild(guild.id);
  await context.index.dropServer(guild.id);
  context.logger.info({ guildId: guild.id }, "removed from server: its index and settings were deleted");
}
