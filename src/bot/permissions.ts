/**
 * Which channels' images a member may see, computed at query time from the guild's roles and
 * permission overwrites (discord.js's `permissionsFor`). Threads follow their parent channel;
 * NSFW channels count only when the question is asked in an NSFW channel.
 *
 * The channel the question is asked in always counts (the member is evidently in it). When the
 * guild or the member is not cached (a partial gateway, a REST proxy that drops events), that
 * channel is all that counts: too little is shown rather than too much.
 */
import { type BaseInteraction, ChannelType, type Guild, type GuildBasedChannel, type GuildMember, PermissionFlagsBits } from "discord.js";

export interface Asker {
  readonly guild: Guild | null;
  readonly member: GuildMember | null;
  readonly channelId: string;
}

/** Who is asking, from an interaction in a server (cached or not). */
export function askerOf(interaction: BaseInteraction<"cached" | "raw">): Asker & { readonly guildId: string } {
  return {
    guildId: interaction.guildId,
    guild: interaction.guild,
    member: interaction.inCachedGuild() ? interaction.member : null,
    channelId: interaction.channelId!,
  };
}

function isNsfw(channel: GuildBasedChannel | null | undefined): boolean {
  if (!channel) return false;
  if ("nsfw" in channel && channel.nsfw) return true;
  const parent = channel.isThread() ? channel.parent : null;
  return Boolean(parent && "nsfw" in parent && parent.nsfw);
}

/** The channel itself, or a thread's parent: the id images are filed under for visibility. */
export function baseChannelId(guild: Guild | null, channelId: string): string {
  const channel = guild?.channels.cache.get(channelId);
  return channel?.isThread() ? (channel.parentId ?? channelId) : channelId;
}

export function visibleChannelIds({ guild, member, channelId }: Asker): string[] {
  const here = baseChannelId(guild, channelId);
  const ids = new Set([here]);
  if (!guild || !member) return [...ids];
  const nsfwAllowed = isNsfw(guild.channels.cache.get(channelId));
  for (const channel of guild.channels.cache.values()) {
    // Threads are covered through their parent's id (rows carry parent_id); private threads are never indexed.
    if (channel.isThread() || channel.type === ChannelType.GuildCategory) continue;
    if (!nsfwAllowed && isNsfw(channel)) continue;
    const permissions = channel.permissionsFor(member);
    if (permissions?.has(PermissionFlagsBits.ViewChannel) && permissions.has(PermissionFlagsBits.ReadMessageHistory)) {
      ids.add(channel.id);
    }
  }
  return [...ids];
}
