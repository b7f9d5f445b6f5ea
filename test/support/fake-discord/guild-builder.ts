import {
  type APIGuildMember,
  type APIOverwrite,
  type APIRole,
  type APIUser,
  ChannelType,
  GuildMemberFlags,
  OverwriteType,
  type RoleFlags,
  ThreadAutoArchiveDuration,
} from "discord-api-types/v10";
import { DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS } from "./permissions.ts";
import { type FakeDiscordState, isThread, type StoredChannel, type StoredGuild, type StoredMember } from "./state.ts";

export interface RoleSpec {
  id?: string;
  name: string;
  /** Bit set from `PermissionFlagsBits`; default none. */
  permissions?: bigint;
  color?: number;
  /** Integration-managed role, like the one Discord creates for a bot. */
  managed?: boolean;
}

export interface OverwriteSpec {
  /** A role name or id of this guild; `@everyone` means the guild's default role. */
  role?: string;
  /** A user id (member overwrite). Give either `role` or `userId`. */
  userId?: string;
  allow?: bigint;
  deny?: bigint;
}

export interface ThreadSpec {
  id?: string;
  name: string;
  /** Public thread unless true. */
  private?: boolean;
  archived?: boolean;
  /** `thread_metadata.archive_timestamp`; archived-thread listings page by it. Default: now. */
  archivedAt?: Date;
  locked?: boolean;
  /** Default: the fake's default user. */
  ownerId?: string;
}

export interface ChannelSpec {
  id?: string;
  name: string;
  /** Default `ChannelType.GuildText`. */
  type?: ChannelType;
  nsfw?: boolean;
  topic?: string;
  /** Name or id of a category channel listed before this one. */
  parent?: string;
  overwrites?: OverwriteSpec[];
  threads?: ThreadSpec[];
}

export interface MemberSpec {
  user: APIUser;
  /** Role names or ids of this guild. */
  roles?: string[];
  nick?: string;
  joinedAt?: Date;
}

export interface GuildSpec {
  id?: string;
  /** Default `Test Server <n>`. */
  name?: string;
  /** Default: the fake's default user (so the bot is not the owner and permissions matter). */
  ownerId?: string;
  /** Default: one text channel `general`. */
  channels?: ChannelSpec[];
  roles?: RoleSpec[];
  /** Besides the bot and the default user, who are always members. */
  members?: MemberSpec[];
  /** Default: DEFAULT_EVERYONE_PERMISSIONS. */
  everyonePermissions?: bigint;
  /** Permissions of the bot's managed role. Default: DEFAULT_BOT_PERMISSIONS. */
  botPermissions?: bigint;
}

export interface GuildBuilderContext {
  state: FakeDiscordState;
  defaultUser: APIUser;
}

let guildCounter = 0;

/** Builds a guild with Discord's invariants (@everyone role id = guild id, bot role, members) into the state. */
export function buildGuild({ state, defaultUser }: GuildBuilderContext, spec: GuildSpec): StoredGuild {
  guildCounter += 1;
  const guildId = spec.id ?? state.ids.next();
  const now = new Date().toISOString();
  const guild: StoredGuild = {
    id: guildId,
    name: spec.name ?? `Test Server ${guildCounter}`,
    ownerId: spec.ownerId ?? defaultUser.id,
    joinedAt: now,
    roles: new Map(),
    members: new Map(),
  };
  state.guilds.set(guildId, guild);

  const roleSpecs: RoleSpec[] = [
    { id: guildId, name: "@everyone", permissions: spec.everyonePermissions ?? DEFAULT_EVERYONE_PERMISSIONS },
    { name: state.botUser.username, permissions: spec.botPermissions ?? DEFAULT_BOT_PERMISSIONS, managed: true },
    ...(spec.roles ?? []),
  ];
  for (const [position, roleSpec] of roleSpecs.entries()) {
    const role = buildRole(state, roleSpec, position);
    guild.roles.set(role.id, role);
  }
  const botRole = [...guild.roles.values()][1] as APIRole;

  const resolveRole = (nameOrId: string) => findRoleId(guild, nameOrId);
  addMember(guild, { user: state.botUser, roles: [botRole.id] }, resolveRole);
  addMember(guild, { user: defaultUser }, resolveRole);
  for (const memberSpec of spec.members ?? []) addMember(guild, memberSpec, resolveRole);

  const channelSpecs = spec.channels ?? [{ name: "general" }];
  for (const [position, channelSpec] of channelSpecs.entries()) {
    buildChannel({ state, defaultUser }, guild, channelSpec, position);
  }
  return guild;
}

function buildRole(state: FakeDiscordState, spec: RoleSpec, position: number): APIRole {
  const color = spec.color ?? 0;
  return {
    id: spec.id ?? state.ids.next(),
    name: spec.name,
    color,
    colors: { primary_color: color, secondary_color: null, tertiary_color: null },
    hoist: false,
    position,
    permissions: (spec.permissions ?? 0n).toString(),
    managed: spec.managed ?? false,
    mentionable: false,
    flags: 0 as RoleFlags,
  };
}

export function findRoleId(guild: StoredGuild, nameOrId: string): string {
  if (guild.roles.has(nameOrId)) return nameOrId;
  const byName = [...guild.roles.values()].find((role) => role.name === nameOrId);
  if (!byName) throw new Error(`FakeDiscord: guild ${guild.name} has no role named or numbered "${nameOrId}"`);
  return byName.id;
}

export function addMember(
  guild: StoredGuild,
  spec: MemberSpec,
  resolveRole: (nameOrId: string) => string = (nameOrId) => findRoleId(guild, nameOrId),
): StoredMember {
  const member: APIGuildMember & { user: APIUser } = {
    user: spec.user,
    nick: spec.nick ?? null,
    avatar: null,
    banner: null,
    roles: (spec.roles ?? []).map(resolveRole),
    joined_at: (spec.joinedAt ?? new Date()).toISOString(),
    deaf: false,
    mute: false,
    flags: GuildMemberFlags.CompletedOnboarding,
    pending: false,
  };
  guild.members.set(spec.user.id, member);
  return member;
}

export function buildChannel(context: GuildBuilderContext, guild: StoredGuild, spec: ChannelSpec, position: number): StoredChannel {
  const { state } = context;
  const channel: StoredChannel = {
    id: spec.id ?? state.ids.next(),
    type: spec.type ?? ChannelType.GuildText,
    guild_id: guild.id,
    name: spec.name,
    parent_id: spec.parent ? findParentId(state, guild.id, spec.parent) : null,
    nsfw: spec.nsfw ?? false,
    position,
    permission_overwrites: (spec.overwrites ?? []).map((overwrite) => buildOverwrite(guild, overwrite)),
    flags: 0,
    ...(spec.type === ChannelType.GuildCategory ? {} : { topic: spec.topic ?? null, last_message_id: null, rate_limit_per_user: 0 }),
  };
  state.channels.set(channel.id, channel);
  for (const threadSpec of spec.threads ?? []) buildThread(context, channel, threadSpec);
  return channel;
}

export function buildThread({ state, defaultUser }: GuildBuilderContext, parent: StoredChannel, spec: ThreadSpec): StoredChannel {
  const now = new Date().toISOString();
  const thread: StoredChannel = {
    id: spec.id ?? state.ids.next(),
    type: threadTypeFor(parent, spec),
    guild_id: parent.guild_id,
    name: spec.name,
    parent_id: parent.id,
    owner_id: spec.ownerId ?? defaultUser.id,
    last_message_id: null,
    rate_limit_per_user: 0,
    flags: 0,
    message_count: 0,
    member_count: 1,
    total_message_sent: 0,
    thread_metadata: {
      archived: spec.archived ?? false,
      auto_archive_duration: ThreadAutoArchiveDuration.OneDay,
      archive_timestamp: (spec.archivedAt ?? new Date()).toISOString(),
      locked: spec.locked ?? false,
      create_timestamp: now,
      ...(spec.private ? { invitable: true } : {}),
    },
  };
  state.channels.set(thread.id, thread);
  return thread;
}

function threadTypeFor(parent: StoredChannel, spec: ThreadSpec): ChannelType {
  if (spec.private) return ChannelType.PrivateThread;
  return parent.type === ChannelType.GuildAnnouncement ? ChannelType.AnnouncementThread : ChannelType.PublicThread;
}

function findParentId(state: FakeDiscordState, guildId: string, nameOrId: string): string {
  const parent = state
    .channelsOfGuild(guildId)
    .find((channel) => !isThread(channel) && (channel.id === nameOrId || channel.name === nameOrId));
  if (!parent) throw new Error(`FakeDiscord: no channel "${nameOrId}" to use as parent (list it first)`);
  return parent.id;
}

function buildOverwrite(guild: StoredGuild, spec: OverwriteSpec): APIOverwrite {
  const target =
    spec.userId !== undefined
      ? { id: spec.userId, type: OverwriteType.Member }
      : { id: findRoleId(guild, spec.role ?? "@everyone"), type: OverwriteType.Role };
  return { ...target, allow: (spec.allow ?? 0n).toString(), deny: (spec.deny ?? 0n).toString() };
}
