/**
 * The fake Discord shards as Discord does, proven with real discord.js clients: `/gateway/bot`
 * recommends a shard count and `max_concurrency`; a client that identifies as shard `[id, count]`
 * gets the servers routed to it, `(guild_id >> 22) % count`, in READY and GUILD_CREATE, and only
 * their events and interactions; a client without `shard` gets everything; a bad `shard` is closed
 * with 4010; identifies are recorded with their rate-limit bucket.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client, type ClientEvents, Events, GatewayIntentBits } from "discord.js";
import { GatewayCloseCodes, GatewayOpcodes } from "discord-api-types/v10";
import { WebSocket } from "ws";
import { FakeDiscord, type GuildHandle, shardOfGuild } from "./support/fake-discord/index.ts";

const INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent];

/** Every event of that name the client emits from now on. */
function collect<K extends keyof ClientEvents>(client: Client, event: K): ClientEvents[K][] {
  const seen: ClientEvents[K][] = [];
  client.on(event, (...args) => void seen.push(args));
  return seen;
}

async function login(fake: FakeDiscord, sharding: { shards?: number[]; shardCount?: number } = {}): Promise<Client> {
  const client = new Client({ intents: INTENTS, rest: { api: fake.apiUrl }, ...sharding });
  const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
  await client.login("fake-bot-token");
  await ready;
  return client;
}

const until = async (probe: () => boolean, what: string, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe("fake Discord with shards", () => {
  let fake: FakeDiscord;
  let guilds: GuildHandle[];
  /** Shard 0 and shard 1 of 2, each its own client (as in two processes), and one client without shards. */
  let shards: Client[];
  let unsharded: Client;
  const owner = (guild: GuildHandle) => shardOfGuild(guild.id, 2);

  before(async () => {
    fake = await FakeDiscord.start({ shards: 2, maxConcurrency: 2 });
    // Consecutive milliseconds of the id's timestamp alternate between the two shards.
    const base = Date.now() - 60_000;
    guilds = [0, 1, 2, 3].map((i) => fake.addGuild({ id: fake.snowflake(base + i), name: `Server ${i}` }));
    shards = await Promise.all([0, 1].map((id) => login(fake, { shards: [id], shardCount: 2 })));
    unsharded = await login(fake);
  });

  after(async () => {
    await Promise.all([...(shards ?? []), unsharded].map((client) => client?.destroy()));
    await fake?.close();
  });

  it("recommends the configured shard count and max_concurrency in /gateway/bot", async () => {
    const response = await fetch(`${fake.apiUrl}/v10/gateway/bot`, { headers: { authorization: "Bot fake-bot-token" } });
    const body = (await response.json()) as { shards: number; session_start_limit: { max_concurrency: number } };
    assert.equal(body.shards, 2);
    assert.equal(body.session_start_limit.max_concurrency, 2);
  });

  it("lists each server in READY and GUILD_CREATE of its own shard only", () => {
    assert.deepEqual(new Set(guilds.map(owner)), new Set([0, 1]), "both shards own servers");
    for (const [id, client] of shards.entries()) {
      const expected = guilds.filter((guild) => owner(guild) === id).map((guild) => guild.id);
      assert.deepEqual([...client.guilds.cache.keys()].sort(), expected.sort(), `shard ${id}'s servers`);
    }
    assert.equal(unsharded.guilds.cache.size, 4, "a client without shards gets every server");
    const sessions = fake.gateway.sessions.entries;
    assert.deepEqual(sessions.map((session) => [session.shard.id, session.shard.count, session.guildIds.length]).sort(), [
      [0, 1, 4],
      [0, 2, 2],
      [1, 2, 2],
    ]);
  });

  it("sends a server's messages, interactions and new servers to its shard's connection only", async () => {
    const messages = shards.map((client) => collect(client, Events.MessageCreate));
    const interactions = shards.map((client) => collect(client, Events.InteractionCreate));
    const joined = shards.map((client) => collect(client, Events.GuildCreate));
    const everything = collect(unsharded, Events.MessageCreate);
    for (const guild of guilds) {
      await fake.postMessage(guild.channel("general").id, { content: `hello ${guild.name}` });
      await fake.invokeCommand({ name: "ping", channelId: guild.channel("general").id });
    }
    const late = fake.addGuild({ id: fake.snowflake(Date.now() - 30_000), name: "Late" });
    await until(() => everything.length === 4 && joined.flat().length === 1 && interactions.flat().length === 4, "every event");
    for (const [id] of shards.entries()) {
      const mine = guilds.filter((guild) => owner(guild) === id).map((guild) => guild.id);
      assert.deepEqual(messages[id]!.map(([message]) => message.guildId).sort(), [...mine].sort(), `shard ${id}'s messages`);
      assert.deepEqual(
        interactions[id]!.map(([interaction]) => interaction.guildId).sort(),
        [...mine].sort(),
        `shard ${id}'s interactions`,
      );
    }
    assert.equal(joined[shardOfGuild(late.id, 2)]!.length, 1, "the new server joins on its shard");
  });

  it("records each identify's bucket: two shards of different buckets may identify together", () => {
    const [first, second, third] = fake.gateway.identifyPacing.identifies;
    assert.deepEqual([first?.bucket, second?.bucket].sort(), [0, 1]);
    assert.deepEqual([first?.tooSoon, second?.tooSoon], [false, false]);
    // The client without shards identified right after them, in bucket 0 (shard 0 of 1): too soon.
    assert.deepEqual([third?.shard.count, third?.bucket, third?.tooSoon], [1, 0, true]);
  });

  it("flags a second identify of the same bucket within 5 s, and closes one with a shard outside the count (4010)", async () => {
    // Shard 0 of 2 again, at once: bucket 0 identified moments ago (max_concurrency 2 → buckets 0 and 1).
    const again = await rawIdentify(fake, [0, 2]);
    assert.equal(fake.gateway.identifyPacing.identifies.at(-1)?.tooSoon, true);
    again.socket.close(1000);
    const bad = await rawIdentify(fake, [2, 2]);
    assert.equal(await bad.closed, GatewayCloseCodes.InvalidShard);
  });

  it("made no calls the fake does not know", () => {
    assert.deepEqual(fake.unexpectedRequests(), []);
  });
});

/** A bare gateway connection that identifies as `shard` once HELLO arrives; `closed`: the close code. */
async function rawIdentify(fake: FakeDiscord, shard: [number, number]): Promise<{ socket: WebSocket; closed: Promise<number> }> {
  const socket = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json`);
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("message", () => {
      socket.send(
        JSON.stringify({
          op: GatewayOpcodes.Identify,
          d: { token: "fake-bot-token", intents: 1, properties: { os: "linux", browser: "test", device: "test" }, shard },
        }),
      );
      resolve();
    });
  });
  // The fake handles payloads in order: once this heartbeat is acknowledged, the identify was handled.
  socket.send(JSON.stringify({ op: GatewayOpcodes.Heartbeat, d: null }));
  await new Promise<void>((resolve) => {
    const onMessage = (raw: Buffer) => {
      if ((JSON.parse(raw.toString()) as { op: number }).op !== GatewayOpcodes.HeartbeatAck) return;
      socket.off("message", onMessage);
      resolve();
    };
    socket.on("message", onMessage);
    void closed.then(() => resolve());
  });
  return { socket, closed };
}
