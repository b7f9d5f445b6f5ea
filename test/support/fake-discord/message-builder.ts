import {
  type APIAttachment,
  type APIEmbed,
  type APIMessage,
  type APIMessageInteractionMetadata,
  type APIMessageReference,
  type APIMessageSnapshot,
  type APIMessageTopLevelComponent,
  type APIUser,
  MessageFlags,
  MessageReferenceType,
  MessageType,
} from "discord-api-types/v10";
import { snowflakeToTimestamp } from "./snowflake.ts";
import type { FakeDiscordState } from "./state.ts";

/** What a test (or the bot, via REST) says about a new message; everything else is filled in. */
export interface MessageSpec {
  /** Default: the fake's default user. */
  author?: APIUser;
  content?: string;
  attachments?: APIAttachment[];
  embeds?: APIEmbed[];
  components?: APIMessageTopLevelComponent[];
  /** Forwarded content; see `forwardOf()`. */
  message_snapshots?: APIMessageSnapshot[];
  /** Makes this a reply (type 19) to that message of the same channel. */
  replyTo?: string;
  /** Raw reference, e.g. a forward; `replyTo` is the short form for replies. */
  message_reference?: APIMessageReference;
  /** Default: users named as `<@id>` in the content, plus the author of the replied message. */
  mentions?: APIUser[];
  type?: MessageType;
  flags?: number;
  /** Backdates the message (its id carries the time, as on Discord). Default now. */
  timestamp?: Date;
  id?: string;
  webhook_id?: string;
  application_id?: string;
  interaction_metadata?: APIMessageInteractionMetadata;
}

const USER_MENTION = /<@!?(\d+)>/g;
const ROLE_MENTION = /<@&(\d+)>/g;

export function buildMessage(state: FakeDiscordState, channelId: string, spec: MessageSpec, defaultAuthor: APIUser): APIMessage {
  const id = spec.id ?? (spec.timestamp ? state.ids.next(spec.timestamp) : state.ids.next());
  const content = spec.content ?? "";
  const reference = spec.message_reference ?? (spec.replyTo ? replyReference(state, channelId, spec.replyTo) : undefined);
  const referenced = isReply(reference) ? referencedMessage(state, reference) : undefined;
  const snapshots = spec.message_snapshots ?? [];

  return {
    id,
    channel_id: channelId,
    author: spec.author ?? defaultAuthor,
    content,
    timestamp: new Date(snowflakeToTimestamp(id)).toISOString(),
    edited_timestamp: null,
    tts: false,
    mention_everyone: content.includes("@everyone"),
    mentions: spec.mentions ?? mentionedUsers(state, content, referenced?.author),
    mention_roles: [...content.matchAll(ROLE_MENTION)].map((match) => match[1] as string),
    attachments: spec.attachments ?? [],
    embeds: spec.embeds ?? [],
    components: spec.components ?? [],
    pinned: false,
    type: spec.type ?? (isReply(reference) ? MessageType.Reply : MessageType.Default),
    flags: (spec.flags ?? 0) | (snapshots.length > 0 ? MessageFlags.HasSnapshot : 0),
    ...(reference ? { message_reference: reference } : {}),
    ...(isReply(reference) ? { referenced_message: referenced ?? null } : {}),
    ...(snapshots.length > 0 ? { message_snapshots: snapshots } : {}),
    ...(spec.webhook_id ? { webhook_id: spec.webhook_id } : {}),
    ...(spec.application_id ? { application_id: spec.application_id } : {}),
    ...(spec.interaction_metadata ? { interaction_metadata: spec.interaction_metadata } : {}),
  };
}

/** The parts of a message that make it a forward of `original` (Discord's message_snapshots). */
export function forwardOf(original: APIMessage, guildId?: string): Pick<MessageSpec, "message_reference" | "message_snapshots"> {
  return {
    message_reference: {
      type: MessageReferenceType.Forward,
      message_id: original.id,
      channel_id: original.channel_id,
      ...(guildId ? { guild_id: guildId } : {}),
    },
    message_snapshots: [
      {
        message: {
          type: original.type,
          content: original.content,
          embeds: original.embeds,
          attachments: original.attachments,
          timestamp: original.timestamp,
          edited_timestamp: original.edited_timestamp,
          ...(original.flags !== undefined ? { flags: original.flags } : {}),
          mentions: original.mentions,
          mention_roles: original.mention_roles,
          components: original.components ?? [],
        },
      },
    ],
  };
}

function isReply(reference: APIMessageReference | undefined): reference is APIMessageReference {
  return reference !== undefined && (reference.type ?? MessageReferenceType.Default) === MessageReferenceType.Default;
}

function replyReference(state: FakeDiscordState, channelId: string, messageId: string): APIMessageReference {
  const guildId = state.channels.get(channelId)?.guild_id;
  return {
    type: MessageReferenceType.Default,
    message_id: messageId,
    channel_id: channelId,
    ...(guildId ? { guild_id: guildId } : {}),
  };
}

function referencedMessage(state: FakeDiscordState, reference: APIMessageReference): APIMessage | undefined {
  if (!reference.message_id) return undefined;
  const channelId = reference.channel_id;
  return state.messages(channelId).find((message) => message.id === reference.message_id);
}

function mentionedUsers(state: FakeDiscordState, content: string, repliedTo: APIUser | undefined): APIUser[] {
  const ids = new Set([...content.matchAll(USER_MENTION)].map((match) => match[1] as string));
  if (repliedTo) ids.add(repliedTo.id);
  return [...ids].flatMap((id) => state.users.get(id) ?? []);
}
