/**
 * The bot with shards, end to end: `npm start` with LOOKALIKE_SHARDS=auto (the fake Discord
 * recommends 2: a shard manager and two shard processes, each loading the real model), the index on
 * object storage (s3rver), four servers of which each shard owns some. Each server is served (its
 * events) and written (the shards' own record in their logs) by its owner only; `/similar` and a
 * repost alert work on every server. Then the bot restarts with three shards, named the way several
 * machines name their slices (LOOKALIKE_SHARD_COUNT=3, LOOKALIKE_SHARD_IDS=0-2), which own the
 * servers differently: every server's images are still found and reposts of them still flagged, by
 * the new owners, which read the servers' state afresh from the database, and `/lookalike stats`
 * names each server's shard.
 * That a shard refuses to write a server it does not own is proven in sharding.test.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { APIEmbed, APIMessage, APIUser } from "discord-api-types/v10";
import { connectDatabase } from "../src/retrieval/store/database.ts";
import { crop, recompress, samplePhotos } from "./support/bot-fixtures.ts";
import { type BotEnvironment, type BotProcess, BotProcesses, botEnvironment, explainedByOutput } from "./support/bot-harness.ts";
import { FakeDiscord, type GuildHandle, IDENTIFY_WINDOW_MS, shardOfGuild } from "./support/fake-discord/index.ts";
import { type FakeS3, useFakeS3 } from "./support/object-store.ts";
import { waitUntil } from "./support/polling.ts";

/** The JSON log lines of a process (its shards' too: they write to the manager's stdout). */
function logLines(bot: BotProcess): Record<string, unknown>[] {
  return bot
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Per server, the shards that said they write it (write-guard.ts logs each server once per process). */
function writersByServer(bot: BotProcess): Map<string, Set<number>> {
  const writers = new Map<string, Set<number>>();
  for (const line of logLines(bot)) {
    if (typeof line.guildId !== "string" || typeof line.shard !== "number" || !String(line.msg).startsWith("this shard writes server"))
      continue;
    writers.set(line.guildId, (writers.get(line.guildId) ?? new Set()).add(line.shard));
  }
  return writers;
}

describe("the bot with shards, on object storage", () => {
  const bots = new BotProcesses();
  let fake: FakeDiscord;
  let s3: FakeS3;
  let servers: GuildHandle[];
  let alice: APIUser;
  let bob: APIUser;
  let photos: Buffer[];
  let env: BotEnvironment;
  let dbUri: string;
  /** The bot's settings with sharding on. */
  const withShards = (sharding: Record<string, string>) => ({ ...env, LOOKALIKE_DB_URI: dbUri, ...sharding });
  const originals = new Map<string, APIMessage>();

  before(async () => {
    s3 = await useFakeS3();
    photos = await samplePhotos(4, 34);
    // Discord recommends 2 shards and lets buckets 0 and 1 identify together.
    fake = await FakeDiscord.start({ shards: 2, maxConcurrency: 2 });
    alice = fake.createUser({ username: "alice" });
    bob = fake.createUser({ username: "bob" });
    // Servers whose ids' timestamps are consecutive milliseconds: with 2 shards they alternate
    // between shards 0 and 1, and with 3 each shard owns one or two.
    const base = Date.now() - 3_600_000;
    servers = [0, 1, 2, 3].map((i) =>
      fake.addGuild({ id: fake.snowflake(base + i), name: `Server ${i}`, members: [{ user: alice }, { user: bob }] }),
    );
    env = await botEnvironment(fake);
    dbUri = s3.freshUri("shards");
  });
  after(async () => {
    bots.killAll();
    await fake?.close();
    await s3?.stop();
  });

  /**
   * Ids of the server's stored images, read through a connection of the test's own. s3rver writes
   * an object in place, so a reader in another process can catch one mid-write (S3 never shows a
   * partial object): such a read is tried again.
   */
  async function storedIds(guildId: string): Promise<string[]> {
    for (let attempt = 1; ; attempt++) {
      const db = await connectDatabase(dbUri);
      try {
        if (!(await db.tableNames()).includes(`images_${guildId}`)) return [];
        const table = await db.openTable(`images_${guildId}`);
        const rows = (await table.query().select(["id"]).toArray()) as { id: string }[];
        table.close();
        return rows.map((row) => row.id);
      } catch (error) {
        if (attempt === 5) throw error;
      } finally {
        db.close();
      }
    }
  }

  const post = (server: GuildHandle, author: APIUser, bytes: Buffer, name: string) =>
    fake.postMessage(server.channel("general").id, { author, attachments: [fake.attachment({ filename: `${name}.jpg`, bytes })] });

  /** The bot's reply under `message`: a repost alert. */
  const alertUnder = (message: APIMessage) =>
    fake.waitForRequest(
      (r) =>
        r.method === "POST" &&
        r.status === 200 &&
        r.path === `/channels/${message.channel_id}/messages` &&
        (r.json as { message_reference?: { message_id?: string } } | undefined)?.message_reference?.message_id === message.id,
      { timeoutMs: 30_000 },
    );

  /** `/similar` on a crop of the server's photo: the reply names the original. */
  async function similarFindsOriginal(server: GuildHandle, photo: Buffer): Promise<void> {
    const handle = await fake.invokeCommand({
      name: "similar",
      channelId: server.channel("general").id,
      options: [{ name: "image", attachment: fake.attachment({ filename: "query.jpg", bytes: await crop(photo) }) }],
    });
    const reply = await handle.waitForReply((r) => (r.message?.embeds?.length ?? 0) > 0, { timeoutMs: 30_000 });
    const original = originals.get(server.id)!;
    assert.ok(JSON.stringify(reply.message?.embeds).includes(original.id), `${server.name}: /similar finds the original`);
  }

  /** What `/lookalike stats` says about the shard serving the server. */
  async function statsShard(server: GuildHandle): Promise<string | undefined> {
    const handle = await fake.invokeCommand({
      name: "lookalike",
      channelId: server.channel("general").id,
      options: [{ name: "stats", subcommand: [] }],
    });
    const embed = ((await handle.waitForReply(undefined, { timeoutMs: 30_000 })).message?.embeds ?? [])[0] as APIEmbed | undefined;
    return embed?.fields?.find((field) => field.name === "Shard")?.value;
  }

  /** Runs `check` on a running bot, then stops it; a failure carries the end of the bot's output, which says why. */
  async function whileRunning(bot: BotProcess, check: () => Promise<void>): Promise<void> {
    try {
      await explainedByOutput([bot], check);
    } finally {
      await bots.stop(bot);
    }
  }

  /** A repost by bob of each server's photo is flagged, on every server at once. */
  async function repostsAreFlagged(): Promise<void> {
    await Promise.all(
      servers.map(async (server, i) => {
        const repost = await post(server, bob, await recompress(photos[i]!), "repost");
        await alertUnder(repost);
      }),
    );
  }

  it("two shards (auto): each server is served and written by its owner only; /similar and alerts work on every server", async (t) => {
    const owners = servers.map((server) => shardOfGuild(server.id, 2));
    assert.deepEqual(new Set(owners), new Set([0, 1]), "both shards own servers");
    const started = Date.now();
    const bot = await bots.start(withShards({ LOOKALIKE_SHARDS: "auto" }), { online: 2 });
    t.diagnostic(`two shards online in ${Date.now() - started} ms`);
    await whileRunning(bot, async () => {
      await Promise.all(
        servers.map(async (server, i) => {
          const original = await post(server, alice, photos[i]!, "original");
          originals.set(server.id, original);
          await waitUntil(`${server.name}'s original stored`, async () => (await storedIds(server.id)).length === 1, 60_000, 100);
        }),
      );
      await repostsAreFlagged();
      await Promise.all(servers.map((server, i) => similarFindsOriginal(server, photos[i]!)));

      // Served: every event of a server reached its owner's session only.
      const sessions = new Map(fake.gateway.sessions.entries.map((session) => [session.sessionId, session.shard]));
      for (const [i, server] of servers.entries()) {
        const receivers = new Set(
          fake.gateway.dispatched.entries
            .filter((event) => (event.d as { guild_id?: string }).guild_id === server.id)
            .map((event) => sessions.get(event.sessionId)),
        );
        assert.deepEqual([...receivers], [{ id: owners[i], count: 2 }], `${server.name}'s events`);
      }
      // Written: each server by its owner, as the shards' logs record.
      const writers = writersByServer(bot);
      assert.deepEqual(
        servers.map((server) => [...(writers.get(server.id) ?? [])]),
        owners.map((owner) => [owner]),
      );
      assert.ok(!bot.output().includes("guild_not_owned"), "no write was refused");
      assert.deepEqual(fake.gateway.identifyPacing.tooSoon, [], "identifies paced by max_concurrency");
    });
  });

  it("three shards (a count and ids, as several machines set them): every server's images are still found, and reposts flagged, by the new owners", async (t) => {
    const owners = servers.map((server) => shardOfGuild(server.id, 3));
    assert.deepEqual(new Set(owners), new Set([0, 1, 2]), "every shard owns a server");
    const identifiesBefore = fake.gateway.identifyPacing.identifies.length;
    const started = Date.now();
    const bot = await bots.start(withShards({ LOOKALIKE_SHARD_COUNT: "3", LOOKALIKE_SHARD_IDS: "0-2" }), { online: 3 });
    t.diagnostic(`three shards online in ${Date.now() - started} ms`);
    await whileRunning(bot, async () => {
      await Promise.all(servers.map((server, i) => similarFindsOriginal(server, photos[i]!)));
      await repostsAreFlagged();
      for (const server of servers) {
        await waitUntil(
          `${server.name}: the original and both reposts stored`,
          async () => (await storedIds(server.id)).length === 3,
          30_000,
          100,
        );
      }

      const writers = writersByServer(bot);
      assert.deepEqual(
        servers.map((server) => [...(writers.get(server.id) ?? [])]),
        owners.map((owner) => [owner]),
      );
      assert.deepEqual(
        await Promise.all(servers.map(statsShard)),
        owners.map((owner) => `shard ${owner} of 3 serves this server`),
      );
      // Shards 0 and 2 share bucket 0 (max_concurrency 2): the manager's throttler let the second
      // identify 5 s (plus up to 1.5 s of jitter) after the first. The fake sees them when they arrive,
      // a little after the grants; on a loaded machine that may eat into the jitter, hence the slack.
      const identifies = fake.gateway.identifyPacing.identifies.slice(identifiesBefore);
      assert.deepEqual(identifies.map((record) => record.shard.id).sort(), [0, 1, 2]);
      const secondInBucket = identifies.filter((record) => record.bucket === 0).at(-1)!;
      assert.ok((secondInBucket.sincePrevious ?? 0) >= IDENTIFY_WINDOW_MS - 1_000, `bucket 0: ${secondInBucket.sincePrevious} ms apart`);
    });
  });
});
