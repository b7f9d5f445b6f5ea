/**
 * The real bot (same composition root as `npm start`) against the fake Discord: `/similar`, the
 * context menu, live repost alerts and "Not a repost", deletion sync, channel permissions, NSFW,
 * server isolation, hostile attachments.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type APIEmbed, type APIMessage, type APIUser, ApplicationCommandType, PermissionFlagsBits } from "discord-api-types/v10";
import { pngBomb, pseudoRandomBytes } from "./support/bad-images.ts";
import { crop, eventually, recompress, samplePhotos } from "./support/bot-fixtures.ts";
import { type Harness, startHarness } from "./support/bot-harness.ts";
import { forwardOf, type GuildHandle, type InteractionHandle } from "./support/fake-discord/index.ts";

describe("Lookalike bot end to end", () => {
  let h: Harness;
  let art: GuildHandle;
  let other: GuildHandle;
  let visitor: APIUser;
  let mod: APIUser;
  let photos: Buffer[];
  const posted: Record<string, APIMessage> = {};

  const indexed = async (guildId: string) => (await h.bot.context.engine.collection(guildId)).count();
  const post = async (guild: GuildHandle, channel: string, name: string, bytes: Buffer, author?: APIUser) => {
    const message = await h.fake.postMessage(guild.channel(channel).id, {
      author,
      attachments: [h.fake.attachment({ filename: `${name}.jpg`, bytes })],
    });
    posted[name] = message;
    return message;
  };
  const similar = async (
    guild: GuildHandle,
    channel: string,
    bytes: Buffer,
    user?: APIUser,
    extra: { name: string; value: unknown }[] = [],
  ) => {
    const handle = await h.fake.invokeCommand({
      name: "similar",
      channelId: guild.channel(channel).id,
      user,
      options: [{ name: "image", attachment: h.fake.attachment({ filename: "query.jpg", bytes }) }, ...(extra as never[])],
    });
    return handle.waitForReply(undefined, { timeoutMs: 20_000 });
  };
  const embedText = (reply: Awaited<ReturnType<InteractionHandle["waitForReply"]>>) =>
    ((reply.message?.embeds ?? []) as APIEmbed[]).map((e) => `${e.title ?? ""}\n${e.description ?? ""}`).join("\n");
  const firstLink = (text: string) => /\/channels\/\d+\/(\d+)\/(\d+)/.exec(text)?.slice(1);

  before(async () => {
    photos = await samplePhotos(8);
    h = await startHarness((fake) => {
      visitor = fake.createUser({ username: "visitor" });
      mod = fake.createUser({ username: "mod" });
      art = fake.addGuild({
        name: "Art Club",
        roles: [{ name: "mods", permissions: PermissionFlagsBits.ManageMessages | PermissionFlagsBits.ViewChannel }],
        members: [{ user: visitor }, { user: mod, roles: ["mods"] }],
        channels: [
          { name: "general" },
          { name: "memes" },
          {
            name: "staff",
            overwrites: [
              { role: "@everyone", deny: PermissionFlagsBits.ViewChannel },
              { role: "mods", allow: PermissionFlagsBits.ViewChannel },
            ],
          },
          { name: "after-dark", nsfw: true },
        ],
      });
      other = fake.addGuild({ name: "Other Server", members: [{ user: visitor }] });
    });
    await post(art, "general", "sunset", photos[0]!);
    await post(art, "general", "forest", photos[1]!);
    await post(art, "staff", "secret", photos[2]!);
    await post(art, "after-dark", "spicy", photos[3]!);
    await post(art, "memes", "other", photos[4]!);
    // Setup, not a speed check: the first images also start the inference worker and load the model,
    // which on a busy 2-core CI machine (other test files run beside this one) can take a while.
    let count = 0;
    await eventually(
      async () => (count = await indexed(art.id)) === 5,
      () => `five images indexed (${count} so far)`,
      90_000,
    );
  });
  after(() => h?.close());

  it("/similar puts the original first, with a contact sheet and a jump link", async () => {
    const reply = await similar(art, "general", await recompress(photos[0]!));
    assert.equal(reply.files.length, 1, "a contact sheet is attached");
    assert.equal(reply.files[0]!.bytes.subarray(8, 12).toString("latin1"), "WEBP");
    const [channelId, messageId] = firstLink(embedText(reply))!;
    assert.deepEqual([channelId, messageId], [art.channel("general").id, posted.sunset!.id]);
    assert.match(embedText(reply), /\*\*1\.\*\* \d+\.\d %/);
  });

  it("never shows a member images from channels they cannot view", async () => {
    const asVisitor = embedText(await similar(art, "general", await recompress(photos[2]!), visitor));
    assert.ok(!asVisitor.includes(posted.secret!.id), "the staff-only image is hidden from a visitor");
    const asMod = embedText(await similar(art, "general", await recompress(photos[2]!), mod));
    assert.equal(firstLink(asMod)?.[1], posted.secret!.id, "a moderator who can see #staff gets it first");
  });

  it("shows NSFW-channel images only when asked in an NSFW channel", async () => {
    const query = await recompress(photos[3]!);
    assert.ok(!embedText(await similar(art, "general", query)).includes(posted.spicy!.id));
    assert.equal(firstLink(embedText(await similar(art, "after-dark", query)))?.[1], posted.spicy!.id);
  });

  it("keeps servers apart", async () => {
    const reply = await similar(other, "general", await recompress(photos[0]!), visitor);
    assert.match(embedText(reply), /No look-alikes found.*0 images indexed/s);
  });

  it('"Find similar images" on a message answers privately with the original first', async () => {
    const target = await h.fake.postMessage(art.channel("memes").id, {
      author: mod,
      attachments: [h.fake.attachment({ filename: "crop.jpg", bytes: await crop(photos[1]!) })],
    });
    const handle = await h.fake.invokeCommand({
      name: "Find similar images",
      type: ApplicationCommandType.Message,
      channelId: art.channel("memes").id,
      targetMessage: target,
    });
    const reply = await handle.waitForReply(undefined, { timeoutMs: 20_000 });
    assert.equal(reply.ephemeral, true);
    assert.equal(firstLink(embedText(reply))?.[1], posted.forest!.id);
    assert.ok(!embedText(reply).includes(target.id), "the message itself is not its own match");
  });

  it('"Find similar images" reads the images inside a forwarded message', async () => {
    const forward = await h.fake.postMessage(art.channel("memes").id, { author: mod, ...forwardOf(posted.sunset!, art.id) });
    const handle = await h.fake.invokeCommand({
      name: "Find similar images",
      type: ApplicationCommandType.Message,
      channelId: art.channel("memes").id,
      targetMessage: forward,
    });
    const reply = await handle.waitForReply(undefined, { timeoutMs: 20_000 });
    assert.equal(firstLink(embedText(reply))?.[1], posted.sunset!.id);
  });

  it("flags a re-encoded and a cropped repost with a link to the original, not an unrelated image", async () => {
    const cursor = h.fake.requestCursor();
    // Discord answers the alert with 429 twice; discord.js waits and retries by itself.
    h.fake.injectRateLimit({ method: "POST", path: "/channels/:id/messages", times: 2 });
    const reencoded = await post(art, "memes", "repost1", await recompress(photos[0]!), visitor);
    const alert1 = await h.fake.waitForRequest(
      (r) =>
        r.method === "POST" &&
        r.status === 200 &&
        r.path === `/channels/${art.channel("memes").id}/messages` &&
        (r.json as { message_reference?: { message_id?: string } })?.message_reference?.message_id === reencoded.id,
      { since: cursor, timeoutMs: 20_000 },
    );
    assert.equal(h.fake.findRequests((r) => r.index >= cursor && r.rateLimited).length, 2, "the 429s were served");
    const alertText = JSON.stringify(alert1.json);
    assert.ok(alertText.includes(posted.sunset!.id), "the alert links the original message");
    assert.match(alertText, /Not a repost/);

    const cropped = await post(art, "memes", "repost2", await crop(photos[1]!, 0.7), visitor);
    await h.fake.waitForRequest(
      (r) =>
        r.method === "POST" && (r.json as { message_reference?: { message_id?: string } })?.message_reference?.message_id === cropped.id,
      { since: cursor, timeoutMs: 20_000 },
    );

    const unrelated = await post(art, "memes", "fresh", photos[5]!, visitor);
    await eventually(
      async () => (await (await h.bot.context.engine.collection(art.id)).get([unrelated.attachments[0]!.id])).size === 1,
      "unrelated indexed",
    );
    const alerts = h.fake.findRequests(
      (r) =>
        r.index >= cursor &&
        r.method === "POST" &&
        (r.json as { message_reference?: { message_id?: string } })?.message_reference?.message_id === unrelated.id,
    );
    assert.equal(alerts.length, 0, "no alert for an unrelated image");
  });

  it('remembers "Not a repost": the same picture is not flagged against that original again', async () => {
    const cursor = h.fake.requestCursor();
    const bytes = await recompress(photos[4]!);
    const first = await post(art, "general", "lookalike1", bytes, mod);
    const alertRequest = await h.fake.waitForRequest(
      (r) =>
        r.method === "POST" &&
        r.status === 200 &&
        (r.json as { message_reference?: { message_id?: string } })?.message_reference?.message_id === first.id,
      { since: cursor, timeoutMs: 20_000 },
    );
    const alertMessage = h.fake
      .messages(art.channel("general").id)
      .find((m) => m.message_reference?.message_id === first.id && m.author.id === h.fake.botUser.id)!;
    assert.ok(alertMessage, JSON.stringify(alertRequest.json));
    const row = alertMessage.components?.[0] as { components: { custom_id: string }[] } | undefined;
    assert.ok(row, "the alert has a button row");
    const customId = row.components[0]!.custom_id;
    const denied = await h.fake.clickButton(alertMessage, customId, visitor);
    assert.match(JSON.stringify((await denied.waitForReply()).json), /Only the person who posted/);
    const click = await h.fake.clickButton(alertMessage, customId, mod);
    await click.waitForReply();
    await eventually(() => !h.fake.messages(art.channel("general").id).some((m) => m.id === alertMessage.id), "alert removed");
    // A different member posts the same picture again: not flagged against that original.
    const again = await post(art, "general", "lookalike2", bytes, visitor);
    await eventually(
      async () => (await (await h.bot.context.engine.collection(art.id)).get([again.attachments[0]!.id])).size === 1,
      "indexed",
    );
    const later = h.fake.findRequests(
      (r) =>
        r.index >= cursor &&
        r.method === "POST" &&
        (r.json as { message_reference?: { message_id?: string } })?.message_reference?.message_id === again.id &&
        JSON.stringify(r.json).includes(posted.other!.id),
    );
    assert.equal(later.length, 0);
  });

  it("answers hostile attachments with a clear message and keeps running", async () => {
    for (const [bytes, expected] of [
      [pngBomb(), /too many pixels/],
      [pseudoRandomBytes(5000), /could not read that image/i],
    ] as const) {
      const reply = await similar(art, "general", bytes);
      assert.match(reply.message?.content ?? "", expected);
    }
    const huge = h.fake.attachment({ filename: "huge.jpg", bytes: photos[0]!, served: { streamBytes: 60e6, sendContentLength: false } });
    const handle = await h.fake.invokeCommand({
      name: "similar",
      channelId: art.channel("general").id,
      options: [{ name: "image", attachment: huge }],
    });
    assert.match((await handle.waitForReply(undefined, { timeoutMs: 20_000 })).message?.content ?? "", /too large/);
    const redirected = h.fake.attachment({
      filename: "elsewhere.jpg",
      bytes: photos[0]!,
      served: { redirectTo: "http://198.51.100.7/x.jpg" },
    });
    const handle2 = await h.fake.invokeCommand({
      name: "similar",
      channelId: art.channel("general").id,
      options: [{ name: "image", attachment: redirected }],
    });
    assert.match((await handle2.waitForReply(undefined, { timeoutMs: 20_000 })).message?.content ?? "", /not hosted on Discord/);
    // Discord's CDN down: a try-again message, not an apology for a bug.
    const unavailable = h.fake.attachment({ filename: "outage.jpg", bytes: photos[0]!, served: { status: 503 } });
    const handle3 = await h.fake.invokeCommand({
      name: "similar",
      channelId: art.channel("general").id,
      options: [{ name: "image", attachment: unavailable }],
    });
    const outage = (await handle3.waitForReply(undefined, { timeoutMs: 20_000 })).message?.content ?? "";
    assert.match(outage, /could not download that image from Discord just now; please try again/);
    assert.doesNotMatch(outage, /logged/);
    // Still working afterwards (the original, or its repost posted by an earlier test, comes first).
    const reply = await similar(art, "general", await recompress(photos[0]!));
    assert.ok([posted.sunset!.id, posted.repost1!.id].includes(firstLink(embedText(reply))![1]!));
  });

  it("removes deleted messages, bulk deletes and deleted channels from the index", async () => {
    const table = await h.bot.context.engine.collection(art.id);
    const before = await table.count();
    await h.fake.deleteMessage(art.channel("general").id, posted.forest!.id);
    await eventually(async () => (await table.count()) === before - 1, "message delete");
    const memes = h.fake.messages(art.channel("memes").id).filter((m) => m.attachments.length > 0 && m.author.id !== h.fake.botUser.id);
    await h.fake.bulkDeleteMessages(
      art.channel("memes").id,
      memes.map((m) => m.id),
    );
    await eventually(async () => (await table.count({ channelIds: [art.channel("memes").id] })) === 0, "bulk delete");
    const afterDark = art.channel("after-dark").id;
    assert.equal(await table.count({ channelIds: [afterDark] }), 1);
    await h.fake.deleteChannel(afterDark);
    await eventually(async () => (await table.count({ channelIds: [afterDark] })) === 0, "channel delete");
  });

  it("forgets a member who asks, and forgets a server that removes the bot", async () => {
    const table = await h.bot.context.engine.collection(art.id);
    const mine = await post(art, "general", "mine", photos[6]!, visitor);
    // Forget-me races the indexing of "mine" on purpose: whichever wins, nothing of the visitor stays.
    const forget = await h.fake.invokeCommand({
      name: "lookalike",
      channelId: art.channel("general").id,
      user: visitor,
      options: [{ name: "forget-me", subcommand: [] }],
    });
    assert.match((await forget.waitForReply()).message?.content ?? "", /removed/);
    assert.equal(await table.count({ authorIds: [visitor.id] }), 0);
    await post(art, "general", "mine2", photos[7]!, visitor);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await table.count({ authorIds: [visitor.id] }), 0, `opted-out members are not indexed (${mine.id} and later)`);

    await post(other, "general", "o1", photos[0]!);
    await eventually(async () => (await indexed(other.id)) === 1, "other server indexed");
    await h.fake.removeGuild(other.id);
    await eventually(async () => !(await h.bot.context.engine.store.collections()).includes(other.id), "server forgotten");
  });

  it("/lookalike stats reports the index and which metric repost checks use", async () => {
    const handle = await h.fake.invokeCommand({
      name: "lookalike",
      channelId: art.channel("general").id,
      user: mod,
      options: [{ name: "stats", subcommand: [] }],
    });
    const embed = ((await handle.waitForReply()).message?.embeds ?? [])[0] as APIEmbed | undefined;
    const field = (name: string) => embed?.fields?.find((f) => f.name === name)?.value;
    const table = await h.bot.context.engine.collection(art.id);
    assert.equal(field("Images indexed"), String(await table.count()));
    // A test server is far below the 2,000 images a whitening is learned from.
    assert.equal(field("Repost metric"), "plain cosine until 2000 images are indexed");
  });

  it("made no calls the fake Discord does not know", () => {
    assert.deepEqual(
      h.fake.unexpectedRequests().map((r) => `${r.method} ${r.path} ${r.status}`),
      [],
    );
  });
});
