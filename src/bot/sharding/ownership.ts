/**
 * Which shard a server belongs to, as pure functions: Discord routes a server's events to shard
 * `(guild_id >> 22) % shard_count`, and the shard that receives them is the only one that writes
 * the server's tables (write-guard.ts enforces that).
 */

/** A shard: its id (0-based) and the bot's total number of shards, as in IDENTIFY's `shard: [id, count]`. */
export interface ShardIdentity {
  readonly id: number;
  readonly count: number;
}

/** The shard Discord routes the server to (the server id's timestamp bits modulo the shard count). */
export function shardOfGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** Whether `shard` owns the server; a bot without shards (null) owns every server. */
export function ownsGuild(guildId: string, shard: ShardIdentity | null): boolean {
  return shard === null || shardOfGuild(guildId, shard.count) === shard.id;
}

/** "shard 1 of 2" — shard ids count from 0, as Discord's do. */
export function describeShard(shard: ShardIdentity): string {
  return `shard ${shard.id} of ${shard.count}`;
}
