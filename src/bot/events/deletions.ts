/** Deletions in Discord remove the matching rows (and their thumbnails) from the index. */
import type { AnyThreadChannel, DMChannel, Guild, GuildBasedChannel, Message, NonThreadGuildBasedChannel, PartialMessage, Snowflake } from "discord.js";
import type { BotContext } from "../context.ts";

export async function onMessageDelete(message: Message | PartialMessage, context: BotContext): Promise<void> {
  if (!message.guildId) return;
  const removed = await (await context.engine.collection(message.guildId)).delete({ messageIds: [message.id] });
  if (removed > 0) context.logger.info({ guildId: message.guildId, messageId: message.id, removed }, "deleted message's images removed");
}

export async function onMessageDeleteBulk(
  messages: ReadonlyMap<Snowflake, unknown>,
  channel: { guildId: string | null },
  context: BotContext,
): Promise<void> {
  if (!channel.guildId) return;
  const table = await context.engine.collection(channel.guildId);
  const ids = [...messages.keys()];
  // Bulk deletes come in up to 100 ids; a bounded IN list per call.
  let removed = 0;
  for (let i = 0; i < ids.length; i += 100) removed += await table.delete({ messageIds: ids.slice(i, i + 100) });
  context.logger.info({ guildId: channel.guildId, messages: ids.length, removed }, "bulk-deleted messages' images removed");
}

export async function onChannelDelete(channel: DMChannel | NonThreadGuildBasedChannel | GuildBasedChannel | AnyThreadChannel, context: BotContext): Promise<void> {
  if (!("guildId" in channel) || !channel.guildId) return;
  const table = await context.engine.collection(channel.guildId);
  // A channel's threads go with it: their rows carry the channel as parent.
  const removed = (await table.delete({ channelIds: [channel.id] })) + (await table.delete({ parentIds: [channel.id] }));
  await context.state.update(channel.guildId, (state) => {
    delete state.backfill.checkpoints[channel.id];
  });
  context.logger.info({ guildId: channel.guildId, channelId: channel.id, removed }, "deleted channel's images removed");
}

export async function onGuildDelete(guild: Guild, context: BotContext): Promise<void> {
  // discord.js reports an outage as guildUnavailable, so this is a real removal: forget the server.
  context.backfill.cancel(guild.id);
  await context.engine.dropCollection(guild.id);
  await context.state.remove(guild.id);
  context.logger.info({ guildId: guild.id }, "removed from server: its index and settings were deleted");
}
