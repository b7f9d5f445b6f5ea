import {
  type APIMessage,
  type APIMessageInteractionMetadata,
  ApplicationCommandType,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  MessageType,
} from "discord-api-types/v10";
import { createBotMessage, editBotMessage, isEphemeral, type MessageRequest } from "../bot-messages.ts";
import { discordErrors } from "../errors.ts";
import type { InteractionHandle } from "../interaction-handle.ts";
import type { MessageSpec } from "../message-builder.ts";
import { noContent, ok, type RestRequest, type Router } from "../router.ts";
import type { FakeServices } from "../services.ts";

interface CallbackBody {
  type?: InteractionResponseType;
  data?: Record<string, unknown>;
}

/**
 * Interaction responses: the one-time callback, then edits/followups/deletes through the
 * interaction webhook. Every step is appended to the interaction's InteractionHandle.
 */
export function registerInteractionRoutes(router: Router, services: FakeServices): void {
  const { state } = services;

  const handleFor = (request: RestRequest): InteractionHandle => {
    const handle = services.interactions.get(request.param("token"));
    if (!handle || request.param("applicationId") !== state.applicationId) throw discordErrors.unknownWebhook();
    return handle;
  };
  const messageOf = (handle: InteractionHandle, messageId: string): APIMessage => {
    const id = messageId === "@original" ? handle.originalId : messageId;
    const message = id === undefined ? undefined : handle.message(id);
    if (!message) throw discordErrors.unknownMessage();
    return message;
  };

  router.on(
    "POST",
    "/interactions/:interactionId/:token/callback",
    async (request) => {
      const handle = services.interactions.get(request.param("token"));
      if (!handle || handle.id !== request.param("interactionId")) throw discordErrors.unknownInteraction();
      if (handle.acknowledged) throw discordErrors.alreadyAcknowledged();
      const body = (request.json ?? {}) as CallbackBody;
      if (body.type === undefined || body.type === InteractionResponseType.Pong) {
        throw discordErrors.invalidFormBody("type: Value must be a valid interaction callback type.");
      }
      const message = await respond(services, handle, body, request.files);
      handle.markAcknowledged();
      handle.record({
        kind: "callback",
        callbackType: body.type,
        ...(message ? { messageId: message.id, message } : {}),
        json: request.json,
        files: request.files,
        ephemeral: message ? isEphemeral(message) : false,
        at: new Date(),
      });
      if (request.query.get("with_response") !== "true") return noContent();
      return ok(callbackResponse(handle, body.type, message));
    },
    { auth: false },
  );

  router.on(
    "GET",
    "/webhooks/:applicationId/:token/messages/:messageId",
    (request) => ok(messageOf(handleFor(request), request.param("messageId"))),
    { auth: false },
  );

  router.on(
    "PATCH",
    "/webhooks/:applicationId/:token/messages/:messageId",
    async (request) => {
      const handle = handleFor(request);
      const edited = await editBotMessage(services, messageOf(handle, request.param("messageId")), request);
      handle.rememberMessage(edited);
      handle.record(stepRecord("edit", edited, request));
      return ok(edited);
    },
    { auth: false },
  );

  router.on(
    "DELETE",
    "/webhooks/:applicationId/:token/messages/:messageId",
    async (request) => {
      const handle = handleFor(request);
      const message = messageOf(handle, request.param("messageId"));
      if (!isEphemeral(message)) {
        state.removeMessage(message.channel_id, message.id);
        await services.events.messageDeleted(message.channel_id, message.id);
      }
      handle.forgetMessage(message.id);
      handle.record({ ...stepRecord("delete", undefined, request), messageId: message.id, ephemeral: isEphemeral(message) });
      return noContent();
    },
    { auth: false },
  );

  router.on(
    "POST",
    "/webhooks/:applicationId/:token",
    async (request) => {
      const handle = handleFor(request);
      // Followups need an acknowledged interaction; before that Discord does not know the webhook.
      if (!handle.acknowledged) throw discordErrors.unknownWebhook();
      const message = await createBotMessage(services, handle.payload.channel_id as string, request, {
        extra: interactionFields(services, handle, MessageType.Default),
      });
      handle.rememberMessage(message);
      handle.record(stepRecord("followup", message, request));
      return request.query.get("wait") === "true" ? ok(message) : noContent();
    },
    { auth: false },
  );
}

async function respond(
  services: FakeServices,
  handle: InteractionHandle,
  body: CallbackBody,
  files: MessageRequest["files"],
): Promise<APIMessage | undefined> {
  const channelId = handle.payload.channel_id as string;
  const originalType = handle.payload.type === InteractionType.ApplicationCommand ? commandMessageType(handle) : MessageType.Default;
  switch (body.type) {
    case InteractionResponseType.ChannelMessageWithSource: {
      const message = await createBotMessage(
        services,
        channelId,
        { json: body.data, files },
        {
          extra: interactionFields(services, handle, originalType),
        },
      );
      handle.setOriginal(message);
      return message;
    }
    case InteractionResponseType.DeferredChannelMessageWithSource: {
      const flags = (Number(body.data?.flags ?? 0) & MessageFlags.Ephemeral) | MessageFlags.Loading;
      const message = await createBotMessage(
        services,
        channelId,
        { json: {}, files: [] },
        {
          allowEmpty: true,
          extra: { ...interactionFields(services, handle, originalType), flags },
        },
      );
      handle.setOriginal(message);
      return message;
    }
    case InteractionResponseType.UpdateMessage: {
      const original = handle.original;
      if (!original) throw discordErrors.invalidFormBody("type: UPDATE_MESSAGE needs a component interaction");
      const edited = await editBotMessage(services, original, { json: body.data, files });
      handle.setOriginal(edited);
      return edited;
    }
    default:
      // Deferred update (6), autocomplete (8), modal (9)...: acknowledged, nothing shown yet.
      return undefined;
  }
}

function commandMessageType(handle: InteractionHandle): MessageType {
  const data = handle.payload.data as { type?: ApplicationCommandType } | undefined;
  return data?.type === ApplicationCommandType.ChatInput ? MessageType.ChatInputCommand : MessageType.ContextMenuCommand;
}

/** Messages created through an interaction carry who triggered it, as on Discord. */
function interactionFields(services: FakeServices, handle: InteractionHandle, type: MessageType): Partial<MessageSpec> {
  const { payload } = handle;
  const user = payload.member?.user ?? payload.user ?? services.defaultUser;
  const metadata = {
    id: payload.id,
    type: payload.type,
    user,
    authorizing_integration_owners: payload.authorizing_integration_owners,
    ...(handle.originalId ? { original_response_message_id: handle.originalId } : {}),
  } as APIMessageInteractionMetadata;
  return {
    type,
    webhook_id: services.state.applicationId,
    application_id: services.state.applicationId,
    interaction_metadata: metadata,
  };
}

function stepRecord(kind: "edit" | "followup" | "delete", message: APIMessage | undefined, request: RestRequest) {
  return {
    kind,
    ...(message ? { messageId: message.id, message } : {}),
    json: request.json,
    files: request.files,
    ephemeral: message ? isEphemeral(message) : false,
    at: new Date(),
  };
}

function callbackResponse(handle: InteractionHandle, type: InteractionResponseType, message: APIMessage | undefined) {
  return {
    interaction: {
      id: handle.id,
      type: handle.payload.type,
      ...(message
        ? {
            response_message_id: message.id,
            response_message_loading: ((message.flags ?? 0) & MessageFlags.Loading) !== 0,
            response_message_ephemeral: isEphemeral(message),
          }
        : {}),
    },
    resource: { type, ...(message ? { message } : {}) },
  };
}
