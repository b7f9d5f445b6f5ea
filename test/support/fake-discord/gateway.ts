import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import {
  GatewayCloseCodes,
  GatewayDispatchEvents,
  type GatewayIdentifyData,
  GatewayOpcodes,
  type GatewayResumeData,
} from "discord-api-types/v10";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { GatewayConnection } from "./gateway-connection.ts";
import { shapeForIntents } from "./gateway-intents.ts";
import { guildCreatePayload, readyPayload } from "./gateway-payloads.ts";
import { IdentifyPacing, type SessionShard, sessionShard, shardOfGuild, shardReceives } from "./gateway-shards.ts";
import type { FakeDiscordState } from "./state.ts";
import { WaitableLog } from "./waitable-log.ts";

export interface GatewayOptions {
  heartbeatIntervalMs: number;
  /** `ws://127.0.0.1:PORT/gateway`, as handed out by GET /gateway/bot. */
  gatewayUrl: () => string;
  /** Handed out in READY; discord.js resumes there. */
  resumeUrl: () => string;
  /** `session_start_limit.max_concurrency`: identifies allowed per 5 s (one per bucket `shard_id % it`). */
  maxConcurrency: number;
}

/** What a client sent over the gateway (heartbeats included), for assertions. */
export interface ReceivedGatewayPayload {
  sessionId: string | null;
  op: GatewayOpcodes;
  d: unknown;
  at: Date;
}

export interface IdentifiedSession {
  sessionId: string;
  identify: GatewayIdentifyData;
  /** The intents bit set the client asked for (compare with `GatewayIntentBits`). */
  intents: number;
  /** Query of the connection URL, e.g. `{ v: "10", encoding: "json" }`. */
  query: Record<string, string>;
  /** The shard it identified as (`{ id: 0, count: 1 }` without IDENTIFY's `shard`). */
  shard: SessionShard;
  /** The guilds READY listed: those routed to its shard. */
  guildIds: string[];
  at: Date;
}

export interface DispatchedEvent {
  sessionId: string;
  s: number;
  t: string;
  d: unknown;
}

interface ConnectionContext {
  connection: GatewayConnection;
  query: Record<string, string>;
  /** Set by IDENTIFY or RESUME. */
  session: GatewaySession | null;
}

/** Op 8 as sent by discord.js' `guild.members.fetch()` (either `query` or `user_ids`). */
interface MemberRequest {
  guild_id: string | string[];
  query?: string;
  limit?: number;
  user_ids?: string | string[];
  nonce?: string;
}

/** Discord invalidates a session when the client closes normally; other closes may resume. */
const SESSION_ENDING_CLOSE_CODES = new Set([1000, 1001]);

class GatewaySession {
  sequence = 0;
  readonly backlog: DispatchedEvent[] = [];
  connection: GatewayConnection | null;

  constructor(
    readonly id: string,
    readonly identify: GatewayIdentifyData,
    readonly shard: SessionShard,
    connection: GatewayConnection,
  ) {
    this.connection = connection;
  }

  /** Numbers the event, keeps it for replay on RESUME, and sends it if connected. */
  send(t: string, d: unknown): Promise<void> {
    this.sequence += 1;
    const event: DispatchedEvent = { sessionId: this.id, s: this.sequence, t, d };
    this.backlog.push(event);
    return this.connection?.send({ op: GatewayOpcodes.Dispatch, s: event.s, t, d }) ?? Promise.resolve();
  }
}

/**
 * The gateway half of the fake: HELLO → IDENTIFY → READY + one GUILD_CREATE per guild,
 * heartbeat acks, RESUME with replay, and test-driven dispatches numbered per session.
 */
export class FakeGateway {
  readonly received = new WaitableLog<ReceivedGatewayPayload>((payload) => `op ${payload.op}`);
  /** One entry per IDENTIFY, pushed once READY and every GUILD_CREATE have been sent. */
  readonly sessions = new WaitableLog<IdentifiedSession>((session) => `session ${session.sessionId}`);
  readonly dispatched = new WaitableLog<DispatchedEvent>((event) => `${event.t} #${event.s}`);
  /** Every IDENTIFY with its rate-limit bucket; `identifyPacing.tooSoon` lists those Discord would refuse. */
  readonly identifyPacing: IdentifyPacing;
  readonly #live = new Map<string, GatewaySession>();
  readonly #server = new WebSocketServer({ noServer: true });

  constructor(
    private readonly state: FakeDiscordState,
    private readonly options: GatewayOptions,
  ) {
    this.identifyPacing = new IdentifyPacing(options.maxConcurrency);
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#server.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, request));
  }

  /** Sends an event to every session whose shard it is routed to and whose intents allow it; returns how many got it. */
  async dispatch(t: string, d: unknown): Promise<number> {
    const sends: Promise<void>[] = [];
    for (const session of this.#live.values()) {
      if (!shardReceives(session.shard, t, d)) continue;
      const shaped = shapeForIntents(t, d, session.identify.intents, this.state.botUser.id);
      if (shaped === null) continue;
      sends.push(session.send(t, shaped));
      this.dispatched.push(session.backlog.at(-1) as DispatchedEvent);
    }
    await Promise.all(sends);
    return sends.length;
  }

  /** Op 1 from the server: clients must heartbeat right away (and get an ack). */
  requestHeartbeat(): Promise<void> {
    return this.#broadcast({ op: GatewayOpcodes.Heartbeat, d: null });
  }

  /** Op 7: discord.js closes, reconnects to `resume_gateway_url` and RESUMEs. */
  requestReconnect(): Promise<void> {
    return this.#broadcast({ op: GatewayOpcodes.Reconnect, d: null });
  }

  /** Cuts every socket abnormally (as a network drop would); sessions stay resumable. */
  dropConnections(): void {
    for (const session of this.#live.values()) session.connection?.socket.terminate();
  }

  async close(): Promise<void> {
    for (const client of this.#server.clients) client.terminate();
    this.#live.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #broadcast(payload: unknown): Promise<void> {
    const sends = [...this.#live.values()].map((session) => session.connection?.send(payload));
    return Promise.all(sends).then(() => undefined);
  }

  #accept(ws: WebSocket, request: IncomingMessage): void {
    const query = Object.fromEntries(new URL(request.url ?? "/", "http://fake").searchParams);
    const context: ConnectionContext = {
      connection: new GatewayConnection(ws, query.compress === "zlib-stream"),
      query,
      session: null,
    };
    const { connection } = context;
    if (query.v !== "10") {
      connection.close(GatewayCloseCodes.InvalidAPIVersion, "Invalid API version");
      return;
    }
    if ((query.encoding ?? "json") !== "json") {
      connection.close(GatewayCloseCodes.DecodeError, "FakeDiscord speaks JSON only");
      return;
    }

    // One payload at a time per connection, so IDENTIFY finishes before the next payload is read.
    let handling = Promise.resolve();
    ws.on("message", (raw) => {
      const payload = parsePayload(raw);
      if (!payload) return connection.close(GatewayCloseCodes.DecodeError, "Error while decoding payload.");
      this.received.push({ sessionId: context.session?.id ?? null, op: payload.op, d: payload.d, at: new Date() });
      handling = handling
        .then(() => this.#handle(payload, context))
        .catch((error: unknown) => connection.close(GatewayCloseCodes.UnknownError, String(error).slice(0, 120)));
    });
    ws.on("close", (code) => {
      const { session } = context;
      if (!session || session.connection !== connection) return;
      session.connection = null;
      if (SESSION_ENDING_CLOSE_CODES.has(code)) this.#live.delete(session.id);
    });
    void connection.send({ op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs } });
  }

  async #handle(payload: { op: GatewayOpcodes; d: unknown }, context: ConnectionContext): Promise<void> {
    const { connection, session } = context;
    switch (payload.op) {
      case GatewayOpcodes.Heartbeat:
        return connection.send({ op: GatewayOpcodes.HeartbeatAck });
      case GatewayOpcodes.Identify:
        if (session) return connection.close(GatewayCloseCodes.AlreadyAuthenticated, "Already authenticated.");
        return this.#identify(payload.d as GatewayIdentifyData, context);
      case GatewayOpcodes.Resume:
        return this.#resume(payload.d as GatewayResumeData, context);
      case GatewayOpcodes.RequestGuildMembers:
        if (session) await this.#sendMemberChunk(session, payload.d as MemberRequest);
        return;
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
        return;
      default:
        return connection.close(GatewayCloseCodes.UnknownOpcode, "Unknown opcode.");
    }
  }

  async #identify(identify: GatewayIdentifyData, context: ConnectionContext): Promise<void> {
    const shard = sessionShard(identify.shard);
    if (!shard) return context.connection.close(GatewayCloseCodes.InvalidShard, "Invalid shard.");
    this.identifyPacing.record(shard);
    const session = new GatewaySession(randomUUID().replaceAll("-", ""), identify, shard, context.connection);
    context.session = session;
    this.#live.set(session.id, session);
    const guilds = [...this.state.guilds.values()].filter((guild) => shardOfGuild(guild.id, shard.count) === shard.id);
    const guildIds = guilds.map((guild) => guild.id);
    await session.send(GatewayDispatchEvents.Ready, readyPayload(this.state, session.id, this.options.resumeUrl(), shard, guildIds));
    // discord.js holds back its `ready` event until every guild listed in READY has arrived.
    for (const guild of guilds) {
      await session.send(GatewayDispatchEvents.GuildCreate, guildCreatePayload(this.state, guild));
    }
    const { query } = context;
    this.sessions.push({ sessionId: session.id, identify, intents: identify.intents, query, shard, guildIds, at: new Date() });
  }

  async #resume(resume: GatewayResumeData, context: ConnectionContext): Promise<void> {
    const session = this.#live.get(resume.session_id);
    if (!session) {
      // d: false tells discord.js to start over with a fresh IDENTIFY.
      return context.connection.send({ op: GatewayOpcodes.InvalidSession, d: false });
    }
    session.connection?.close(GatewayCloseCodes.SessionTimedOut, "Superseded by a resume");
    session.connection = context.connection;
    context.session = session;
    for (const event of session.backlog.filter((missed) => missed.s > resume.seq)) {
      await context.connection.send({ op: GatewayOpcodes.Dispatch, s: event.s, t: event.t, d: event.d });
    }
    await session.send(GatewayDispatchEvents.Resumed, {});
  }

  async #sendMemberChunk(session: GatewaySession, request: MemberRequest): Promise<void> {
    const guildIds = Array.isArray(request.guild_id) ? request.guild_id : [request.guild_id];
    for (const guildId of guildIds) {
      const members = [...(this.state.guilds.get(guildId)?.members.values() ?? [])];
      const userIds = request.user_ids === undefined ? null : [request.user_ids].flat();
      const query = request.query ?? "";
      const selected = members
        .filter((member) => (userIds ? userIds.includes(member.user.id) : member.user.username.startsWith(query)))
        .slice(0, request.limit || undefined);
      await session.send(GatewayDispatchEvents.GuildMembersChunk, {
        guild_id: guildId,
        members: selected,
        chunk_index: 0,
        chunk_count: 1,
        not_found: userIds?.filter((id) => !selected.some((member) => member.user.id === id)) ?? [],
        ...(request.nonce ? { nonce: request.nonce } : {}),
      });
    }
  }
}

function parsePayload(raw: RawData): { op: GatewayOpcodes; d: unknown } | null {
  try {
    const text = Array.isArray(raw) ? Buffer.concat(raw).toString("utf8") : Buffer.from(raw as ArrayBuffer).toString("utf8");
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || typeof (parsed as { op?: unknown }).op !== "number") return null;
    return parsed as { op: GatewayOpcodes; d: unknown };
  } catch {
    return null;
  }
}
