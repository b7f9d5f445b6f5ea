import type { APIAttachment, APIEmbed, APIMessage, APIUser } from "discord-api-types/v10";
import { AttachmentFactory, type AttachmentSpec } from "./attachments.ts";
import { type CdnAssetSpec, FakeCdn } from "./cdn.ts";
import { CommandRegistry } from "./command-registry.ts";
import { EventPublisher } from "./events.ts";
import { FakeGateway, type IdentifiedSession } from "./gateway.ts";
import { addMember, buildChannel, buildGuild, buildThread, type ChannelSpec, type GuildSpec, type ThreadSpec } from "./guild-builder.ts";
import { GuildHandle } from "./guild-handle.ts";
import { InteractionHandle } from "./interaction-handle.ts";
import {
  buildCommandInteraction,
  buildComponentInteraction,
  type CommandInvocation,
  type ComponentInvocation,
  type InteractionContext,
} from "./interaction-payloads.ts";
import { type LinkedImageSpec, LinkedImages } from "./linked-images.ts";
import { buildMessage, type MessageSpec } from "./message-builder.ts";
import { encodePath } from "./path-pattern.ts";
import { RateLimiter, type RateLimitInjection } from "./rate-limits.ts";
import { describeMatcher, type RecordedRequest, RequestLog, type RequestMatcher, toRequestPredicate } from "./request-log.ts";
import { FakeRest } from "./rest.ts";
import { Router } from "./router.ts";
import { registerCommandRoutes } from "./routes/command-routes.ts";
import { registerGuildRoutes } from "./routes/guild-routes.ts";
import { registerInteractionRoutes } from "./routes/interaction-routes.ts";
import { registerMessageRoutes } from "./routes/message-routes.ts";
import { registerSessionRoutes } from "./routes/session-routes.ts";
import { CDN_PREFIX, FakeDiscordServer, GATEWAY_PATH } from "./server.ts";
import type { FakeServices } from "./services.ts";
import { SnowflakeGenerator } from "./snowflake.ts";
import { FakeDiscordState, type StoredChannel, type StoredMember } from "./state.ts";
import { buildUser, type UserSpec } from "./users.ts";
import type { WaitOptions } from "./waitable-log.ts";

export interface FakeDiscordOptions {
  /** The bot account; default a bot user named `Lookalike`. */
  bot?: UserSpec;
  /** Default: the bot user's id (true of every application created since 2019). */
  applicationId?: string;
  /** HELLO's heartbeat interval. Default 41 250 ms, as Discord. */
  heartbeatIntervalMs?: number;
  /** Answer 403 when the bot lacks a channel permission. Default true. */
  enforcePermissions?: boolean;
  /** The shard count `GET /gateway/bot` recommends. Default 1. */
  shards?: number;
  /** `session_start_limit.max_concurrency` of `GET /gateway/bot`: identify buckets per 5 s. Default 1. */
  maxConcurrency?: number;
}

/** Fields of a message a user can change by editing it. */
export type MessageEdit = Pick<MessageSpec, "content" | "attachments" | "embeds" | "components">;

/**
 * A local Discord for end-to-end tests: REST, gateway and CDN on one loopback port, plus the
 * external-media proxy and a third-party site for linked images on hosts of their own. Point a
 * real discord.js Client at `apiUrl`, then drive users' actions from the test and inspect what
 * the bot did. See README.md in this folder.
 */
export class FakeDiscord {
  readonly state: FakeDiscordState;
  readonly gateway: FakeGateway;
  readonly cdn = new FakeCdn();
  /** Someone who is a member of every guild the fake builds; the default author and invoker. */
  readonly defaultUser: APIUser;
  readonly #ids = new SnowflakeGenerator();
  readonly #log = new RequestLog();
  readonly #rateLimits = new RateLimiter();
  readonly #interactions = new Map<string, InteractionHandle>();
  readonly #events: EventPublisher;
  readonly #attachments: AttachmentFactory;
  readonly #commands: CommandRegistry;
  #server: FakeDiscordServer | null = null;
  #linked: LinkedImages | null = null;

  private constructor(options: FakeDiscordOptions) {
    const botUser = buildUser(this.#ids, { username: "Lookalike", ...options.bot, bot: true });
    this.state = new FakeDiscordState(this.#ids, botUser, options.applicationId ?? botUser.id);
    this.defaultUser = this.createUser({ username: "tester" });
    this.gateway = new FakeGateway(this.state, {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      gatewayUrl: () => this.gatewayUrl,
      resumeUrl: () => `${this.gatewayUrl}/resume`,
      maxConcurrency: options.maxConcurrency ?? 1,
    });
    this.#events = new EventPublisher(this.state, this.gateway);
    this.#attachments = new AttachmentFactory(this.cdn, this.#ids, () => this.baseUrl);
    this.#commands = new CommandRegistry(this.#ids, this.state.applicationId);
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const fake = new FakeDiscord(options);
    const services: FakeServices = {
      state: fake.state,
      events: fake.#events,
      attachments: fake.#attachments,
      commands: fake.#commands,
      interactions: fake.#interactions,
      defaultUser: fake.defaultUser,
      gatewayUrl: () => fake.gatewayUrl,
      sessionStart: { shards: options.shards ?? 1, maxConcurrency: options.maxConcurrency ?? 1 },
      enforcePermissions: options.enforcePermissions ?? true,
    };
    const router = new Router();
    for (const register of [
      registerSessionRoutes,
      registerCommandRoutes,
      registerMessageRoutes,
      registerGuildRoutes,
      registerInteractionRoutes,
    ]) {
      register(router, services);
    }
    const rest = new FakeRest(router, fake.#rateLimits, fake.#log);
    fake.#server = await FakeDiscordServer.listen({ rest, gateway: fake.gateway, cdn: fake.cdn, log: fake.#log });
    // Needs 127.0.0.2 and .3 (loopback on Linux); do not leave the main server open if they fail.
    fake.#linked = await LinkedImages.start(fake.#log, fake.#ids).catch(async (error: unknown) => {
      await fake.close();
      throw error;
    });
    return fake;
  }

  // ---- addresses ----

  get port(): number {
    if (!this.#server) throw new Error("FakeDiscord is not started (use FakeDiscord.start())");
    return this.#server.port;
  }

  /** `http://127.0.0.1:PORT` */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Pass as `new Client({ rest: { api: fake.apiUrl } })`; discord.js appends `/v10`. */
  get apiUrl(): string {
    return `${this.baseUrl}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}${GATEWAY_PATH}`;
  }

  /** `http://127.0.0.1:PORT/cdn` */
  get cdnUrl(): string {
    return `${this.baseUrl}${CDN_PREFIX.slice(0, -1)}`;
  }

  /** `127.0.0.2:PORT`: Discord's external-media proxy (images of unfurled links), for DISCORD_EXTERNAL_MEDIA_HOSTS. */
  get externalMediaHost(): string {
    return this.#linkedImages.proxyHost;
  }

  /** `http://127.0.0.3:PORT`: the third-party site that `linkEmbed` links point at. */
  get originUrl(): string {
    return this.#linkedImages.originUrl;
  }

  get botUser(): APIUser {
    return this.state.botUser;
  }

  get applicationId(): string {
    return this.state.applicationId;
  }

  // ---- people and places ----

  /** A fresh snowflake: increasing, and its timestamp is now (or `at`), so `createdAt` works. */
  snowflake(at?: Date | number): string {
    return this.#ids.next(at);
  }

  createUser(spec: UserSpec = {}): APIUser {
    const user = buildUser(this.#ids, spec);
    this.state.users.set(user.id, user);
    return user;
  }

  /**
   * Builds a guild (see GuildSpec for defaults). A connected client receives GUILD_CREATE, as
   * when the bot is added to a server; a client that connects later gets it after READY.
   */
  addGuild(spec: GuildSpec = {}): GuildHandle {
    const guild = buildGuild(this.#builderContext, spec);
    void this.#events.guildCreated(guild);
    return new GuildHandle(this.state, guild.id);
  }

  guild(guildId: string): GuildHandle {
    return new GuildHandle(this.state, this.state.requireGuild(guildId).id);
  }

  addMember(guildId: string, user: APIUser, options: { roles?: string[]; nick?: string } = {}): StoredMember {
    this.state.users.set(user.id, user);
    return addMember(this.state.requireGuild(guildId), { user, ...options });
  }

  /** Adds a channel to a guild and dispatches CHANNEL_CREATE. */
  async addChannel(guildId: string, spec: ChannelSpec): Promise<StoredChannel> {
    const guild = this.state.requireGuild(guildId);
    const channel = buildChannel(this.#builderContext, guild, spec, this.state.channelsOfGuild(guildId).length);
    await this.#events.channelCreated(channel);
    return channel;
  }

  /** Adds a thread under a channel and dispatches THREAD_CREATE (archived threads are created silently). */
  async addThread(parentId: string, spec: ThreadSpec): Promise<StoredChannel> {
    const thread = buildThread(this.#builderContext, this.state.requireChannel(parentId), spec);
    if (!thread.thread_metadata?.archived) await this.#events.channelCreated(thread);
    return thread;
  }

  /** Dispatches CHANNEL_DELETE (THREAD_DELETE for a thread) and forgets the channel, its threads and history. */
  async deleteChannel(channelId: string): Promise<void> {
    const [channel] = this.state.removeChannel(channelId);
    await this.#events.channelDeleted(channel as StoredChannel);
  }

  /** The bot was kicked (or the guild deleted): GUILD_DELETE without `unavailable`. */
  async removeGuild(guildId: string): Promise<void> {
    this.state.removeGuild(guildId);
    await this.#events.guildDeleted(guildId);
  }

  // ---- files ----

  /** An attachment object whose `url`/`proxy_url` serve `bytes` from the fake CDN (see AttachmentSpec). */
  attachment(spec: AttachmentSpec): APIAttachment {
    return this.#attachments.create(spec);
  }

  /** Serves anything under /cdn/ (e.g. `/cdn/avatars/1/a.png`); returns its full URL. */
  cdnAsset(path: string, spec: CdnAssetSpec): string {
    const cdnPath = path.startsWith(CDN_PREFIX) ? path : `${CDN_PREFIX}${path.replace(/^\/+/, "")}`;
    this.cdn.put(cdnPath, spec);
    return `${this.baseUrl}${encodePath(cdnPath)}`;
  }

  /**
   * The embed Discord adds (in a MESSAGE_UPDATE, a moment after posting) to a message holding a
   * link to an image: `url`/`thumbnail.url` on the third-party site, `thumbnail.proxy_url` on the
   * external-media proxy. Both serve `bytes`; see LinkedImageSpec to make the proxy misbehave.
   */
  linkEmbed(spec: LinkedImageSpec): APIEmbed {
    return this.#linkedImages.embed(spec);
  }

  // ---- messages ----

  /** Stored history, oldest first (including the bot's own posts and interaction replies). */
  messages(channelId: string): APIMessage[] {
    return [...this.state.messages(channelId)];
  }

  message(channelId: string, messageId: string): APIMessage {
    return this.state.requireMessage(channelId, messageId);
  }

  /** Puts history in a channel without dispatching anything (backdate with `timestamp`). */
  seedMessages(channelId: string, specs: MessageSpec[]): APIMessage[] {
    this.state.requireChannel(channelId);
    return specs.map((spec) => {
      const message = buildMessage(this.state, channelId, spec, this.defaultUser);
      this.state.insertMessage(message);
      return message;
    });
  }

  /** A user posts: stored, then MESSAGE_CREATE (content blanked for clients without the Message Content intent). */
  async postMessage(channelId: string, spec: MessageSpec = {}): Promise<APIMessage> {
    const [message] = this.seedMessages(channelId, [spec]);
    await this.#events.messageCreated(message as APIMessage);
    return message as APIMessage;
  }

  /** A user edits: stored, then MESSAGE_UPDATE with the whole message. */
  async editMessage(channelId: string, messageId: string, edit: MessageEdit): Promise<APIMessage> {
    const edited: APIMessage = {
      ...this.state.requireMessage(channelId, messageId),
      ...edit,
      edited_timestamp: new Date().toISOString(),
    };
    this.state.replaceMessage(edited);
    await this.#events.messageUpdated(edited);
    return edited;
  }

  async deleteMessage(channelId: string, messageId: string): Promise<void> {
    this.state.removeMessage(channelId, messageId);
    await this.#events.messageDeleted(channelId, messageId);
  }

  /** MESSAGE_DELETE_BULK, as when a moderator purges messages. */
  async bulkDeleteMessages(channelId: string, messageIds: string[]): Promise<void> {
    for (const messageId of messageIds) this.state.removeMessage(channelId, messageId);
    await this.#events.messagesBulkDeleted(channelId, messageIds);
  }

  // ---- interactions ----

  /** A user runs a slash or context-menu command; the handle collects the bot's responses. */
  async invokeCommand(invocation: CommandInvocation): Promise<InteractionHandle> {
    return this.#startInteraction(new InteractionHandle(buildCommandInteraction(this.#interactionContext, invocation)));
  }

  /** A user clicks a button (or picks from a select menu) on a message. */
  async invokeComponent(invocation: ComponentInvocation): Promise<InteractionHandle> {
    const { message } = invocation;
    // The stored version is the one the user sees (the bot may have edited it since).
    const current = this.state.messages(message.channel_id).find((stored) => stored.id === message.id) ?? message;
    const payload = buildComponentInteraction(this.#interactionContext, { ...invocation, message: current });
    return this.#startInteraction(new InteractionHandle(payload, current));
  }

  clickButton(message: APIMessage, customId: string, user?: APIUser): Promise<InteractionHandle> {
    return this.invokeComponent({ message, customId, ...(user ? { user } : {}) });
  }

  // ---- raw gateway ----

  /** Sends any dispatch event to connected sessions (numbered, intent-filtered); returns how many got it. */
  dispatch(event: string, data: unknown): Promise<number> {
    return this.gateway.dispatch(event, data);
  }

  /** Resolves when a client has identified and received READY plus every GUILD_CREATE. */
  waitForIdentify(options?: WaitOptions): Promise<IdentifiedSession> {
    return this.gateway.sessions.waitFor(() => true, "a client to IDENTIFY", options);
  }

  /** Intents of the most recent IDENTIFY (compare with `GatewayIntentBits`), or undefined. */
  get identifiedIntents(): number | undefined {
    return this.gateway.sessions.entries.at(-1)?.intents;
  }

  // ---- requests ----

  /** Every HTTP call (REST, CDN, external-media proxy, third-party site), in arrival order. */
  get requests(): readonly RecordedRequest[] {
    return this.#log.entries;
  }

  /** Index of the next request: pass as `{ since }` to wait only for requests made after now. */
  requestCursor(): number {
    return this.#log.length;
  }

  findRequests(matcher: RequestMatcher): RecordedRequest[] {
    return this.#log.entries.filter(toRequestPredicate(matcher));
  }

  /** First request (already made, or future) that matches; rejects after `timeoutMs` listing what was seen. */
  waitForRequest(matcher: RequestMatcher, options?: WaitOptions): Promise<RecordedRequest> {
    return this.#log.waitFor(toRequestPredicate(matcher), describeMatcher(matcher), options);
  }

  /** Requests to the third-party site of `linkEmbed` links: a bot should never make any. */
  originHits(): RecordedRequest[] {
    return this.findRequests({ kind: "origin" });
  }

  /** Calls the fake had no route for, or that crashed inside the fake: should stay empty. */
  unexpectedRequests(): RecordedRequest[] {
    return this.#log.entries.filter((request) => (request.route === null && !request.rateLimited) || request.error);
  }

  /** The next `times` calls matching `method` + `path` get a 429 that discord.js must wait out and retry. */
  injectRateLimit(injection: RateLimitInjection): void {
    this.#rateLimits.inject(injection);
  }

  /** Destroy the discord.js client first: a client whose gateway vanishes keeps reconnecting. */
  async close(): Promise<void> {
    await this.gateway.close();
    await Promise.all([this.#server?.close(), this.#linked?.close()]);
    this.#server = null;
    this.#linked = null;
  }

  get #linkedImages(): LinkedImages {
    if (!this.#linked) throw new Error("FakeDiscord is not started (use FakeDiscord.start())");
    return this.#linked;
  }

  get #builderContext() {
    return { state: this.state, defaultUser: this.defaultUser };
  }

  get #interactionContext(): InteractionContext {
    return { state: this.state, commands: this.#commands, defaultUser: this.defaultUser };
  }

  async #startInteraction(handle: InteractionHandle): Promise<InteractionHandle> {
    this.#interactions.set(handle.token, handle);
    await this.#events.interactionCreated(handle.payload);
    return handle;
  }
}
