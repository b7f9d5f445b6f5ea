import { type APIOverwrite, OverwriteType, PermissionFlagsBits } from "discord-api-types/v10";
import type { StoredGuild, StoredMember } from "./state.ts";

/** Every permission bit Discord defines (what an owner or Administrator has). */
export const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((all, bit) => all | bit, 0n);

/** What a bot like Lookalike is normally invited with: read history, answer, attach, react. */
export const DEFAULT_BOT_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseApplicationCommands;

/** Close to what a new server grants @everyone. */
export const DEFAULT_EVERYONE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseApplicationCommands;

/** Without Send Messages, Discord also withholds these (its "implicit permissions" rule). */
const NEEDS_SEND_MESSAGES =
  PermissionFlagsBits.MentionEveryone |
  PermissionFlagsBits.SendTTSMessages |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.EmbedLinks;

export function hasPermission(permissions: bigint, needed: bigint): boolean {
  return (permissions & needed) === needed;
}

/** Guild-level permissions: @everyone plus every role of the member. */
export function basePermissions(guild: StoredGuild, member: StoredMember): bigint {
  if (guild.ownerId === member.user.id) return ALL_PERMISSIONS;
  const roleIds = [guild.id, ...member.roles];
  let permissions = 0n;
  for (const roleId of roleIds) permissions |= BigInt(guild.roles.get(roleId)?.permissions ?? "0");
  return hasPermission(permissions, PermissionFlagsBits.Administrator) ? ALL_PERMISSIONS : permissions;
}

/**
 * Discord's documented order: @everyone overwrite, then all role overwrites together (deny then
 * allow), then the member's own overwrite. Without View Channel nothing else counts.
 */
export function channelPermissions(guild: StoredGuild, member: StoredMember, overwrites: readonly APIOverwrite[]): bigint {
  let permissions = basePermissions(guild, member);
  if (permissions === ALL_PERMISSIONS) return permissions;

  const apply = (selected: readonly APIOverwrite[]) => {
    const deny = selected.reduce((bits, overwrite) => bits | BigInt(overwrite.deny), 0n);
    const allow = selected.reduce((bits, overwrite) => bits | BigInt(overwrite.allow), 0n);
    permissions = (permissions & ~deny) | allow;
  };
  apply(overwrites.filter((overwrite) => overwrite.id === guild.id));
  apply(overwrites.filter((overwrite) => overwrite.type === OverwriteType.Role && member.roles.includes(overwrite.id)));
  apply(overwrites.filter((overwrite) => overwrite.type === OverwriteType.Member && overwrite.id === member.user.id));

  if (!hasPermission(permissions, PermissionFlagsBits.ViewChannel)) return 0n;
  if (!hasPermission(permissions, PermissionFlagsBits.SendMessages)) permissions &= ~NEEDS_SEND_MESSAGES;
  return permissions;
}
