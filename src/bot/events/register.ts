/**
 * Wires Discord events to their handlers; a failing handler is logged, never crashes the bot.
 * Interactions go to `onInteraction`: the dispatcher app.ts builds around the command registry.
 */
import { Events, type Interaction } from "discord.js";
import type { BotContext } from "../context.ts";
import { onChannelDelete, onGuildDelete, onMessageDelete, onMessageDeleteBulk } from "./deletions.ts";
import { onMessageCreate } from "./message-create.ts";
import { onMessageUpdate } from "./message-update.ts";

export function registerEvents(context: BotContext, onInteraction: (interaction: Interaction) => Promise<void>): void {
  const { client, logger } = context;
  const guard =
    <A extends unknown[]>(event: string, handler: (...args: [...A, BotContext]) => Promise<void>) =>
    (...args: A) => {
      handler(...args, context).catch((error: unknown) => {
        logger.error({ err: error, event }, "event handler failed");
        context.metrics.error("event_failed");
      });
    };
  client.on(Events.MessageCreate, guard(Events.MessageCreate, onMessageCreate));
  client.on(Events.MessageUpdate, guard(Events.MessageUpdate, onMessageUpdate));
  client.on(Events.MessageDelete, guard(Events.MessageDelete, onMessageDelete));
  client.on(Events.MessageBulkDelete, guard(Events.MessageBulkDelete, onMessageDeleteBulk));
  client.on(Events.ChannelDelete, guard(Events.ChannelDelete, onChannelDelete));
  client.on(Events.ThreadDelete, guard(Events.ThreadDelete, onChannelDelete));
  client.on(Events.GuildDelete, guard(Events.GuildDelete, onGuildDelete));
  client.on(
    Events.InteractionCreate,
    guard<[Interaction]>(Events.InteractionCreate, (interaction) => onInteraction(interaction)),
  );
  client.on(Events.Error, (error) => logger.error({ err: error }, "discord client error"));
  client.on(Events.Warn, (message) => logger.warn(message));
  client.on(Events.ShardDisconnect, () => logger.warn("gateway disconnected; discord.js reconnects"));
  // Every (re)connect may have missed messages: each channel is checked against its checkpoint.
  client.on(Events.ShardReady, () => void context.sync.syncAll());
  client.on(Events.ShardResume, () => void context.sync.syncAll());
  client.on(Events.GuildAvailable, (guild) => void context.sync.syncGuild(guild));
  client.on(Events.GuildCreate, (guild) => void context.sync.syncGuild(guild));
}
