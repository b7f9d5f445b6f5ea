/**
 * The discord.js options that make a client one shard of the bot: its id and the shard count, and,
 * when a shard manager started this process, identifies paced by the manager (identify-queue.ts).
 */
import type { ClientOptions } from "discord.js";
import { IDENTIFY_QUEUE_ENV, type ManagerChannel, ManagerIdentifyThrottler } from "./identify-queue.ts";
import type { ShardIdentity } from "./ownership.ts";

export type ShardClientOptions = Pick<ClientOptions, "shards" | "shardCount" | "ws">;

/** None for a bot without shards; `channel`: the IPC channel to the manager, if there is one. */
export function shardClientOptions(shard: ShardIdentity | null, channel: ManagerChannel | null = managerChannel()): ShardClientOptions {
  if (!shard) return {};
  return {
    shards: [shard.id],
    shardCount: shard.count,
    ...(channel ? { ws: { buildIdentifyThrottler: () => new ManagerIdentifyThrottler(channel) } } : {}),
  };
}

/** This process's IPC channel to the shard manager (manager.ts) that forked it, or null. */
function managerChannel(): ManagerChannel | null {
  const send = process.send?.bind(process);
  if (!send || process.env[IDENTIFY_QUEUE_ENV] !== "ipc") return null;
  return {
    send: (message, callback) => send(message, undefined, undefined, callback),
    on: (event, listener) => process.on(event, listener),
    off: (event, listener) => process.off(event, listener),
  };
}
