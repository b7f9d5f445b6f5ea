import { GatewayDispatchEvents } from "discord-api-types/v10";

/**
 * Sharding as Discord does it. A session that identified with `shard: [id, count]` receives the
 * guilds (READY, GUILD_CREATE) and the guild events of the servers routed to that shard,
 * `(guild_id >> 22) % count`, and nothing of the others; events without a guild (DMs) go to shard
 * 0. A session that identified without `shard` is shard 0 of 1: it gets everything.
 *
 * Written from Discord's documentation, independently of the bot's own formula
 * (src/bot/sharding/ownership.ts), so a bot that routes servers differently fails the tests.
 */
export interface SessionShard {
  readonly id: number;
  readonly count: number;
}

export const UNSHARDED: SessionShard = { id: 0, count: 1 };

/** The shard Discord sends a server's events to. */
export function shardOfGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** IDENTIFY's `shard` field as a shard, null when it is not `[id, count]` with 0 ≤ id < count. */
export function sessionShard(field: unknown): SessionShard | null {
  if (field === undefined) return UNSHARDED;
  if (!Array.isArray(field) || field.length !== 2) return null;
  const [id, count] = field as unknown[];
  const valid =
    Number.isInteger(id) && Number.isInteger(count) && (count as number) >= 1 && (id as number) >= 0 && (id as number) < (count as number);
  return valid ? { id: id as number, count: count as number } : null;
}

/** Events whose payload is the guild itself (`id`); every other guild event names it in `guild_id`. */
const GUILD_PAYLOAD_EVENTS = new Set<string>([
  GatewayDispatchEvents.GuildCreate,
  GatewayDispatchEvents.GuildUpdate,
  GatewayDispatchEvents.GuildDelete,
]);

/** The server an event is about, or null for events outside servers (DMs). */
export function guildOfEvent(t: string, d: unknown): string | null {
  if (typeof d !== "object" || d === null) return null;
  const value = GUILD_PAYLOAD_EVENTS.has(t) ? (d as { id?: unknown }).id : (d as { guild_id?: unknown }).guild_id;
  return typeof value === "string" ? value : null;
}

export function shardReceives(shard: SessionShard, t: string, d: unknown): boolean {
  const guildId = guildOfEvent(t, d);
  return guildId === null ? shard.id === 0 : shardOfGuild(guildId, shard.count) === shard.id;
}

/** Discord's session-start window: `max_concurrency` identifies per 5 s, one per bucket. */
export const IDENTIFY_WINDOW_MS = 5_000;

export interface IdentifyRecord {
  readonly shard: SessionShard;
  /** `shard.id % max_concurrency`. */
  readonly bucket: number;
  readonly at: number;
  /** Milliseconds since the previous identify of the same bucket; null for the bucket's first. */
  readonly sincePrevious: number | null;
  /** Less than IDENTIFY_WINDOW_MS after the previous identify of the same bucket: Discord would refuse it. */
  readonly tooSoon: boolean;
}

/**
 * Records every IDENTIFY with its rate-limit bucket, and flags the ones that came too soon after
 * the previous one of their bucket. The fake does not refuse them (discord.js would retry, and a
 * test would only see a slow start): tests assert that none was too soon.
 */
export class IdentifyPacing {
  readonly identifies: IdentifyRecord[] = [];
  readonly #lastInBucket = new Map<number, number>();

  constructor(readonly maxConcurrency: number) {}

  record(shard: SessionShard, at = Date.now()): IdentifyRecord {
    const bucket = shard.id % this.maxConcurrency;
    const previous = this.#lastInBucket.get(bucket);
    const sincePrevious = previous === undefined ? null : at - previous;
    const record = { shard, bucket, at, sincePrevious, tooSoon: sincePrevious !== null && sincePrevious < IDENTIFY_WINDOW_MS };
    this.#lastInBucket.set(bucket, at);
    this.identifies.push(record);
    return record;
  }

  /** Identifies that came too soon after another of their bucket. */
  get tooSoon(): IdentifyRecord[] {
    return this.identifies.filter((record) => record.tooSoon);
  }
}
