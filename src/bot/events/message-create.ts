/** New message: check its images for reposts, alert, then index them. */
import type { Message } from "discord.js";
import type { BotContext } from "../context.ts";
import { MessageIndexer } from "../services/message-indexer.ts";

export async function onMessageCreate(message: Message, context: BotContext): Promise<void> {
  if (!MessageIndexer.indexable(message, context.client.user?.id) || !message.inGuild()) return;
  const outcome = await context.indexer.indexMessage(message, { alerts: true });
  if (outcome.reposts.length > 0) {
    const { settings } = await context.state.get(message.guildId);
    await context.alerts.announce(message, outcome.reposts, settings);
  }
  if (outcome.indexed > 0 || Object.keys(outcome.skipped).length > 0) {
    context.logger.debug({ messageId: message.id, ...outcome, reposts: outcome.reposts.length }, "message indexed");
  }
}
