/** Discord's message link; opening it needs access to the channel, so it reveals nothing by itself. */
export function jumpLink(guildId: string, channelId: string | null | undefined, messageId: string | null | undefined): string | null {
  if (!channelId || !messageId) return null;
  return `https://discord.com/channels/${guildId}/${channelId}/${messageId}`;
}
