/**
 * `/repost settings` and the three alert actions, end to end: the real bot against the fake
 * Discord. Moderators (Manage Server) show and change the settings; a repost then gets a reply, a
 * ♻️ reaction or a post in the log channel; ignored channels and a member's own recent images get
 * none. The rules themselves are table-tested in repost-policy.test.ts.
 *
 * Alerts wait until their message is 1.5 s old (channel-sync's grace period), so "no alert" is
 * asserted once the image is indexed and two more seconds have passed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type APIEmbed, type APIMessage, type APIUser, PermissionFlagsBits } from "discord-api-types/v10";
import { eventually, recompress, samplePhotos } from "./support/bot-fixtures.ts";
import { type Harness, startHarness } from "./support/bot-harness.ts";
import type { CommandOptionInput, GuildHandle, RecordedRequest } from "./support/fake-discord/index.ts";

describe("repost settings and alert actions end to end", () => {
  let h: Harness;
  let club: GuildHandle;
  let mod: APIUser;
  let alice: APIUser;
  let bob: APIUser;
  let photos: Buffer[];

  const channelId = (name: string) => club.channel(name).id;

  /** `/repost settings` with these options; the reply's embed fields by name (or its text when refused). */
  const repostSettings = async (options: CommandOptionInput[], user = mod) => {
    const handle = await h.fake.invokeCommand({
      name: "repost",
      channelId: channelId("general"),
      user,
      options: [{ name: "settings", subcommand: options }],
    });
    const reply = await handle.waitForReply(undefined, { timeoutMs: 10_000 });
    const embed = (reply.message?.embeds ?? [])[0] as APIEmbed | undefined;
    const fields = Object.fromEntries((embed?.fields ?? []).map((f) => [f.name, f.value]));
    return { reply, fields, content: reply.message?.content ?? "" };
  };

  const post = (channel: string, bytes: Buffer, author: APIUser, name = "photo") =>
    h.fake.postMessage(channelId(channel), { author, attachments: [h.fake.attachment({ filename: `${name}.jpg`, bytes })] });

  const indexed = (message: APIMessage) =>
    eventually(
      async () => (await (await h.bot.context.engine.collection(club.id)).get([message.attachments[0]!.id])).size === 1,
      `${message.id} indexed`,
    );

  /** An original by `author` in #general, stored before the test goes on. */
  const original = async (bytes: Buffer, author = alice) => {
    const message = await post("general", bytes, author, "original");
    await indexed(message);
    return message;
  };

  /** Every alert about `message` since `cursor`: a post naming it (reply or log) or a reaction on it. */
  const alertsAbout = (message: APIMessage, cursor: number) =>
    h.fake.findRequests(
      (r) =>
        r.index >= cursor &&
        ((r.method === "POST" && /^\/channels\/\d+\/messages$/.test(r.path) && JSON.stringify(r.json ?? {}).includes(message.id)) ||
          (r.method === "PUT" && r.path.startsWith(`/channels/${message.channel_id}/messages/${message.id}/reactions/`))),
    );
  const describeRequests = (requests: RecordedRequest[]) => requests.map((r) => `${r.method} ${r.path}`);

  const replyTo = (message: APIMessage, cursor: number) =>
    h.fake.waitForRequest(
      (r) =>
        r.method === "POST" &&
        r.status === 200 &&
        r.path === `/channels/${message.channel_id}/messages` &&
        (r.json as { message_reference?: { message_id?: string } } | undefined)?.message_reference?.message_id === message.id,
      { since: cursor, timeoutMs: 20_000 },
    );

  const expectNoAlert = async (message: APIMessage, cursor: number) => {
    await indexed(message);
    await sleep(2_000);
    assert.deepEqual(describeRequests(alertsAbout(message, cursor)), [], `no alert about ${message.id}`);
  };

  before(async () => {
    photos = await samplePhotos(5, 20);
    h = await startHarness((fake) => {
      mod = fake.createUser({ username: "mod" });
      alice = fake.createUser({ username: "alice" });
      bob = fake.createUser({ username: "bob" });
      club = fake.addGuild({
        name: "Photo Club",
        roles: [{ name: "admins", permissions: PermissionFlagsBits.ManageGuild | PermissionFlagsBits.ViewChannel }],
        members: [{ user: mod, roles: ["admins"] }, { user: alice }, { user: bob }],
        channels: [{ name: "general" }, { name: "memes" }, { name: "mod-log" }],
      });
    });
    await h.fake.waitForIdentify();
  });
  after(() => h?.close());

  it("/repost settings with no options shows the settings, privately", async () => {
    const { reply, fields } = await repostSettings([]);
    assert.equal(reply.ephemeral, true);
    assert.deepEqual(fields, {
      Enabled: "yes",
      Action: "reply",
      Sensitivity: "balanced",
      "Ignored channels": "none",
      "Look back": "all history",
      "Same-author window": "24 h",
    });
  });

  it("refuses a member without Manage Server and changes nothing", async () => {
    const { content, fields } = await repostSettings([{ name: "action", value: "react" }], alice);
    assert.match(content, /Manage Server/);
    assert.deepEqual(fields, {});
    assert.equal((await h.bot.context.state.get(club.id)).settings.action, "reply");
  });

  it("reply (the default): replies under the repost with a link to the original and a Not a repost button", async () => {
    const first = await original(photos[0]!);
    const cursor = h.fake.requestCursor();
    const repost = await post("general", await recompress(photos[0]!), bob, "repost");
    const alert = await replyTo(repost, cursor);
    const text = JSON.stringify(alert.json);
    assert.ok(text.includes(`/channels/${club.id}/${channelId("general")}/${first.id}`), `links the original: ${text}`);
    assert.match(text, /Not a repost/);
    assert.deepEqual(
      describeRequests(alertsAbout(repost, cursor)),
      [`POST /channels/${channelId("general")}/messages`],
      "one alert, no reaction",
    );

    // A moderator deletes the repost later: the alert under it is taken down too.
    const posted = h.fake.messages(channelId("general")).find((m) => m.message_reference?.message_id === repost.id);
    assert.ok(posted, "the alert is in the channel");
    await h.fake.deleteMessage(repost.channel_id, repost.id);
    await h.fake.waitForRequest(
      { method: "DELETE", path: `/channels/${channelId("general")}/messages/${posted.id}` },
      { since: cursor, timeoutMs: 10_000 },
    );
  });

  it("react: a moderator switches to ♻️ reactions; a repost gets one and no reply", async () => {
    assert.equal((await repostSettings([{ name: "action", value: "react" }])).fields.Action, "react");
    await original(photos[1]!);
    const cursor = h.fake.requestCursor();
    const repost = await post("general", await recompress(photos[1]!), bob, "repost");
    await h.fake.waitForRequest(
      (r) =>
        r.method === "PUT" && r.status < 300 && r.path.startsWith(`/channels/${channelId("general")}/messages/${repost.id}/reactions/`),
      { since: cursor, timeoutMs: 20_000 },
    );
    assert.deepEqual(
      h.fake.message(channelId("general"), repost.id)?.reactions?.map((r) => [r.emoji.name, r.count, r.me]),
      [["♻️", 1, true]],
    );
    assert.deepEqual(
      describeRequests(alertsAbout(repost, cursor)).filter((line) => line.startsWith("POST")),
      [],
      "no reply and no log post",
    );
  });

  it("log: alerts go to the log channel with the repost's link and a working Not a repost button", async () => {
    const { fields } = await repostSettings([
      { name: "action", value: "log" },
      { name: "log_channel", channel: club.channel("mod-log") },
    ]);
    assert.equal(fields.Action, `log → <#${channelId("mod-log")}>`);
    const first = await original(photos[2]!);
    const cursor = h.fake.requestCursor();
    const repost = await post("general", await recompress(photos[2]!), bob, "repost");
    await h.fake.waitForRequest((r) => r.method === "POST" && r.status === 200 && r.path === `/channels/${channelId("mod-log")}/messages`, {
      since: cursor,
      timeoutMs: 20_000,
    });
    const logged = h.fake.messages(channelId("mod-log")).find((m) => m.author.id === h.fake.botUser.id)!;
    const text = ((logged.embeds ?? []) as APIEmbed[]).map((e) => e.description ?? "").join("\n");
    assert.ok(text.includes(`/channels/${club.id}/${channelId("general")}/${repost.id}`), `the repost's link: ${text}`);
    assert.ok(text.includes(`/channels/${club.id}/${channelId("general")}/${first.id}`), `the original's link: ${text}`);
    const button = (logged.components?.[0] as { components: { label?: string; custom_id: string }[] } | undefined)?.components[0];
    assert.equal(button?.label, "Not a repost");
    assert.deepEqual(
      describeRequests(alertsAbout(repost, cursor)),
      [`POST /channels/${channelId("mod-log")}/messages`],
      "nothing in the repost's channel",
    );
    // The poster dismisses it from the log channel: the log post goes away.
    const click = await h.fake.clickButton(logged, button!.custom_id, bob);
    assert.match((await click.waitForReply()).message?.content ?? "", /won't flag that pair again/);
    await eventually(() => !h.fake.messages(channelId("mod-log")).some((m) => m.id === logged.id), "log post removed");
  });

  it("ignore_channel: no alert in an ignored channel; the same repost elsewhere is still flagged", async () => {
    const { fields } = await repostSettings([
      { name: "action", value: "reply" },
      { name: "ignore_channel", channel: club.channel("memes") },
    ]);
    assert.equal(fields["Ignored channels"], `<#${channelId("memes")}>`);
    assert.equal(fields.Action, "reply");
    await original(photos[3]!);
    const cursor = h.fake.requestCursor();
    const ignored = await post("memes", await recompress(photos[3]!), bob, "repost");
    await expectNoAlert(ignored, cursor);
    // Control: the same picture in a checked channel is a repost (of alice's original).
    const flagged = await post("general", await recompress(photos[3]!), mod, "repost");
    await replyTo(flagged, cursor);
    assert.equal((await repostSettings([{ name: "unignore_channel", channel: club.channel("memes") }])).fields["Ignored channels"], "none");
  });

  it("sensitivity and lookback changes are shown and kept", async () => {
    const { fields } = await repostSettings([
      { name: "sensitivity", value: "strict" },
      { name: "lookback_days", value: 30 },
    ]);
    assert.equal(fields.Sensitivity, "strict");
    assert.equal(fields["Look back"], "30 days");
    const { settings } = await h.bot.context.state.get(club.id);
    assert.deepEqual([settings.sensitivity, settings.lookbackDays], ["strict", 30]);
    const back = await repostSettings([
      { name: "sensitivity", value: "balanced" },
      { name: "lookback_days", value: 0 },
    ]);
    assert.deepEqual([back.fields.Sensitivity, back.fields["Look back"]], ["balanced", "all history"]);
  });

  it("same_author_hours: a member reposting their own image within the window gets no alert; with the window off they do", async () => {
    assert.equal((await repostSettings([{ name: "same_author_hours", value: 12 }])).fields["Same-author window"], "12 h");
    await original(photos[4]!, alice);
    const cursor = h.fake.requestCursor();
    const own = await post("general", await recompress(photos[4]!), alice, "again");
    await expectNoAlert(own, cursor);
    assert.equal((await repostSettings([{ name: "same_author_hours", value: 0 }])).fields["Same-author window"], "off");
    const ownAgain = await post("general", await recompress(photos[4]!), alice, "again");
    await replyTo(ownAgain, cursor);
  });

  it("made no calls the fake Discord does not know", () => {
    assert.deepEqual(
      h.fake.unexpectedRequests().map((r) => `${r.method} ${r.path} ${r.status}`),
      [],
    );
  });
});
