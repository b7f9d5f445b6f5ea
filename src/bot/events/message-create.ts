/** New message: its images are checked for reposts and indexed, or its channel is caught up (channel-sync.ts). */
import type { Message } from "discord.js";
import type { BotContext } from "../context.ts";

export async function onMessageCreate(message: Message, context: BotContext): Promise<void> {
  await context.sync.onMessage(message);
}
