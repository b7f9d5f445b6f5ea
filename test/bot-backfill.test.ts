/**
 * `/index` end to end: the real bot (discord.js, model, LanceDB in a temp dir) against the fake
 * Discord, with a server of a few thousand messages and a few hundred small images; then the bot
 * in a child process, SIGKILLed mid-backfill and started again. Plus the retry policy and the
 * progress hand-over, which the fake cannot provoke (5xx, a 15-minute-old token).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type ChatInputCommandInteraction, DiscordAPIError, HTTPError } from "discord.js";
import type { APIUser } from "discord-api-types/v10";
import { pino } from "pino";
import { ChannelStopped, type RetryPolicy, withRetries } from "../src/bot/services/backfill/history.ts";
import { InteractionProgressSink } from "../src/bot/services/backfill/interaction-sink.ts";
import type { BackfillReport } from "../src/bot/services/backfill.ts";
import { distinctJpegs, FULL_WORLD, pagesFromScratch, type SeededWorld, SMALL_WORLD, seedWorld } from "./support/backfill-world.ts";
import { BotProcesses, botEnvironment, type Harness, startHarness } from "./support/bot-harness.ts";
import { openTestEngine } from "./support/engine.ts";
import { type CommandOptionInput, FakeDiscord, type InteractionHandle, type RecordedRequest } from "./support/fake-discord/index.ts";
import { readGuildStateFile, waitUntil } from "./support/polling.ts";

const ENDED = /· (✅ Finished|⏹️ Cancelled|⚠️ Stopped)/;
const HISTORY = { method: "GET", path: "/channels/:id/messages" } as const;

function runIndex(
  fake: FakeDiscord,
  channelId: string,
  subcommand: string,
  options: CommandOptionInput[] = [],
  user?: APIUser,
): Promise<InteractionHandle> {
  return fake.invokeCommand({ name: "index", channelId, user, options: [{ name: subcommand, subcommand: options }] });
}

/**
 * The last edit of a backfill's progress message. Generous: this checks what a backfill does, not
 * how fast (a few hundred images on two cores shared with another test file took over 60 s in CI).
 */
async function finalContent(handle: InteractionHandle, timeoutMs = 240_000): Promise<string> {
  const reply = await handle.waitForReply((r) => ENDED.test(r.message?.content ?? ""), { timeoutMs });
  return reply.message!.content;
}

/** A number after a label in the progress text ("Messages scanned: 2,750" → 2750). */
function count(text: string, label: string): number {
  const match = new RegExp(`${label}: ([\\d,]+)`).exec(text);
  assert.ok(match, `"${label}" in:\n${text}`);
  return Number(match[1]!.replaceAll(",", ""));
}

const historyPages = (fake: FakeDiscord, since = 0) =>
  fake.findRequests(HISTORY).filter((request: RecordedRequest) => request.index >= since && request.status === 200);

/** Every expected image is in the index exactly once, and nothing it must not hold. */
async function assertIndexHolds(
  table: { count(): Promise<number>; get(ids: readonly string[]): Promise<Map<string, unknown>> },
  world: SeededWorld,
) {
  assert.equal(await table.count(), world.expectedImageIds.length, "one row per seeded image");
  assert.equal((await table.get(world.expectedImageIds)).size, world.expectedImageIds.length, "every seeded image has its row");
  assert.equal((await table.get(world.forbiddenImageIds)).size, 0, "nothing from the private thread or the unreadable channel");
}

describe("/index in the running bot", () => {
  let harness: Harness;
  let world: SeededWorld;
  let generalId: string;

  before(async () => {
    harness = await startHarness(async (fake) => {
      world = await seedWorld(fake, FULL_WORLD);
    });
    generalId = world.guild.channel("general").id;
  });

  after(async () => {
    await harness?.close();
  });

  /** A job's final edit goes out just before it frees the server's slot. */
  const idle = () => waitUntil("the backfill slot to free up", () => !harness.bot.context.backfill.isRunning(world.guild.id));

  it("refuses a member without Manage Messages", async () => {
    const { fake } = harness;
    const member = fake.createUser({ username: "just-a-member" });
    fake.addMember(world.guild.id, member);
    const handle = await runIndex(fake, generalId, "server", [], member);
    const reply = await handle.waitForReply();
    assert.match(reply.message?.content ?? "", /Manage Messages/);
    assert.equal(reply.ephemeral, true);
    assert.equal(harness.bot.context.backfill.isRunning(world.guild.id), false);
  });

  it("indexes every readable channel and thread through 429s, with a progress message and no alerts", async () => {
    const { fake, bot } = harness;
    fake.injectRateLimit({ ...HISTORY, times: 6, retryAfterSeconds: 0.2 });
    fake.injectRateLimit({ method: "GET", path: "/channels/:id/threads/archived/public", times: 2 });
    const cursor = fake.requestCursor();
    const handle = await runIndex(fake, generalId, "server");
    const text = await finalContent(handle);

    assert.match(text, /✅ Finished/);
    assert.match(text, /\[█{20}\] 100%/);
    assert.equal(count(text, "Messages scanned"), world.readableMessages);
    assert.equal(count(text, "Images indexed"), world.expectedImageIds.length);
    assert.match(text, /6 of 6 done · 1 skipped \(no access 1\)/, "5 readable places + 1 active thread; the staff channel skipped");
    const edits = handle.replies.filter((reply) => reply.kind === "edit").map((reply) => reply.message?.content ?? "");
    assert.ok(
      edits.some((content) => /`\[[█░]{20}\] \d+%`/.test(content) && /Messages scanned: [\d,]+/.test(content)),
      "bar and counts",
    );
    assert.ok(edits.length >= 2 && edits.length < 30, `edited every few seconds, not per page (${edits.length} edits)`);
    assert.equal(fake.requests.slice(cursor).filter((request) => request.status === 429).length, 8, "the 429s were met and waited out");

    await assertIndexHolds(await bot.context.engine.collection(world.guild.id), world);
    assert.deepEqual(fake.findRequests({ method: "POST", path: "/channels/:id/messages" }), [], "no repost alert");
    assert.deepEqual(fake.findRequests({ method: "PUT", path: /\/reactions\// }), [], "no repost reaction");
    const { backfill } = await bot.context.state.get(world.guild.id);
    assert.ok(backfill.lastStartedAt && backfill.lastFinishedAt && backfill.lastFinishedAt >= backfill.lastStartedAt);
    assert.deepEqual(fake.unexpectedRequests(), []);
  });

  it("/index status reports the last backfill per channel", async () => {
    await idle();
    const handle = await runIndex(harness.fake, generalId, "status");
    const reply = await handle.waitForReply((r) => (r.message?.content ?? "").includes("Last backfill"));
    const text = reply.message!.content;
    assert.equal(reply.ephemeral, true);
    assert.match(text, /ended <t:\d+:R>/);
    assert.equal(count(text, "Images in the index"), world.expectedImageIds.length);
    assert.match(text, new RegExp(`✅ <#${generalId}>: 1,150 messages, 77 images indexed`));
  });

  it("a second /index reads everything again without embedding anything twice", async () => {
    const { fake, bot } = harness;
    await idle();
    const handle = await runIndex(fake, generalId, "server");
    const text = await finalContent(handle);
    assert.match(text, /✅ Finished/);
    assert.equal(count(text, "Images indexed"), world.expectedImageIds.length);
    assert.match(text, new RegExp(`${world.expectedImageIds.length} of them were already in the index`));
    await assertIndexHolds(await bot.context.engine.collection(world.guild.id), world);
  });

  it("/index cancel stops a job; the next /index continues from its checkpoint", async () => {
    const { fake, bot } = harness;
    await idle();
    const slow = await fake.addChannel(world.guild.id, { name: "slow" });
    // 250 messages = 3 pages; an image on page 2 downloads slowly, so the cancel lands there.
    const jpegs = (await distinctJpegs(world.expectedImageIds.length + 2)).slice(-2);
    const image = (index: number, delayMs?: number) =>
      fake.attachment({ filename: `slow-${index}.jpg`, bytes: jpegs[index === 100 ? 0 : 1]!, ...(delayMs ? { served: { delayMs } } : {}) });
    const seeded = fake.seedMessages(
      slow.id,
      Array.from({ length: 250 }, (_, index) =>
        index === 100
          ? { attachments: [image(index, 2_000)] }
          : index === 200
            ? { attachments: [image(index)] }
            : { content: `slow #${index}` },
      ),
    );
    const first = await runIndex(fake, generalId, "channel", [{ name: "channel", channel: slow }]);
    const saved = await waitUntil("the first page's checkpoint", async () => {
      const checkpoint = (await bot.context.state.get(world.guild.id)).backfill.checkpoints[slow.id];
      return checkpoint?.before ?? undefined;
    });
    assert.equal(saved, seeded[150]!.id, "the checkpoint is the oldest message of page 1");
    const status = await runIndex(fake, generalId, "status");
    assert.match((await status.waitForReply()).message?.content ?? "", new RegExp(`Backfill of <#${slow.id}>\\*\\* · ⏳ Indexing`));
    const cancel = await runIndex(fake, generalId, "cancel");
    assert.match((await cancel.waitForReply()).message?.content ?? "", /Stopping the backfill/);
    assert.match(await finalContent(first), /⏹️ Cancelled/);
    assert.equal(
      (await bot.context.state.get(world.guild.id)).backfill.checkpoints[slow.id]?.before,
      saved,
      "the cut-short page was not recorded",
    );

    await idle();
    const cursor = fake.requestCursor();
    const second = await runIndex(fake, generalId, "channel", [{ name: "channel", channel: slow }]);
    const text = await finalContent(second);
    assert.match(text, /\(continued\) · ✅ Finished/);
    assert.equal(count(text, "Messages scanned"), 250);
    assert.equal(count(text, "Images indexed"), 2);
    assert.equal(historyPages(fake, cursor)[0]?.query.before, saved, "continued below the checkpoint");
    assert.equal(await (await bot.context.engine.collection(world.guild.id)).count({ channelIds: [slow.id] }), 2);
  });
});

describe("backfill resumes after the bot process is killed", () => {
  let fake: FakeDiscord;
  let world: SeededWorld;
  const bots = new BotProcesses();

  before(async () => {
    fake = await FakeDiscord.start();
    world = await seedWorld(fake, SMALL_WORLD);
  });

  after(async () => {
    bots.killAll();
    await fake?.close();
  });

  it("continues from the saved checkpoints, reading fewer pages, and ends with every image once", async () => {
    const env = await botEnvironment(fake);
    const state = () => readGuildStateFile(env.LOOKALIKE_DATA_DIR, world.guild.id);
    const firstBot = await bots.start(env);
    await runIndex(fake, world.guild.channel("general").id, "server");
    // Kill once a few pages are saved, well before the end.
    await waitUntil("a few saved pages", async () => {
      const checkpoints = Object.values((await state())?.backfill.checkpoints ?? {});
      return checkpoints.reduce((sum, checkpoint) => sum + checkpoint.scanned, 0) >= 300;
    });
    firstBot.kill("SIGKILL");
    await once(firstBot, "exit");
    const killed = await state();
    assert.equal(killed?.backfill.lastFinishedAt, null, "killed before the backfill ended");
    assert.ok(
      Object.values(killed!.backfill.checkpoints).some((checkpoint) => !checkpoint.done),
      "work left to do",
    );

    const cursor = fake.requestCursor();
    const secondBot = await bots.start(env);
    const finished = await waitUntil(
      "the resumed backfill to finish",
      async () => {
        const current = await state();
        return current?.backfill.lastFinishedAt ? current : undefined;
      },
      240_000, // as finalContent: what it does, not how fast
    );
    secondBot.kill("SIGTERM");
    const [exitCode] = await once(secondBot, "exit");
    assert.equal(exitCode, 0, secondBot.output().slice(-2_000));
    assert.match(secondBot.output(), /resuming an interrupted backfill/);
    assert.doesNotMatch(secondBot.output(), /"level":50/, "no errors logged");

    const resumedPages = historyPages(fake, cursor).length;
    const fromScratch = pagesFromScratch(fake, world.readableIds);
    assert.ok(resumedPages > 0 && resumedPages < fromScratch, `resumed with ${resumedPages} pages; a full scan takes ${fromScratch}`);
    const checkpoints = Object.values(finished.backfill.checkpoints);
    assert.ok(checkpoints.every((checkpoint) => checkpoint.done));
    assert.equal(
      checkpoints.reduce((sum, checkpoint) => sum + checkpoint.scanned, 0),
      world.readableMessages,
      "every message counted once",
    );
    assert.equal(
      checkpoints.reduce((sum, checkpoint) => sum + checkpoint.indexed, 0),
      world.expectedImageIds.length,
    );

    assert.deepEqual(fake.unexpectedRequests(), []);
    const engine = await openTestEngine(path.join(env.LOOKALIKE_DATA_DIR, "lancedb"));
    try {
      await assertIndexHolds(await engine.collection(world.guild.id), world);
    } finally {
      await engine.close();
    }
  });
});

describe("backfill building blocks", () => {
  const logger = pino({ level: "silent" });
  const policy = (signal = new AbortController().signal): RetryPolicy => ({ delaysMs: [10, 20], logger, signal });
  const outage = () => new HTTPError(503, "Service Unavailable", "GET", "https://discord.test/api", { body: undefined, files: undefined });
  const denied = () =>
    new DiscordAPIError({ code: 50001, message: "Missing Access" }, 50001, 403, "GET", "https://discord.test/api", {
      body: undefined,
      files: undefined,
    });

  it("waits out an outage with backoff, then gives the channel up, never retrying a 403", async () => {
    let calls = 0;
    assert.equal(await withRetries("page", async () => (++calls < 3 ? Promise.reject(outage()) : "page"), policy()), "page");
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(
      withRetries(
        "page",
        async () => {
          calls++;
          throw outage();
        },
        policy(),
      ),
      (error) => error instanceof ChannelStopped && error.reason === "discord_unavailable",
    );
    assert.equal(calls, 3, "the first try and one per backoff delay");
    calls = 0;
    await assert.rejects(
      withRetries(
        "page",
        async () => {
          calls++;
          throw denied();
        },
        policy(),
      ),
      (error) => error instanceof ChannelStopped && error.reason === "no_access",
    );
    assert.equal(calls, 1);
  });

  it("stops waiting at once when aborted", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = withRetries("page", () => new Promise<never>(() => undefined), { ...policy(controller.signal), delaysMs: [60_000] });
    setTimeout(() => controller.abort(new Error("cancelled")), 20);
    await assert.rejects(pending, /cancelled/);
    assert.ok(Date.now() - started < 1_000);
  });

  it("moves progress to a channel message before the interaction token expires", async () => {
    const log: string[] = [];
    const posted = {
      url: "https://discord.com/channels/1/2/3",
      edit: async ({ content }: { content: string }) => void log.push(`edit message: ${content.split("\n")[0]}`),
    };
    const interaction = {
      createdTimestamp: Date.now() - 14.5 * 60_000,
      editReply: async ({ content }: { content: string }) => void log.push(`edit reply: ${content.split("\n")[0]}`),
      channel: {
        id: "2",
        send: async ({ content }: { content: string }) => {
          log.push(`send: ${content.split("\n")[0]}`);
          return posted;
        },
      },
    } as unknown as ChatInputCommandInteraction<"cached">;
    const report = (phase: BackfillReport["phase"]): BackfillReport => ({
      guildId: "1",
      scope: "the whole server",
      phase,
      continued: false,
      elapsedMs: 1_000,
      fraction: 0.5,
      etaMs: 1_000,
      channels: { total: 2, done: phase === "done" ? 2 : 1, running: phase === "done" ? 0 : 1, skipped: {} },
      messagesScanned: 10,
      imagesIndexed: 1,
      imagesSkipped: 0,
      run: { messagesScanned: 10, imagesNew: 1, imagesAlreadyIndexed: 0, skippedByReason: {}, messagesPerSecond: 10 },
    });
    const sink = new InteractionProgressSink(interaction, logger);
    await sink.update(report("running"));
    await sink.update(report("done"));
    assert.deepEqual(log, [
      "send: **Backfill of the whole server** · ⏳ Indexing",
      `edit reply: Still indexing: progress continues in ${posted.url}`,
      "edit message: **Backfill of the whole server** · ✅ Finished",
    ]);
  });
});
