/** A local fake of Discord (REST, gateway, CDN) for end-to-end tests with the real discord.js. */

export type { AttachmentSpec } from "./attachments.ts";
export type { CdnAssetSpec } from "./cdn.ts";
export { FakeDiscord, type FakeDiscordOptions, type MessageEdit } from "./fake-discord.ts";
export type { DispatchedEvent, IdentifiedSession, ReceivedGatewayPayload } from "./gateway.ts";
export { IDENTIFY_WINDOW_MS, type IdentifyRecord, type SessionShard, shardOfGuild } from "./gateway-shards.ts";
export type { ChannelSpec, GuildSpec, MemberSpec, OverwriteSpec, RoleSpec, ThreadSpec } from "./guild-builder.ts";
export { GuildHandle } from "./guild-handle.ts";
export { carriesContent, InteractionHandle, type InteractionReply } from "./interaction-handle.ts";
export type { CommandInvocation, CommandOptionInput, ComponentInvocation } from "./interaction-payloads.ts";
export type { LinkedImageSpec } from "./linked-images.ts";
export { forwardOf, type MessageSpec } from "./message-builder.ts";
export { ALL_PERMISSIONS, DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS } from "./permissions.ts";
export type { RateLimitInjection } from "./rate-limits.ts";
export type { RecordedFile, RecordedRequest, RequestMatcher } from "./request-log.ts";
export { snowflakeToTimestamp, timestampToSnowflake } from "./snowflake.ts";
export type { StoredChannel, StoredGuild, StoredMember } from "./state.ts";
export type { UserSpec } from "./users.ts";
export type { WaitOptions } from "./waitable-log.ts";
