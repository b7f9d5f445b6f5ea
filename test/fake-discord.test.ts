/**
 * Proves the fake Discord in test/support/fake-discord is good enough for the real discord.js
 * Client: login, events, replies, interactions with files, history paging, archived threads,
 * 429 retries, reconnect/resume and a clean shutdown.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type ChatInputCommandInteraction,
  Client,
  type ClientEvents,
  Events,
  GatewayIntentBits,
  type Interaction,
  type Message,
  type TextChannel,
} from "discord.js";
import { type APIMessage, ApplicationCommandOptionType, GatewayOpcodes, MessageReferenceType } from "discord-api-types/v10";
import { FakeDiscord, type GuildHandle } from "./support/fake-discord/index.ts";

/** A real 2×1 PNG, so width/height sniffing and byte checks are meaningful. */
const TINY_PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000002000000010806000000f478d4fa" +
    "0000000d49444154789c63f8cfc0f01f0005000201a3a8e1f50000000049454e44ae426082",
  "hex",
);

/** Resolves with the first event of that name matching `predicate`, or rejects after `timeoutMs`. */
function nextEvent<K extends keyof ClientEvents>(
  client: Client,
  event: K,
  predicate: (...args: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: ClientEvents[K]) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      client.off(event, listener as never);
      resolve(args);
    };
    const timer = setTimeout(() => {
      client.off(event, listener as never);
      reject(new Error(`no ${String(event)} within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on(event, listener as never);
  });
}

describe("fake Discord with the real discord.js Client", () => {
  let fake: FakeDiscord;
  let guild: GuildHandle;
  let client: Client;
  let loginMs = 0;

  before(async () => {
    fake = await FakeDiscord.start();
    guild = fake.addGuild({
      name: "Art Club",
      channels: [
        { name: "general" },
        {
          name: "art",
          threads: [
            { name: "wip" },
            { name: "old-1", archived: true, archivedAt: new Date("2024-01-01T00:00:00Z") },
            { name: "old-2", archived: true, archivedAt: new Date("2024-02-01T00:00:00Z") },
            { name: "old-3", archived: true, archivedAt: new Date("2024-03-01T00:00:00Z") },
            { name: "secret", private: true, archived: true },
          ],
        },
        { name: "after-dark", nsfw: true },
        { name: "history" },
      ],
    });
    client = new Client({
      intents: [
        GatewayIntentBits.Guilds,
        GatewayIntentBits.GuildMessages,
        GatewayIntentBits.GuildMessageReactions,
        GatewayIntentBits.MessageContent,
      ],
      rest: { api: fake.apiUrl },
    });
    const started = Date.now();
    const ready = nextEvent(client, Events.ClientReady, () => true, 15_000);
    await client.login("fake-bot-token");
    await ready;
    loginMs = Date.now() - started;
  });

  after(async () => {
    await client?.destroy();
    await fake?.close();
  });

  it("logs in quickly with the guild, its channels and the bot member cached", () => {
    assert.ok(loginMs < 5_000, `login took ${loginMs} ms`);
    assert.equal(client.user?.id, fake.botUser.id);
    const cachedGuild = client.guilds.cache.get(guild.id);
    assert.ok(cachedGuild, "guild cached");
    assert.equal(cachedGuild.name, "Art Club");
    assert.ok(cachedGuild.members.me, "bot member cached");
    const nsfw = cachedGuild.channels.cache.get(guild.channel("after-dark").id) as TextChannel;
    assert.equal(nsfw.nsfw, true);
    assert.ok(cachedGuild.channels.cache.has(guild.thread("wip").id), "active thread cached");
    assert.ok(!cachedGuild.channels.cache.has(guild.thread("old-1").id), "archived thread not sent in GUILD_CREATE");
    const intents = fake.identifiedIntents ?? 0;
    assert.ok(intents & GatewayIntentBits.MessageContent, "MessageContent intent requested");
    assert.ok(nsfw.permissionsFor(cachedGuild.members.me)?.has("ReadMessageHistory"));
  });

  it("delivers MESSAGE_CREATE with attachments served by the fake CDN, and records the bot's reply", async () => {
    const channelId = guild.channel("general").id;
    const received = nextEvent(client, Events.MessageCreate, (message) => !message.author.bot);
    const posted = await fake.postMessage(channelId, {
      content: "look at this",
      attachments: [fake.attachment({ filename: "cat.png", bytes: TINY_PNG })],
    });
    const [message] = await received;
    assert.equal(message.id, posted.id);
    assert.equal(message.content, "look at this");
    const attachment = message.attachments.first();
    assert.ok(attachment);
    assert.deepEqual([attachment.width, attachment.height, attachment.contentType], [2, 1, "image/png"]);
    const download = await fetch(attachment.url);
    assert.equal(download.headers.get("content-type"), "image/png");
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), TINY_PNG);

    const echo = nextEvent(client, Events.MessageCreate, (created) => created.author.id === fake.botUser.id);
    const reply = await message.reply("found 3 lookalikes");
    const request = await fake.waitForRequest({ method: "POST", path: "/channels/:channelId/messages" });
    assert.deepEqual((request.json as { message_reference?: { message_id?: string } }).message_reference?.message_id, posted.id);
    const stored = fake.message(channelId, reply.id);
    assert.equal(stored.referenced_message?.id, posted.id);
    assert.equal(stored.message_reference?.type, MessageReferenceType.Default);
    const [echoed] = await echo;
    assert.equal(echoed.id, reply.id, "the bot sees its own message, as on Discord");
  });

  it("unfurls an image link in MESSAGE_UPDATE, served by the external-media proxy on a host of its own", async () => {
    const channelId = guild.channel("general").id;
    const embed = fake.linkEmbed({ filename: "cat.png", bytes: TINY_PNG });
    const posted = await fake.postMessage(channelId, { content: `see ${embed.url}` });
    const updated = nextEvent(client, Events.MessageUpdate, (_old, message) => message.id === posted.id);
    await fake.editMessage(channelId, posted.id, { embeds: [embed] });
    const [, message] = await updated;
    const thumbnail = message.embeds[0]?.thumbnail;
    assert.ok(thumbnail?.proxyURL);
    assert.deepEqual([message.embeds[0]?.data.type, thumbnail.width, thumbnail.height], ["image", 2, 1]);

    const proxied = new URL(thumbnail.proxyURL);
    assert.equal(proxied.host, fake.externalMediaHost);
    assert.notEqual(proxied.hostname, new URL(fake.baseUrl).hostname, "not the fake's own host");
    const [, external, signature, scheme, originHost] = decodeURIComponent(proxied.pathname).split("/");
    assert.deepEqual(
      [external, scheme, originHost],
      ["external", "http", new URL(fake.originUrl).host],
      "/external/<signature>/<scheme>/<host>/<path>",
    );
    assert.ok(signature);
    const copy = await fetch(thumbnail.proxyURL);
    assert.equal(copy.headers.get("content-type"), "image/png");
    assert.deepEqual(Buffer.from(await copy.arrayBuffer()), TINY_PNG);
    assert.equal(fake.findRequests({ kind: "external" }).at(-1)?.status, 200);
    assert.deepEqual(fake.originHits(), [], "the proxy serves its copy without contacting the original");

    const original = await fetch(thumbnail.url);
    assert.deepEqual(Buffer.from(await original.arrayBuffer()), TINY_PNG);
    assert.equal(fake.originHits().length, 1, "hits to the original are recorded");

    const redirecting = fake.linkEmbed({ filename: "moved.png", bytes: TINY_PNG, proxied: { redirectTo: "http://203.0.113.9/moved.png" } });
    const redirect = await fetch(redirecting.thumbnail!.proxy_url!, { redirect: "manual" });
    assert.deepEqual([redirect.status, redirect.headers.get("location")], [302, "http://203.0.113.9/moved.png"]);
  });

  it("runs a slash command with an attachment option: deferReply then editReply with a file", async () => {
    const channelId = guild.channel("general").id;
    const sheet = Buffer.concat([TINY_PNG, Buffer.from("contact-sheet")]);
    client.once(Events.InteractionCreate, (interaction: Interaction) => {
      void (async () => {
        const command = interaction as ChatInputCommandInteraction;
        const image = command.options.getAttachment("image", true);
        await command.deferReply();
        await command.editReply({ content: `matches for ${image.name}`, files: [{ attachment: sheet, name: "sheet.png" }] });
      })();
    });
    const handle = await fake.invokeCommand({
      name: "lookalike",
      channelId,
      options: [
        { name: "image", attachment: fake.attachment({ filename: "query.png", bytes: TINY_PNG }) },
        { name: "count", value: 9, type: ApplicationCommandOptionType.Integer },
      ],
    });

    const reply = await handle.waitForReply();
    assert.equal(handle.replies[0]?.callbackType, 5, "deferred first");
    assert.equal(reply.kind, "edit");
    assert.equal(reply.files[0]?.name, "sheet.png");
    assert.deepEqual(reply.files[0]?.bytes, sheet);
    assert.equal(reply.message?.content, "matches for query.png");
    const uploaded = handle.final()?.message?.attachments[0];
    assert.ok(uploaded, "uploaded file became an attachment");
    assert.deepEqual(Buffer.from(await (await fetch(uploaded.url)).arrayBuffer()), sheet);
    assert.equal(fake.messages(channelId).at(-1)?.id, handle.originalId, "the reply is in the channel history");
  });

  it("pages 250 seeded messages 100 at a time, newest first", async () => {
    const channelId = guild.channel("history").id;
    const start = Date.now() - 250 * 60_000;
    const seeded = fake.seedMessages(
      channelId,
      Array.from({ length: 250 }, (_, index) => ({ content: `#${index}`, timestamp: new Date(start + index * 60_000) })),
    );
    const channel = (await client.channels.fetch(channelId)) as TextChannel;
    const cursor = fake.requestCursor();
    const seen: string[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await channel.messages.fetch({ limit: 100, ...(before ? { before } : {}), cache: false });
      seen.push(...page.keys());
      if (page.size < 100) break;
      before = page.lastKey();
    }
    assert.deepEqual(seen, seeded.map((message) => message.id).reverse());
    const pageRequests = fake.findRequests({ method: "GET", path: "/channels/:id/messages" }).filter((r) => r.index >= cursor);
    assert.deepEqual(
      pageRequests.map((r) => r.query.limit),
      ["100", "100", "100"],
    );
    const createdAt = (await channel.messages.fetch(seeded[0]?.id as string)).createdTimestamp;
    assert.ok(Math.abs(createdAt - start) < 1_000, "snowflake timestamps match the backdated time");
  });

  it("lists archived threads through discord.js, with paging", async () => {
    const art = client.channels.cache.get(guild.channel("art").id) as TextChannel;
    const all = await art.threads.fetchArchived();
    assert.deepEqual(
      [...all.threads.values()].map((thread) => thread.name),
      ["old-3", "old-2", "old-1"],
    );
    assert.equal(all.hasMore, false);

    const firstPage = await art.threads.fetchArchived({ limit: 2 });
    assert.equal(firstPage.threads.size, 2);
    assert.equal(firstPage.hasMore, true);
    const oldest = [...firstPage.threads.values()].at(-1);
    assert.ok(oldest?.archivedAt);
    const secondPage = await art.threads.fetchArchived({ limit: 2, before: oldest.archivedAt });
    assert.deepEqual(
      [...secondPage.threads.values()].map((thread) => thread.name),
      ["old-1"],
    );

    // Listing all private archived threads needs Manage Threads, which the default bot role lacks.
    await assert.rejects(art.threads.fetchArchived({ type: "private", fetchAll: true }), { code: 50013 });
  });

  it("retries by itself through injected 429s", async () => {
    const channel = client.channels.cache.get(guild.channel("general").id) as TextChannel;
    const [posted] = fake.seedMessages(channel.id, [{ content: "rate me" }]);
    fake.injectRateLimit({ method: "GET", path: "/channels/:channelId/messages/:messageId", times: 2 });
    const cursor = fake.requestCursor();
    const fetched: Message = await channel.messages.fetch({ message: posted?.id as string, force: true });
    assert.equal(fetched.content, "rate me");
    const calls = fake.requests.slice(cursor).filter((request) => request.path === `/channels/${channel.id}/messages/${posted?.id}`);
    assert.deepEqual(
      calls.map((call) => call.status),
      [429, 429, 200],
    );
  });

  it("answers a button click whose handler updates the message", async () => {
    const channelId = guild.channel("general").id;
    const [results] = fake.seedMessages(channelId, [
      {
        author: fake.botUser,
        content: "page 1",
        components: [{ type: 1, components: [{ type: 2, style: 1, custom_id: "page:2", label: "Next" }] }],
      },
    ]);
    client.once(Events.InteractionCreate, (interaction) => {
      if (interaction.isButton()) void interaction.update({ content: `page ${interaction.customId.split(":")[1]}` });
    });
    const handle = await fake.clickButton(results as APIMessage, "page:2");
    const reply = await handle.waitForReply();
    assert.equal(reply.callbackType, 7);
    assert.equal(fake.message(channelId, results?.id as string).content, "page 2");
  });

  it("dispatches guild and channel lifecycle events", async () => {
    const joined = nextEvent(client, Events.GuildCreate);
    const newGuild = fake.addGuild({ name: "Second Server" });
    assert.equal((await joined)[0].id, newGuild.id);

    const threadGone = nextEvent(client, Events.ThreadDelete);
    await fake.deleteChannel(guild.thread("wip").id);
    assert.equal((await threadGone)[0].name, "wip");

    const general = newGuild.channel("general");
    const channelGone = nextEvent(client, Events.ChannelDelete);
    await fake.deleteChannel(general.id);
    assert.equal((await channelGone)[0].id, general.id);

    const left = nextEvent(client, Events.GuildDelete);
    await fake.removeGuild(newGuild.id);
    assert.equal((await left)[0].id, newGuild.id);
    assert.ok(!client.guilds.cache.has(newGuild.id));
  });

  it("blanks content for a client without the Message Content intent, unless the bot is mentioned", async () => {
    const limited = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages], rest: { api: fake.apiUrl } });
    try {
      const ready = nextEvent(limited, Events.ClientReady);
      await limited.login("fake-bot-token");
      await ready;
      const channelId = guild.channel("general").id;
      const plain = nextEvent(limited, Events.MessageCreate);
      await fake.postMessage(channelId, {
        content: "no intent, no content",
        attachments: [fake.attachment({ filename: "dog.png", bytes: TINY_PNG })],
      });
      const [blanked] = await plain;
      assert.deepEqual([blanked.content, blanked.attachments.size], ["", 0]);
      const mention = nextEvent(limited, Events.MessageCreate);
      await fake.postMessage(channelId, { content: `<@${fake.botUser.id}> this one` });
      assert.equal((await mention)[0].content, `<@${fake.botUser.id}> this one`);
    } finally {
      await limited.destroy();
    }
  });

  it("acknowledges heartbeats", async () => {
    const cursor = fake.gateway.received.length;
    const beat = nextEvent(client, Events.Debug, (line) => line.includes("Heartbeat acknowledged"));
    await fake.gateway.requestHeartbeat();
    await fake.gateway.received.waitFor((payload) => payload.op === GatewayOpcodes.Heartbeat, "a heartbeat", { since: cursor });
    await beat;
    assert.ok(client.ws.ping >= 0);
  });

  it("resumes after the gateway asks for a reconnect, without losing events", async () => {
    const identifiesBefore = fake.gateway.sessions.length;
    await fake.gateway.requestReconnect();
    await fake.gateway.received.waitFor((payload) => payload.op === GatewayOpcodes.Resume, "RESUME");
    const channelId = guild.channel("general").id;
    const received = nextEvent(client, Events.MessageCreate, (message) => message.content === "after resume");
    await fake.postMessage(channelId, { content: "after resume" });
    await received;
    assert.equal(fake.gateway.sessions.length, identifiesBefore, "resumed the session instead of identifying again");
  });

  it("made no calls the fake does not know", () => {
    assert.deepEqual(fake.unexpectedRequests(), []);
  });
});
