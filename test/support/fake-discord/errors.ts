/**
 * Errors the fake answers with, in Discord's JSON shape `{ message, code }`. discord.js turns
 * these into `DiscordAPIError` with the same `code`, so a bot's error handling (e.g. "Unknown
 * Message" → the message was deleted) can be tested against the real codes.
 */
export class DiscordApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }

  toJSON(): { message: string; code: number } {
    return { message: this.message, code: this.code };
  }
}

export const discordErrors = {
  notFound: () => new DiscordApiError(404, 0, "404: Not Found"),
  unknownGuild: () => new DiscordApiError(404, 10004, "Unknown Guild"),
  unknownChannel: () => new DiscordApiError(404, 10003, "Unknown Channel"),
  unknownMember: () => new DiscordApiError(404, 10007, "Unknown Member"),
  unknownMessage: () => new DiscordApiError(404, 10008, "Unknown Message"),
  unknownUser: () => new DiscordApiError(404, 10013, "Unknown User"),
  unknownWebhook: () => new DiscordApiError(404, 10015, "Unknown Webhook"),
  unknownInteraction: () => new DiscordApiError(404, 10062, "Unknown interaction"),
  unknownEmoji: () => new DiscordApiError(400, 10014, "Unknown Emoji"),
  missingAccess: () => new DiscordApiError(403, 50001, "Missing Access"),
  missingPermissions: () => new DiscordApiError(403, 50013, "Missing Permissions"),
  cannotEditOthersMessage: () => new DiscordApiError(403, 50005, "Cannot edit a message authored by another user"),
  alreadyAcknowledged: () => new DiscordApiError(400, 40060, "Interaction has already been acknowledged."),
  invalidFormBody: (detail: string) => new DiscordApiError(400, 50035, `Invalid Form Body: ${detail}`),
  cannotSendEmptyMessage: () => new DiscordApiError(400, 50006, "Cannot send an empty message"),
} as const;
