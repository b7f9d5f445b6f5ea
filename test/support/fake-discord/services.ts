import type { APIUser } from "discord-api-types/v10";
import type { AttachmentFactory } from "./attachments.ts";
import type { CommandRegistry } from "./command-registry.ts";
import { discordErrors } from "./errors.ts";
import type { EventPublisher } from "./events.ts";
import type { InteractionHandle } from "./interaction-handle.ts";
import { hasPermission } from "./permissions.ts";
import type { FakeDiscordState } from "./state.ts";

/** What the REST routes share; built once by FakeDiscord. */
export interface FakeServices {
  state: FakeDiscordState;
  events: EventPublisher;
  attachments: AttachmentFactory;
  commands: CommandRegistry;
  /** Open interactions by token. */
  interactions: Map<string, InteractionHandle>;
  defaultUser: APIUser;
  gatewayUrl: () => string;
  /** What `GET /gateway/bot` recommends: the shard count and `session_start_limit.max_concurrency`. */
  sessionStart: { shards: number; maxConcurrency: number };
  /** When false, the bot may do anything anywhere (for tests that do not care about permissions). */
  enforcePermissions: boolean;
}

/**
 * Throws Discord's answer when the bot lacks a permission in a channel: "Missing Access" without
 * View Channel, otherwise "Missing Permissions".
 */
export function requireBotPermission(services: FakeServices, channelId: string, needed: bigint): void {
  if (!services.enforcePermissions) return;
  const permissions = services.state.botPermissionsIn(channelId);
  if (permissions === 0n) throw discordErrors.missingAccess();
  if (!hasPermission(permissions, needed)) throw discordErrors.missingPermissions();
}

export function botHasPermission(services: FakeServices, channelId: string, needed: bigint): boolean {
  return !services.enforcePermissions || hasPermission(services.state.botPermissionsIn(channelId), needed);
}
