/**
 * Which channels' images a member may see, computed at query time from the guild's roles and
 * permission overwrites (discord.js's `permissionsFor`). Threads follow their parent channel;
 * NSFW channels count only when the question is asked in an NSFW channel.
 */
import { ChannelType, PermissionFlagsBits, type Guild, type GuildBasedChannel, type GuildMember } from "discord.js";

export interface Visibility {
  /** Channel ids whose images (and whose threads' images) the member may be shown. */
  readonly channelIds: string[];
}

function isNsfw(channel: GuildBasedChannel): boolean {
  if ("nsfw" in channel && channel.nsfw) return true;
  const parent = channel.isThread() ? channel.parent : null;
  return Boolean(parent && "nsfw" in parent && parent.nsfw);
}

export function visibleChannels(guild: Guild, member: GuildMember, askedIn: GuildBasedChannel | null): Visibility {
  const nsfwAllowed = askedIn ? isNsfw(askedIn) : false;
  const channelIds: string[] = [];
  for (const channel of guild.channels.cache.values()) {
    // Threads are covered through their parent's id (rows carry parent_id); private threads are never indexed.
    if (channel.isThread() || channel.type === ChannelType.GuildCategory) continue;
    if (!nsfwAllowed && isNsfw(channel)) continue;
    const permissions = channel.permissionsFor(member);
    if (permissions?.has(PermissionFlagsBits.ViewChannel) && permissions.has(PermissionFlagsBits.ReadMessageHistory)) {
      channelIds.push(channel.id);
    }
  }
  return { channelIds };
}
