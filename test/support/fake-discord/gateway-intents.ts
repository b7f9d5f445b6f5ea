import { type APIMessage, GatewayDispatchEvents, GatewayIntentBits } from "discord-api-types/v10";

/**
 * Discord only sends the events a session asked for with intents, and without the privileged
 * Message Content intent it blanks message content, attachments and embeds (except in DMs, when
 * the bot is mentioned, and for the bot's own messages). The fake does the same, so a bot that
 * forgets an intent fails in tests as it would in production.
 */
const GUILD_EVENTS = new Set<string>([
  GatewayDispatchEvents.GuildCreate,
  GatewayDispatchEvents.GuildUpdate,
  GatewayDispatchEvents.GuildDelete,
  GatewayDispatchEvents.ChannelCreate,
  GatewayDispatchEvents.ChannelUpdate,
  GatewayDispatchEvents.ChannelDelete,
  GatewayDispatchEvents.ThreadCreate,
  GatewayDispatchEvents.ThreadUpdate,
  GatewayDispatchEvents.ThreadDelete,
  GatewayDispatchEvents.ThreadListSync,
]);

const MESSAGE_EVENTS = new Set<string>([
  GatewayDispatchEvents.MessageCreate,
  GatewayDispatchEvents.MessageUpdate,
  GatewayDispatchEvents.MessageDelete,
  GatewayDispatchEvents.MessageDeleteBulk,
]);

const REACTION_EVENTS = new Set<string>([GatewayDispatchEvents.MessageReactionAdd, GatewayDispatchEvents.MessageReactionRemove]);

function hasIntent(intents: number, intent: GatewayIntentBits): boolean {
  return (intents & intent) === intent;
}

function requiredIntent(event: string, data: unknown): GatewayIntentBits | null {
  const inGuild = typeof data === "object" && data !== null && "guild_id" in data && Boolean(data.guild_id);
  if (GUILD_EVENTS.has(event)) return GatewayIntentBits.Guilds;
  if (MESSAGE_EVENTS.has(event)) return inGuild ? GatewayIntentBits.GuildMessages : GatewayIntentBits.DirectMessages;
  if (REACTION_EVENTS.has(event)) {
    return inGuild ? GatewayIntentBits.GuildMessageReactions : GatewayIntentBits.DirectMessageReactions;
  }
  return null;
}

/** The payload as this session would receive it, or null when its intents exclude the event. */
export function shapeForIntents(event: string, data: unknown, intents: number, botUserId: string): unknown {
  const intent = requiredIntent(event, data);
  if (intent !== null && !hasIntent(intents, intent)) return null;
  const carriesContent = event === GatewayDispatchEvents.MessageCreate || event === GatewayDispatchEvents.MessageUpdate;
  if (!carriesContent || hasIntent(intents, GatewayIntentBits.MessageContent)) return data;
  return withoutContentUnlessExempt(data as APIMessage & { guild_id?: string }, botUserId);
}

function withoutContentUnlessExempt(message: APIMessage & { guild_id?: string }, botUserId: string): APIMessage {
  const isDirectMessage = !message.guild_id;
  const isOwn = message.author.id === botUserId;
  const mentionsBot = message.mentions.some((user) => user.id === botUserId);
  if (isDirectMessage || isOwn || mentionsBot) return message;
  const { poll: _poll, ...rest } = message;
  return {
    ...rest,
    content: "",
    embeds: [],
    attachments: [],
    components: [],
    ...(message.message_snapshots ? { message_snapshots: [] } : {}),
  };
}
