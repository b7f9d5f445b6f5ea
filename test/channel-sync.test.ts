/**
 * ChannelSync's recovery: when a server's checkpoints cannot be read, the check of its channels is
 * tried again later, so images posted while the bot was down are still caught up without waiting
 * for a reconnect; and a message whose images' host keeps failing holds its channel's checkpoint
 * only for a while; and a live message in a channel whose history the bot cannot read is indexed
 * when it arrives, since no catch-up pass could read it later. The real `LiveCheckpoints` over a state store stub; Discord's side (a server
 * with one text channel) and the indexer are the least the sync reads.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChannelType, type Client, type Guild, type Message } from "discord.js";
import pino from "pino";
import type { GuildState, GuildStateStore } from "../src/bot/guild-state.ts";
import type { BotMetrics } from "../src/bot/metrics.ts";
import { ChannelSync, type ChannelSyncDeps } from "../src/bot/services/channel-sync.ts";
import { LiveCheckpoints } from "../src/bot/services/live-checkpoints.ts";
import type { IndexMessageOptions, MessageIndexer } from "../src/bot/services/message-indexer.ts";
import { LookalikeError } from "../src/retrieval/errors.ts";
import { memoryStateStore } from "./support/memory-state.ts";
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

describe("ChannelSync when an image's host keeps failing", () => {
  it("holds the channel's checkpoint below the message, then skips those images and moves on", async () => {
    const { state, store } = memoryStateStore({ since: "100", channels: {} });
    const message = (id: string) =>
      ({
        id,
        guildId: GUILD_ID,
        channelId: CHANNEL_ID,
        createdTimestamp: Date.now() - 3_600_000,
        inGuild: () => true,
        author: { id: "5" },
        channel: { type: ChannelType.GuildText },
      }) as unknown as Message<true>;
    const history = new Map(["101", "102", "103"].map((id) => [id, message(id)]));
    const channel = {
      id: CHANNEL_ID,
      guildId: GUILD_ID,
      type: ChannelType.GuildText,
      lastMessageId: "103",
      messages: { fetch: async ({ after }: { after: string }) => new Map([...history].filter(([id]) => BigInt(id) > BigInt(after))) },
    };
    const guild = { id: GUILD_ID, members: { me: null }, channels: { cache: new Map([[CHANNEL_ID, channel]]) } } as unknown as Guild;
    const client = { guilds: { cache: new Map([[GUILD_ID, guild]]) }, user: null } as unknown as Client;
    // Message 102's image is on a host that answers 503 for good.
    const calls: { id: string; onHostFailure: IndexMessageOptions["onHostFailure"] }[] = [];
    const indexer = {
      async indexMessage(indexed: Message<true>, options: IndexMessageOptions) {
        calls.push({ id: indexed.id, onHostFailure: options.onHostFailure });
        if (indexed.id === "102" && options.onHostFailure !== "skip") throw new LookalikeError("download_failed", "HTTP 503");
        return {
          indexed: indexed.id === "102" ? 0 : 1,
          skipped: indexed.id === "102" ? { download_failed: 1 } : {},
          reposts: [],
          deferred: false,
        };
      },
    } as unknown as MessageIndexer;
    const logger = pino({ level: "silent" });
    const checkpoints = new LiveCheckpoints(store, logger, 10);
    const sync = new ChannelSync({
      client,
      indexer,
      checkpoints,
      state: store,
      metrics: { error: () => undefined } as unknown as BotMetrics,
      logger,
      options: { retryDelaysMs: [30], hostFailureBudgetMs: 300 },
    } as unknown as ChannelSyncDeps);

    try {
      await sync.syncGuild(guild);
      await waitUntil("a second try of message 102", () => calls.filter((call) => call.id === "102").length >= 2, 5_000);
      assert.equal(checkpoints.position(GUILD_ID, CHANNEL_ID), "100", "held below 102 while its image is tried again");
      await waitUntil("the channel caught up past 102", () => checkpoints.position(GUILD_ID, CHANNEL_ID) === "103", 5_000);
      const tries = calls.filter((call) => call.id === "102");
      assert.ok(tries.length >= 3, `tried again for a while first: ${JSON.stringify(tries)}`);
      assert.deepEqual(
        tries.map((call) => call.onHostFailure),
        [...Array.from({ length: tries.length - 1 }, () => "hold"), "skip"],
      );
    } finally {
      // A failure above must not leave the sync retrying for ever (the test file would never end).
      await sync.stop();
    }
    assert.equal(state.live.channels[CHANNEL_ID], "103", "the checkpoint saved past it");
  });
});

describe("ChannelSync in a channel whose history the bot cannot read", () => {
  it("indexes a live message there at once, before the server's check and however busy, since no pass could", async () => {
    const { store } = memoryStateStore({ since: "100", channels: {} });
    const historyReads = { count: 0 };
    // The bot may view the channel but not read its history (no Read Message History).
    const channel = {
      id: CHANNEL_ID,
      guildId: GUILD_ID,
      type: ChannelType.GuildText,
      lastMessageId: "101",
      permissionsFor: () => ({ has: () => false }),
      messages: {
        fetch: async () => {
          historyReads.count++;
          return new Map();
        },
      },
    };
    const guild = { id: GUILD_ID, members: { me: { id: "9" } }, channels: { cache: new Map([[CHANNEL_ID, channel]]) } } as unknown as Guild;
    const client = { guilds: { cache: new Map([[GUILD_ID, guild]]) }, user: { id: "9" } } as unknown as Client;
    const message = {
      id: "101",
      guildId: GUILD_ID,
      channelId: CHANNEL_ID,
      guild,
      channel,
      createdTimestamp: Date.now(),
      inGuild: () => true,
      author: { id: "5" },
    } as unknown as Message<true>;
    // A busy bot: whatever may be deferred is.
    const calls: IndexMessageOptions["whenBusy"][] = [];
    const indexer = {
      async indexMessage(_: Message<true>, options: IndexMessageOptions) {
        calls.push(options.whenBusy);
        return { indexed: options.whenBusy === "defer" ? 0 : 1, skipped: {}, reposts: [], deferred: options.whenBusy === "defer" };
      },
    } as unknown as MessageIndexer;
    const logger = pino({ level: "silent" });
    const sync = new ChannelSync({
      client,
      indexer,
      checkpoints: new LiveCheckpoints(store, logger),
      state: store,
      metrics: { error: () => undefined } as unknown as BotMetrics,
      logger,
      options: { retryDelaysMs: [30] },
    } as unknown as ChannelSyncDeps);
    try {
      // The message arrives before syncGuild has looked at the channel (a connect's race).
      await sync.onMessage(message);
      assert.deepEqual(calls, ["wait"], "indexed live, waiting for room rather than left to a pass");
      await sync.syncGuild(guild);
      assert.equal(sync.backlog, 0);
      assert.equal(historyReads.count, 0, "no pass tries to read what it cannot");
    } finally {
      await sync.stop();
    }
  });
});
