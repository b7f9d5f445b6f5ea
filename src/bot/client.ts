/** The discord.js client: the intents Lookalike needs and the REST base (Discord's, a proxy's, or a fake's). */
import { Client, type ClientOptions, GatewayIntentBits, Options, Partials } from "discord.js";
import type { BotConfig } from "./config.ts";

/** `sharding`: which shard this client is (sharding/shard-client.ts); none: every shard Discord gives one process (one). */
export function createClient(
  config: Pick<BotConfig, "apiUrl">,
  sharding: Pick<ClientOptions, "shards" | "shardCount" | "ws"> = {},
): Client {
  return new Client({
    ...sharding,
    intents: [
      GatewayIntentBits.Guilds,
      GatewayIntentBits.GuildMessages,
      // Privileged: without it attachments and embeds arrive empty, so live detection and backfill
      // see no images (the commands and the context menu still work).
      GatewayIntentBits.MessageContent,
    ],
    // Deletions of messages the bot has not cached still arrive (as partials) and still clean up.
    partials: [Partials.Message, Partials.Channel],
    // The index is the memory; keep discord.js's message cache small.
    makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 50 }),
    rest: config.apiUrl ? { api: config.apiUrl } : {},
    allowedMentions: { parse: [], repliedUser: false },
  });
}
