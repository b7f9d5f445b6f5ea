import { type APIMessage, MessageFlags, MessageReferenceType } from "discord-api-types/v10";
import { discordErrors } from "./errors.ts";
import { buildMessage, type MessageSpec } from "./message-builder.ts";
import { assertNotEmpty, composeOutgoingMessage, type OutgoingMessageBody } from "./outgoing-message.ts";
import type { RecordedFile } from "./request-log.ts";
import type { FakeServices } from "./services.ts";

/** The part of a REST request that describes a message. */
export interface MessageRequest {
  json: unknown;
  files: RecordedFile[];
}

export interface CreateOptions {
  /** Extra fields set by the route (interaction metadata, webhook id, loading flag...). */
  extra?: Partial<MessageSpec>;
  /** A deferred interaction reply starts empty ("Bot is thinking…"). */
  allowEmpty?: boolean;
}

export function isEphemeral(message: APIMessage): boolean {
  return ((message.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
}

function asBody(json: unknown): OutgoingMessageBody {
  if (json === undefined || json === null) return {};
  if (typeof json !== "object" || Array.isArray(json)) throw discordErrors.invalidFormBody("expected an object");
  return json as OutgoingMessageBody;
}

/**
 * A message the bot sends (channel post, interaction reply, followup): built, stored in the
 * channel unless ephemeral, and echoed as MESSAGE_CREATE like Discord does.
 */
export async function createBotMessage(
  services: FakeServices,
  channelId: string,
  request: MessageRequest,
  options: CreateOptions = {},
): Promise<APIMessage> {
  const { state } = services;
  const body = asBody(request.json);
  const composed = composeOutgoingMessage({
    body,
    files: request.files,
    channelId,
    attachmentFactory: services.attachments,
  });
  if (!options.allowEmpty) assertNotEmpty(composed);

  const message = buildMessage(
    state,
    channelId,
    { ...composed, author: state.botUser, ...replyFields(services, channelId, body), ...options.extra },
    state.botUser,
  );
  if (!isEphemeral(message)) {
    state.insertMessage(message);
    await services.events.messageCreated(message);
  }
  return message;
}

/** Applies an edit body; clears the "thinking…" flag of a deferred reply, as Discord does. */
export async function editBotMessage(services: FakeServices, message: APIMessage, request: MessageRequest): Promise<APIMessage> {
  const composed = composeOutgoingMessage({
    body: asBody(request.json),
    files: request.files,
    channelId: message.channel_id,
    attachmentFactory: services.attachments,
    existingAttachments: message.attachments,
  });
  const edited: APIMessage = {
    ...message,
    ...composed,
    flags: ((message.flags ?? 0) & ~MessageFlags.Loading) | (composed.flags ?? 0),
    edited_timestamp: new Date().toISOString(),
  };
  if (!isEphemeral(edited)) {
    services.state.replaceMessage(edited);
    await services.events.messageUpdated(edited);
  }
  return edited;
}

function replyFields(services: FakeServices, channelId: string, body: OutgoingMessageBody): Partial<MessageSpec> {
  const reference = body.message_reference;
  const isReply = reference?.message_id && (reference.type ?? MessageReferenceType.Default) === MessageReferenceType.Default;
  if (!reference || !isReply) return {};
  const targetChannel = reference.channel_id ?? channelId;
  const exists = services.state.messages(targetChannel).some((message) => message.id === reference.message_id);
  if (!exists) {
    if (reference.fail_if_not_exists === false) return {};
    throw discordErrors.invalidFormBody("message_reference: Unknown message");
  }
  return { replyTo: reference.message_id as string };
}
