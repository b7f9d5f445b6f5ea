/**
 * Edited message: Discord unfurls image links a moment after posting, delivering the embed in an
 * update. Images already indexed are skipped, new ones go through the same path as a new message.
 */
import type { Message, PartialMessage } from "discord.js";
import type { BotContext } from "../context.ts";
import { imagesInMessage } from "../message-images.ts";

export async function onMessageUpdate(
  _old: Message | PartialMessage,
  updated: Message | PartialMessage,
  context: BotContext,
): Promise<void> {
  if (imagesInMessage(updated).length === 0) return;
  const message = updated.partial ? await updated.fetch().catch(() => null) : updated;
  if (message) await context.sync.onMessage(message);
}
