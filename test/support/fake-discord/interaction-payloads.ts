import { randomBytes } from "node:crypto";
import {
  type APIApplicationCommandInteractionDataOption,
  type APIAttachment,
  type APIInteraction,
  type APIInteractionDataResolved,
  type APIInteractionDataResolvedChannel,
  type APIInteractionDataResolvedGuildMember,
  type APIMessage,
  type APIRole,
  type APIUser,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ComponentType,
  InteractionContextType,
  InteractionType,
  Locale,
} from "discord-api-types/v10";
import type { CommandRegistry } from "./command-registry.ts";
import { toApiChannel } from "./gateway-payloads.ts";
import type { FakeDiscordState, StoredChannel } from "./state.ts";

/** One option of a slash command as the user filled it in; `resolved` data is derived from it. */
export type CommandOptionInput =
  | { name: string; value: string | number | boolean; type?: ApplicationCommandOptionType }
  | { name: string; attachment: APIAttachment }
  | { name: string; user: APIUser }
  | { name: string; channel: StoredChannel }
  | { name: string; role: APIRole }
  | { name: string; subcommand: CommandOptionInput[] };

export interface CommandInvocation {
  name: string;
  channelId: string;
  /** Default: the fake's default user. */
  user?: APIUser;
  /** Default ChatInput (slash command). */
  type?: ApplicationCommandType.ChatInput | ApplicationCommandType.Message | ApplicationCommandType.User;
  options?: CommandOptionInput[];
  /** Message commands: the message right-clicked (an id is looked up in the channel). */
  targetMessage?: APIMessage | string;
  /** User commands: the user right-clicked. */
  targetUser?: APIUser;
  locale?: Locale;
}

export interface ComponentInvocation {
  /** The message carrying the component (usually the bot's reply). */
  message: APIMessage;
  customId: string;
  /** Default: the fake's default user. */
  user?: APIUser;
  /** Default Button. */
  componentType?: ComponentType;
  /** For select menus. */
  values?: string[];
  locale?: Locale;
}

export interface InteractionContext {
  state: FakeDiscordState;
  commands: CommandRegistry;
  defaultUser: APIUser;
}

/** Message commands resolve the target message besides the usual users/members/channels. */
type ResolvedData = APIInteractionDataResolved & { messages?: Record<string, APIMessage> };

/** What option conversion needs: where the command runs and who ran it (for resolved permissions). */
interface OptionScope {
  context: InteractionContext;
  channel: StoredChannel;
  invokerId: string;
}

/** Discord's default upload limit for servers without boosts. */
const ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024;

export function buildCommandInteraction(context: InteractionContext, invocation: CommandInvocation): APIInteraction {
  const { state, commands } = context;
  const type = invocation.type ?? ApplicationCommandType.ChatInput;
  const channel = state.requireChannel(invocation.channelId);
  const resolved: ResolvedData = {};
  const scope: OptionScope = { context, channel, invokerId: (invocation.user ?? context.defaultUser).id };
  const commandId = commands.find(invocation.name, type, channel.guild_id)?.id ?? state.ids.next();
  const data: Record<string, unknown> = { id: commandId, name: invocation.name, type, guild_id: channel.guild_id };

  if (type === ApplicationCommandType.ChatInput) {
    data.options = (invocation.options ?? []).map((option) => toOptionData(scope, option, resolved));
  } else if (type === ApplicationCommandType.Message) {
    const target = resolveTargetMessage(state, channel.id, invocation.targetMessage);
    data.target_id = target.id;
    resolved.messages = { [target.id]: target };
  } else {
    const target = invocation.targetUser ?? context.defaultUser;
    data.target_id = target.id;
    addResolvedUser(scope, target, resolved);
  }
  data.resolved = resolved;
  return baseInteraction(context, InteractionType.ApplicationCommand, channel, invocation.user, invocation.locale, data);
}

export function buildComponentInteraction(context: InteractionContext, invocation: ComponentInvocation): APIInteraction {
  const channel = context.state.requireChannel(invocation.message.channel_id);
  const data = {
    custom_id: invocation.customId,
    component_type: invocation.componentType ?? ComponentType.Button,
    ...(invocation.values ? { values: invocation.values } : {}),
  };
  const payload = baseInteraction(context, InteractionType.MessageComponent, channel, invocation.user, invocation.locale, data);
  return { ...payload, message: invocation.message } as APIInteraction;
}

function baseInteraction(
  { state, defaultUser }: InteractionContext,
  type: InteractionType,
  channel: StoredChannel,
  invoker: APIUser | undefined,
  locale: Locale | undefined,
  data: unknown,
): APIInteraction {
  const user = invoker ?? defaultUser;
  const member = state.requireMember(channel.guild_id, user.id);
  const guild = state.requireGuild(channel.guild_id);
  return {
    id: state.ids.next(),
    application_id: state.applicationId,
    type,
    data,
    guild: { id: guild.id, features: [], locale: Locale.EnglishUS },
    guild_id: guild.id,
    channel: toApiChannel(channel),
    channel_id: channel.id,
    member: { ...member, permissions: state.permissionsIn(channel.id, user.id).toString() },
    // Tokens are opaque strings; discord.js puts them in webhook URLs.
    token: `fake-token-${randomBytes(24).toString("base64url")}`,
    version: 1,
    app_permissions: state.botPermissionsIn(channel.id).toString(),
    locale: locale ?? Locale.EnglishUS,
    guild_locale: Locale.EnglishUS,
    entitlements: [],
    authorizing_integration_owners: { 0: guild.id },
    context: InteractionContextType.Guild,
    attachment_size_limit: ATTACHMENT_SIZE_LIMIT,
  } as APIInteraction;
}

function toOptionData(scope: OptionScope, option: CommandOptionInput, resolved: ResolvedData): APIApplicationCommandInteractionDataOption {
  const { name } = option;
  if ("subcommand" in option) {
    const options = option.subcommand.map((inner) => toOptionData(scope, inner, resolved));
    return { name, type: ApplicationCommandOptionType.Subcommand, options } as APIApplicationCommandInteractionDataOption;
  }
  if ("attachment" in option) {
    resolved.attachments = { ...resolved.attachments, [option.attachment.id]: option.attachment };
    return { name, type: ApplicationCommandOptionType.Attachment, value: option.attachment.id };
  }
  if ("user" in option) {
    addResolvedUser(scope, option.user, resolved);
    return { name, type: ApplicationCommandOptionType.User, value: option.user.id };
  }
  if ("channel" in option) {
    resolved.channels = { ...resolved.channels, [option.channel.id]: resolvedChannel(scope, option.channel) };
    return { name, type: ApplicationCommandOptionType.Channel, value: option.channel.id };
  }
  if ("role" in option) {
    resolved.roles = { ...resolved.roles, [option.role.id]: option.role };
    return { name, type: ApplicationCommandOptionType.Role, value: option.role.id };
  }
  const type = option.type ?? inferOptionType(option.value);
  return { name, type, value: option.value } as APIApplicationCommandInteractionDataOption;
}

function inferOptionType(value: string | number | boolean): ApplicationCommandOptionType {
  if (typeof value === "boolean") return ApplicationCommandOptionType.Boolean;
  if (typeof value === "number") {
    return Number.isInteger(value) ? ApplicationCommandOptionType.Integer : ApplicationCommandOptionType.Number;
  }
  return ApplicationCommandOptionType.String;
}

function addResolvedUser({ context: { state }, channel }: OptionScope, user: APIUser, resolved: ResolvedData): void {
  resolved.users = { ...resolved.users, [user.id]: user };
  const member = state.guilds.get(channel.guild_id)?.members.get(user.id);
  if (!member) return;
  const { user: _user, ...withoutUser } = member;
  const resolvedMember: APIInteractionDataResolvedGuildMember = {
    ...withoutUser,
    permissions: state.permissionsIn(channel.id, user.id).toString(),
  };
  resolved.members = { ...resolved.members, [user.id]: resolvedMember };
}

function resolvedChannel({ context: { state }, invokerId }: OptionScope, channel: StoredChannel): APIInteractionDataResolvedChannel {
  return {
    id: channel.id,
    name: channel.name,
    type: channel.type,
    permissions: state.permissionsIn(channel.id, invokerId).toString(),
    ...(channel.parent_id ? { parent_id: channel.parent_id } : {}),
    ...(channel.thread_metadata ? { thread_metadata: channel.thread_metadata } : {}),
  } as APIInteractionDataResolvedChannel;
}

function resolveTargetMessage(state: FakeDiscordState, channelId: string, target: APIMessage | string | undefined): APIMessage {
  if (target === undefined) throw new Error("FakeDiscord: a message command needs `targetMessage`");
  return typeof target === "string" ? state.requireMessage(channelId, target) : target;
}
