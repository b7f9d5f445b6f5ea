import { type APIMessage, type APIPartialEmoji, type APIReaction, PermissionFlagsBits } from "discord-api-types/v10";
import { createBotMessage, editBotMessage } from "../bot-messages.ts";
import { discordErrors } from "../errors.ts";
import { toApiChannel } from "../gateway-payloads.ts";
import { pageMessages, parseMessagePageQuery } from "../message-paging.ts";
import { noContent, ok, type Router } from "../router.ts";
import { botHasPermission, type FakeServices, requireBotPermission } from "../services.ts";
import { isThread } from "../state.ts";

const { ViewChannel, ReadMessageHistory, SendMessages, SendMessagesInThreads, AttachFiles, AddReactions, ManageMessages } =
  PermissionFlagsBits;

/** Channel lookup, message history, posting, editing, deleting and reactions. */
export function registerMessageRoutes(router: Router, services: FakeServices): void {
  const { state, events } = services;

  router.on("GET", "/channels/:channelId", ({ param }) => {
    const channel = state.requireChannel(param("channelId"));
    requireBotPermission(services, channel.id, ViewChannel);
    return ok(toApiChannel(channel));
  });

  router.on("GET", "/channels/:channelId/messages", ({ param, query }) => {
    const channelId = state.requireChannel(param("channelId")).id;
    requireBotPermission(services, channelId, ViewChannel);
    const page = parseMessagePageQuery(query);
    // Discord answers an empty list, not an error, without Read Message History.
    if (!botHasPermission(services, channelId, ReadMessageHistory)) return ok([]);
    return ok(pageMessages(state.messages(channelId), page));
  });

  router.on("GET", "/channels/:channelId/messages/:messageId", ({ param }) => {
    const channelId = state.requireChannel(param("channelId")).id;
    requireBotPermission(services, channelId, ViewChannel | ReadMessageHistory);
    return ok(state.requireMessage(channelId, param("messageId")));
  });

  router.on("POST", "/channels/:channelId/messages", async ({ param, json, files }) => {
    const channel = state.requireChannel(param("channelId"));
    const sendPermission = isThread(channel) ? SendMessagesInThreads : SendMessages;
    requireBotPermission(services, channel.id, ViewChannel | sendPermission | (files.length > 0 ? AttachFiles : 0n));
    return ok(await createBotMessage(services, channel.id, { json, files }));
  });

  router.on("PATCH", "/channels/:channelId/messages/:messageId", async ({ param, json, files }) => {
    const message = state.requireMessage(state.requireChannel(param("channelId")).id, param("messageId"));
    if (message.author.id !== state.botUser.id) throw discordErrors.cannotEditOthersMessage();
    return ok(await editBotMessage(services, message, { json, files }));
  });

  router.on("DELETE", "/channels/:channelId/messages/:messageId", async ({ param }) => {
    const channelId = state.requireChannel(param("channelId")).id;
    const message = state.requireMessage(channelId, param("messageId"));
    if (message.author.id !== state.botUser.id) requireBotPermission(services, channelId, ManageMessages);
    state.removeMessage(channelId, message.id);
    await events.messageDeleted(channelId, message.id);
    return noContent();
  });

  router.on("PUT", "/channels/:channelId/messages/:messageId/reactions/:emoji/@me", async ({ param }) => {
    const channelId = state.requireChannel(param("channelId")).id;
    requireBotPermission(services, channelId, ViewChannel | ReadMessageHistory | AddReactions);
    const message = state.requireMessage(channelId, param("messageId"));
    const emoji = parseEmoji(param("emoji"));
    if (addOwnReaction(message, emoji)) await events.reactionAdded(message, state.botUser.id, emoji);
    return noContent();
  });

  router.on("DELETE", "/channels/:channelId/messages/:messageId/reactions/:emoji/@me", ({ param }) => {
    const message = state.requireMessage(state.requireChannel(param("channelId")).id, param("messageId"));
    removeOwnReaction(message, parseEmoji(param("emoji")));
    return noContent();
  });
}

/** Reaction routes name emoji as `👀` (unicode) or `name:id` (custom), URL-encoded. */
function parseEmoji(text: string): APIPartialEmoji {
  const custom = /^([\w-]+):(\d+)$/.exec(text);
  if (custom) return { name: custom[1] as string, id: custom[2] as string };
  if (text.length === 0 || /^[\w\s]+$/.test(text)) throw discordErrors.unknownEmoji();
  return { name: text, id: null };
}

const sameEmoji = (a: APIPartialEmoji, b: APIPartialEmoji) => (a.id ?? a.name) === (b.id ?? b.name);

/** Returns false when the bot had already reacted with this emoji (Discord then changes nothing). */
function addOwnReaction(message: APIMessage, emoji: APIPartialEmoji): boolean {
  const reactions = (message.reactions ??= []);
  const existing = reactions.find((reaction) => sameEmoji(reaction.emoji, emoji));
  if (existing?.me) return false;
  if (existing) {
    existing.me = true;
    existing.count += 1;
    existing.count_details.normal += 1;
    return true;
  }
  const reaction: APIReaction = {
    emoji,
    count: 1,
    count_details: { normal: 1, burst: 0 },
    me: true,
    me_burst: false,
    burst_colors: [],
  };
  reactions.push(reaction);
  return true;
}

function removeOwnReaction(message: APIMessage, emoji: APIPartialEmoji): void {
  const reactions = message.reactions ?? [];
  const existing = reactions.find((reaction) => sameEmoji(reaction.emoji, emoji));
  if (!existing?.me) return;
  existing.me = false;
  existing.count -= 1;
  existing.count_details.normal -= 1;
  message.reactions = reactions.filter((reaction) => reaction.count > 0);
}
