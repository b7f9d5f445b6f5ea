import type { APIAttachment, APIEmbed, APIMessageTopLevelComponent } from "discord-api-types/v10";
import type { AttachmentFactory } from "./attachments.ts";
import { discordErrors } from "./errors.ts";
import type { RecordedFile } from "./request-log.ts";

/**
 * The message fields a bot sends when creating or editing a message, through any route
 * (channel messages, interaction callbacks, webhook edits and followups).
 */
export interface OutgoingMessageBody {
  content?: string;
  embeds?: APIEmbed[];
  components?: APIMessageTopLevelComponent[];
  /** Kept existing attachments (by id) and new uploads (`id` = index of `files[n]`). */
  attachments?: { id: string | number; filename?: string; description?: string }[];
  flags?: number;
  message_reference?: { message_id?: string; channel_id?: string; type?: number; fail_if_not_exists?: boolean };
}

export interface ComposedMessage {
  content?: string;
  embeds?: APIEmbed[];
  components?: APIMessageTopLevelComponent[];
  attachments?: APIAttachment[];
  flags?: number;
}

/** Discord's documented limits, checked so a bot that exceeds them fails in tests too. */
const MAX_CONTENT_LENGTH = 2000;
const MAX_EMBEDS = 10;
const MAX_ATTACHMENTS = 10;
const MAX_EMBED_TEXT = 6000;

export interface ComposeInput {
  body: OutgoingMessageBody;
  files: RecordedFile[];
  channelId: string;
  attachmentFactory: AttachmentFactory;
  /** Attachments of the message being edited; they survive unless `attachments` says otherwise. */
  existingAttachments?: APIAttachment[];
}

/** Turns a request body (JSON or multipart) into message fields; only fields the body sets are returned. */
export function composeOutgoingMessage(input: ComposeInput): ComposedMessage {
  const { body } = input;
  const composed: ComposedMessage = {};
  // JSON may carry explicit nulls; only fields with a value change the message.
  if (isSet(body.content)) composed.content = body.content;
  if (isSet(body.embeds)) composed.embeds = body.embeds;
  if (isSet(body.components)) composed.components = body.components;
  if (isSet(body.flags)) composed.flags = body.flags;
  const attachments = resolveAttachments(input);
  if (attachments !== undefined) composed.attachments = attachments;
  validateLimits(composed);
  return composed;
}

function isSet<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

export function assertNotEmpty(message: ComposedMessage): void {
  const hasSomething =
    (message.content?.length ?? 0) > 0 ||
    (message.embeds?.length ?? 0) > 0 ||
    (message.attachments?.length ?? 0) > 0 ||
    (message.components?.length ?? 0) > 0;
  if (!hasSomething) throw discordErrors.cannotSendEmptyMessage();
}

function resolveAttachments(input: ComposeInput): APIAttachment[] | undefined {
  const { body, files, existingAttachments = [] } = input;
  const uploadsByIndex = new Map(files.map((file) => [fileIndex(file), file]));
  const upload = (file: RecordedFile, meta: { filename?: string; description?: string } = {}) =>
    input.attachmentFactory.create({
      filename: meta.filename ?? file.name,
      bytes: file.bytes,
      contentType: file.contentType,
      channelId: input.channelId,
      ...(meta.description !== undefined ? { description: meta.description } : {}),
    });

  if (!isSet(body.attachments)) {
    if (files.length === 0) return undefined;
    return [...existingAttachments, ...files.map((file) => upload(file))];
  }
  const used = new Set<RecordedFile>();
  const listed = body.attachments.map((entry) => {
    const kept = existingAttachments.find((attachment) => attachment.id === String(entry.id));
    if (kept) return kept;
    const file = uploadsByIndex.get(String(entry.id));
    if (!file) throw discordErrors.invalidFormBody(`attachments: no file for attachment id ${entry.id}`);
    used.add(file);
    return upload(file, entry);
  });
  return [...listed, ...files.filter((file) => !used.has(file)).map((file) => upload(file))];
}

/** `files[3]` → "3" (discord.js names parts `files[n]`); other names keep their whole name. */
function fileIndex(file: RecordedFile): string {
  return /^files\[(\d+)\]$/.exec(file.field)?.[1] ?? file.field;
}

function validateLimits(message: ComposedMessage): void {
  if ((message.content?.length ?? 0) > MAX_CONTENT_LENGTH) {
    throw discordErrors.invalidFormBody(`content: Must be ${MAX_CONTENT_LENGTH} or fewer in length.`);
  }
  if ((message.embeds?.length ?? 0) > MAX_EMBEDS) {
    throw discordErrors.invalidFormBody(`embeds: Must be ${MAX_EMBEDS} or fewer in length.`);
  }
  if ((message.attachments?.length ?? 0) > MAX_ATTACHMENTS) {
    throw discordErrors.invalidFormBody(`attachments: Must be ${MAX_ATTACHMENTS} or fewer in length.`);
  }
  const embedText = (message.embeds ?? []).reduce((total, embed) => total + embedTextLength(embed), 0);
  if (embedText > MAX_EMBED_TEXT) {
    throw discordErrors.invalidFormBody(`embeds: Embed size exceeds maximum size of ${MAX_EMBED_TEXT}`);
  }
}

function embedTextLength(embed: APIEmbed): number {
  const fields = embed.fields ?? [];
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.author?.name.length ?? 0) +
    fields.reduce((total, field) => total + field.name.length + field.value.length, 0)
  );
}
