/**
 * Images of links, end to end: Discord unfurls a link a moment after it is posted (MESSAGE_UPDATE
 * with an embed) and serves the picture from its external-media proxy. The real bot must download
 * that copy — from the proxy, a host of its own in the fake — and never the linked site.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { APIEmbed } from "discord-api-types/v10";
import { eventually, samplePhotos } from "./support/bot-fixtures.ts";
import { type Harness, startHarness } from "./support/bot-harness.ts";
import type { GuildHandle } from "./support/fake-discord/index.ts";

describe("images of unfurled links", () => {
  let h: Harness;
  let guild: GuildHandle;
  let photos: Buffer[];
  const channelId = () => guild.channel("general").id;
  const indexed = async () => (await h.bot.context.engine.collection(guild.id)).count();

  /** A user posts links; Discord unfurls them a moment later. */
  const postLinks = async (embeds: APIEmbed[]) => {
    const message = await h.fake.postMessage(channelId(), { content: embeds.map((embed) => embed.url).join("\n") });
    await h.fake.editMessage(channelId(), message.id, { embeds });
    return message;
  };

  before(async () => {
    photos = await samplePhotos(2);
    h = await startHarness((fake) => {
      guild = fake.addGuild({ name: "Links" });
    });
  });
  after(() => h?.close());

  it("indexes the proxied copy, finds it with /similar, and never contacts the linked site", async () => {
    const message = await postLinks([h.fake.linkEmbed({ filename: "sunset.jpg", bytes: photos[0]! })]);
    await eventually(async () => (await indexed()) === 1, "the linked image indexed");
    const stored = await (await h.bot.context.engine.collection(guild.id)).get([`${message.id}-e0`]);
    assert.equal(stored.size, 1, "indexed under the embed's id");

    const handle = await h.fake.invokeCommand({
      name: "similar",
      channelId: channelId(),
      options: [{ name: "image", attachment: h.fake.attachment({ filename: "query.jpg", bytes: photos[0]! }) }],
    });
    const reply = await handle.waitForReply(undefined, { timeoutMs: 20_000 });
    const text = (reply.message?.embeds ?? []).map((embed) => embed.description ?? "").join("\n");
    assert.equal(/\/channels\/\d+\/\d+\/(\d+)/.exec(text)?.[1], message.id, "the linked image is the first match");

    const proxied = h.fake.findRequests({ kind: "external" });
    assert.ok(
      proxied.some((request) => request.method === "GET" && request.status === 200),
      "downloaded from the proxy",
    );
    assert.deepEqual(h.fake.originHits(), [], "never fetched the original");
    assert.deepEqual(h.fake.unexpectedRequests(), []);
  });

  it("does not follow the proxy to the linked site", async () => {
    const before = await indexed();
    const moved = h.fake.linkEmbed({ filename: "moved.jpg", bytes: photos[1]!, proxied: { redirectTo: `${h.fake.originUrl}/moved.jpg` } });
    const fine = h.fake.linkEmbed({ filename: "fine.jpg", bytes: photos[1]! });
    const message = await postLinks([moved, fine]);
    // Both images of a message are written together, so once the second is in, the first was decided.
    await eventually(async () => (await indexed()) === before + 1, "the good link indexed");
    const stored = await (await h.bot.context.engine.collection(guild.id)).get([`${message.id}-e0`, `${message.id}-e1`]);
    assert.deepEqual([...stored.keys()], [`${message.id}-e1`]);
    assert.ok(
      h.fake.findRequests({ kind: "external" }).some((request) => request.status === 302),
      "the proxy answered with a redirect",
    );
    assert.deepEqual(h.fake.originHits(), [], "the redirect to the original was refused");
  });
});
