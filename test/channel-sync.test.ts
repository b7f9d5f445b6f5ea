/**
 * ChannelSync's recovery when a server's checkpoints cannot be read: the check of its channels is
 * tried again later, so images posted while the bot was down are still caught up without waiting
 * for a reconnect. The real `LiveCheckpoints` over a state store that fails first; Discord's side
 * (a server with one text channel whose history read never answers) is the least the sync reads.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChannelType, type Client, type Guild } from "discord.js";
import pino from "pino";
import type { GuildState, GuildStateStore } from "../src/bot/guild-state.ts";
import type { BotMetrics } from "../src/bot/metrics.ts";
import { ChannelSync, type ChannelSyncDeps } from "../src/bot/services/channel-sync.ts";
import { LiveCheckpoints } from "../src/bot/services/live-checkpoints.ts";
import { waitUntil } from "./support/polling.ts";

const GUILD_ID = "1100000000000000001";
const CHANNEL_ID = "1100000000000000002";

/** A state store whose first `failures` reads throw, then a server watched since message 1. */
function flakyState(failures: number): GuildStateStore & { reads: number } {
  const store = {
    reads: 0,
    async get(): Promise<GuildState> {
      store.reads++;
      if (store.reads <= failures) throw new Error("the state table could not be read");
      return { live: { since: "1", channels: {} } } as unknown as GuildState;
    },
  };
  return store as unknown as GuildStateStore & { reads: number };
}

function server(historyReads: { count: number }) {
  const channel = {
    id: CHANNEL_ID,
    guildId: GUILD_ID,
    type: ChannelType.GuildText,
    // Newer than the checkpoint: the channel has messages to catch up.
    lastMessageId: "100",
    messages: {
      fetch: () => {
        historyReads.count++;
        return new Promise(() => undefined);
      },
    },
  };
  const guild = { id: GUILD_ID, members: { me: null }, channels: { cache: new Map([[CHANNEL_ID, channel]]) } } as unknown as Guild;
  const client = { guilds: { cache: new Map([[GUILD_ID, guild]]) }, user: null } as unknown as Client;
  return { guild, client };
}

function channelSync(state: GuildStateStore, client: Client, errors: string[]): ChannelSync {
  const logger = pino({ level: "silent" });
  const deps = {
    client,
    checkpoints: new LiveCheckpoints(state, logger),
    state,
    metrics: { error: (kind: string) => errors.push(kind) } as unknown as BotMetrics,
    logger,
    options: { retryDelaysMs: [20, 40] },
  } as unknown as ChannelSyncDeps;
  return new ChannelSync(deps);
}

describe("ChannelSync when a server's checkpoints cannot be read", () => {
  it("checks the server again later and then catches up its channel", async () => {
    const state = flakyState(2);
    const historyReads = { count: 0 };
    const { guild, client } = server(historyReads);
    const errors: string[] = [];
    const sync = channelSync(state, client, errors);
    await sync.syncGuild(guild);
    assert.equal(sync.backlog, 0, "nothing to catch up from while the checkpoints are unknown");
    await waitUntil("the channel's history read", () => historyReads.count > 0, 5_000);
    assert.equal(state.reads, 3, "two failed reads, then one that worked");
    assert.deepEqual(errors, ["catch_up_failed", "catch_up_failed"]);
    assert.equal(sync.backlog, 1, "the channel is being caught up");
    await sync.stop();
  });

  it("schedules one retry however many checks fail meanwhile, and none after stop", async () => {
    const state = flakyState(3);
    const historyReads = { count: 0 };
    const { guild, client } = server(historyReads);
    const sync = channelSync(state, client, []);
    // Three events ask for a check at once (ready, guild available, guild create): all three fail.
    await Promise.all([sync.syncGuild(guild), sync.syncGuild(guild), sync.syncGuild(guild)]);
    assert.equal(state.reads, 3);
    await waitUntil("the retry's read", () => state.reads > 3, 5_000);
    await waitUntil("the channel's history read", () => historyReads.count > 0, 5_000);
    assert.equal(state.reads, 4, "one retry, not three");
    await sync.stop();

    const stoppedState = flakyState(1);
    const stopped = channelSync(stoppedState, client, []);
    await stopped.syncGuild(guild);
    await stopped.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(stoppedState.reads, 1, "no retry after stop");
  });
});
