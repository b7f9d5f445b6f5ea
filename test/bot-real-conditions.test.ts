/**
 * The bot under real conditions, end to end against the fake Discord: messages deleted right
 * after posting (what AutoMod does), a flood of image posts while members search, and a process
 * killed mid-burst with more images posted while it is down.
 */
import assert from "node:assert/strict";
import { type AddressInfo, createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import * as lancedb from "@lancedb/lancedb";
import type { APIMessage } from "discord-api-types/v10";
import sharp from "sharp";
import { recompress, samplePhotos } from "./support/bot-fixtures.ts";
import { BotProcesses, botEnvironment, explainedByOutput, type Harness, startHarness } from "./support/bot-harness.ts";
import { FakeDiscord, type GuildHandle, type RecordedRequest } from "./support/fake-discord/index.ts";
import { waitUntil } from "./support/polling.ts";

/**
 * Images posted in the flood. Enough for a backlog of minutes: with its repost checks (regions and
 * cells) the bot analyses a few images a second on two cores, and the queries come in the first seconds.
 */
const FLOOD = 60;
/** Images posted in the burst the bot is killed in, and while it is down. */
const BURST = 30;
const WHILE_DOWN = 8;

/** `count` distinct images: crops of the shared photos at different places and sizes. */
async function distinctImages(count: number): Promise<Buffer[]> {
  const photos = await samplePhotos(30);
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const photo = photos[i % photos.length]!;
      const variant = Math.floor(i / photos.length);
      const { width = 384, height = 384 } = await sharp(photo).metadata();
      const size = Math.round(Math.min(width, height) * (0.5 + 0.05 * (variant % 8)));
      const left = Math.round(((width - size) * ((variant * 37) % 100)) / 100);
      const top = Math.round(((height - size) * ((variant * 61) % 100)) / 100);
      return sharp(photo).extract({ left, top, width: size, height: size }).jpeg({ quality: 85 }).toBuffer();
    }),
  );
}

const repliesTo = (messageIds: ReadonlySet<string>) => (request: RecordedRequest) =>
  request.method === "POST" &&
  messageIds.has((request.json as { message_reference?: { message_id?: string } } | undefined)?.message_reference?.message_id ?? "");

describe("the bot under real conditions", () => {
  let h: Harness;
  let guild: GuildHandle;
  let photos: Buffer[];

  before(async () => {
    photos = await samplePhotos(2, 30);
    h = await startHarness((fake) => {
      guild = fake.addGuild({ name: "Busy Server", channels: [{ name: "general" }, { name: "memes" }, { name: "art" }] });
    });
  });
  after(() => h?.close());

  const rows = async () => (await h.bot.context.engine.collection(guild.id)).count();
  const post = (channel: string, bytes: Buffer, name = "image.jpg") =>
    h.fake.postMessage(guild.channel(channel).id, { attachments: [h.fake.attachment({ filename: name, bytes })] });
  /** Waits until the index has not changed for a few seconds (the bot is done with what was posted). */
  const settled = async () => {
    let last = -1;
    let since = Date.now();
    await waitUntil(
      "the index to settle",
      async () => {
        const now = await rows();
        if (now !== last) [last, since] = [now, Date.now()];
        return Date.now() - since >= 3_000;
      },
      120_000,
      250,
    );
  };

  it("a message deleted 0–300 ms after posting leaves nothing findable and raises no alert", async () => {
    const original = await post("general", photos[0]!, "original.jpg");
    await waitUntil("the original indexed", async () => (await rows()) === 1);
    const cursor = h.fake.requestCursor();
    const repost = await recompress(photos[0]!);
    const deleted = new Set<string>();
    // Each of these is a repost of the original: kept, it would be indexed and flagged.
    await Promise.all(
      [0, 40, 100, 200, 300].map(async (delayMs, i) => {
        const message = await post(i % 2 ? "memes" : "art", repost, `repost-${delayMs}.jpg`);
        deleted.add(message.id);
        await sleep(delayMs);
        await h.fake.deleteMessage(message.channel_id, message.id);
      }),
    );
    await settled();
    const table = await h.bot.context.engine.collection(guild.id);
    assert.equal(await table.count({ messageIds: [...deleted] }), 0, "no row of a deleted message");
    assert.equal(await rows(), 1, "only the original is stored");
    assert.deepEqual(
      h.fake.findRequests((r) => r.index >= cursor && repliesTo(deleted)(r)),
      [],
      "no alert for a deleted message",
    );

    const handle = await h.fake.invokeCommand({
      name: "similar",
      channelId: guild.channel("general").id,
      options: [{ name: "image", attachment: h.fake.attachment({ filename: "query.jpg", bytes: repost }) }],
    });
    const text = JSON.stringify((await handle.waitForReply(undefined, { timeoutMs: 20_000 })).message?.embeds ?? []);
    assert.ok(text.includes(original.id), "the original is found");
    for (const id of deleted) assert.ok(!text.includes(id), "no deleted message is found");
  });

  it("stores an image the CDN failed to serve once the CDN is back, and only once", async () => {
    const [bytes] = await distinctImages(1);
    const attachment = h.fake.attachment({ filename: "outage.jpg", bytes: bytes!, served: { status: 503 } });
    const paths = [attachment.url, attachment.proxy_url].map((url) => decodeURIComponent(new URL(url).pathname));
    const cursor = h.fake.requestCursor();
    const message = await h.fake.postMessage(guild.channel("art").id, { attachments: [attachment] });
    const refused = (path: string) => (r: RecordedRequest) => r.index >= cursor && r.kind === "cdn" && r.path === path && r.status === 503;
    // The bot tried the link and then the media proxy's, and both answered 503.
    await h.fake.waitForRequest(refused(paths[1]!), { timeoutMs: 30_000 });
    const table = await h.bot.context.engine.collection(guild.id);
    assert.equal((await table.get([attachment.id])).size, 0, "nothing stored while the CDN fails");
    const healed = h.fake.requestCursor();
    for (const path of paths) h.fake.cdn.put(path, { bytes });
    await waitUntil("the image stored once the CDN is back", async () => (await table.get([attachment.id])).size === 1, 60_000, 250);
    assert.equal(await table.count({ messageIds: [message.id] }), 1, "stored once");
    const served = h.fake.findRequests((r) => r.index >= healed && r.kind === "cdn" && paths.includes(r.path) && r.status === 200);
    assert.ok(served.length >= 1, "downloaded again once the CDN was back");
  });

  it(`answers /similar ahead of the ${FLOOD} images being indexed`, async (t) => {
    const before = await rows();
    const images = await distinctImages(FLOOD);
    const channels = ["general", "memes", "art"];
    // 50 images a second, as a raid or an event would.
    let posted = 0;
    const flood = (async () => {
      for (const [i, bytes] of images.entries()) {
        void post(channels[i % 3]!, bytes, `flood-${i}.jpg`);
        posted++;
        await sleep(20);
      }
    })();
    await sleep(1_000);
    // Speed-independent: a /similar queued behind the flood would be answered only after the
    // images waiting when it was asked had been stored. Each must come back while most still wait.
    const queries: { latencyMs: number; waiting: number; storedMeanwhile: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const storedBefore = await rows();
      const waiting = before + posted - storedBefore;
      const handle = await h.fake.invokeCommand({
        name: "similar",
        channelId: guild.channel("general").id,
        options: [{ name: "image", attachment: h.fake.attachment({ filename: "query.jpg", bytes: await recompress(photos[1]!) }) }],
      });
      await handle.waitForReply((reply) => (reply.message?.embeds?.length ?? 0) > 0, { timeoutMs: 30_000 });
      queries.push({ latencyMs: Date.now() - started, waiting, storedMeanwhile: (await rows()) - storedBefore });
      await sleep(500);
    }
    const storedAfterQueries = await rows();
    await flood;
    const described = queries.map((q) => `${q.latencyMs} ms (${q.storedMeanwhile} stored of ${q.waiting} waiting)`).join(", ");
    t.diagnostic(`/similar during the flood: ${described}; ${storedAfterQueries - before} of ${FLOOD} stored by then`);
    assert.ok(storedAfterQueries < before + FLOOD, "the flood was still being indexed while the queries ran");
    for (const q of queries) {
      assert.ok(q.waiting >= 10, `a backlog when /similar was asked: ${described}`);
      assert.ok(q.storedMeanwhile < q.waiting / 2, `/similar jumped the backlog: ${described}`);
    }
    await waitUntil("every flooded image stored", async () => (await rows()) === before + FLOOD, 180_000, 500);
  });
});

describe("a bot killed mid-burst and restarted", () => {
  let fake: FakeDiscord;
  const bots = new BotProcesses();
  before(async () => {
    fake = await FakeDiscord.start();
  });
  after(async () => {
    bots.killAll();
    await fake?.close();
  });

  /**
   * Every stored id, read through a fresh connection (another process writes the table). A table
   * the bot is still creating is listed before it can be opened: that reads as no rows yet.
   */
  async function storedIds(dbDir: string, guildId: string): Promise<string[]> {
    const db = await lancedb.connect(dbDir);
    try {
      if (!(await db.tableNames()).includes(`images_${guildId}`)) return [];
      const table = await db.openTable(`images_${guildId}`).catch((error: Error) => {
        if (/not found/i.test(error.message)) return undefined;
        throw error;
      });
      if (!table) return [];
      const rows = (await table.query().select(["id"]).toArray()) as { id: string }[];
      table.close();
      return rows.map((row) => row.id);
    } finally {
      db.close();
    }
  }

  it("finds every image of the burst and every image posted while it was down, once each", async () => {
    const server = fake.addGuild({ name: "Crashy", channels: [{ name: "general" }, { name: "pics" }] });
    const env = await botEnvironment(fake);
    const dbDir = `${env.LOOKALIKE_DATA_DIR}/lancedb`;
    const images = await distinctImages(BURST + WHILE_DOWN);
    const posted: APIMessage[] = [];
    const postImage = async (i: number) =>
      posted.push(
        await fake.postMessage(server.channel(i % 2 ? "pics" : "general").id, {
          attachments: [fake.attachment({ filename: `burst-${i}.jpg`, bytes: images[i]! })],
        }),
      );

    const first = await bots.start(env);
    // A burst; the bot is killed once it has stored a few, with the rest in flight or unsent.
    let next = 0;
    const burst = (async () => {
      for (; next < BURST; next++) {
        await postImage(next);
        await sleep(25);
      }
    })();
    await waitUntil("a few images stored", async () => (await storedIds(dbDir, server.id)).length >= 5, 60_000, 25);
    first.kill("SIGKILL");
    await new Promise((resolve) => first.once("exit", resolve));
    await burst;
    // Posted while the bot is down.
    for (let i = BURST; i < BURST + WHILE_DOWN; i++) await postImage(i);
    const storedAtRestart = (await storedIds(dbDir, server.id)).length;
    assert.ok(storedAtRestart < BURST + WHILE_DOWN, `the kill came mid-burst (${storedAtRestart} stored)`);

    const second = await bots.start(env);
    const expected = posted.map((message) => message.attachments[0]!.id).sort();
    // What a failure needs to say: which images are missing, in posting order, and whether the first bot stored them.
    const missing = async () => {
      const stored = new Set(await storedIds(dbDir, server.id));
      const gone = posted.flatMap((message, i) => (stored.has(message.attachments[0]!.id) ? [] : [`#${i} (${message.channel_id})`]));
      return `${stored.size} of ${posted.length} stored, ${storedAtRestart} at the restart; missing: ${gone.join(", ")}`;
    };
    await explainedByOutput([first, second], async () => {
      const ids = await waitUntil(
        "every image stored",
        async () => {
          const found = await storedIds(dbDir, server.id);
          return found.length >= expected.length ? found : undefined;
        },
        // Generous: the restarted bot analyses a few images a second, less while other test files run.
        300_000,
        250,
      ).catch(async (error: Error) => {
        error.message += `\n${await missing()}`;
        throw error;
      });
      assert.deepEqual([...ids].sort(), expected, "every image, once each");
      await sleep(1_000);
      assert.equal((await storedIds(dbDir, server.id)).length, expected.length, "nothing stored twice afterwards");
    });
    second.kill("SIGTERM");
    await new Promise((resolve) => second.once("exit", resolve));
  });
});

describe("a bot whose background lane is full", () => {
  let h: Harness;
  let guild: GuildHandle;
  let metricsPort: number;
  before(async () => {
    metricsPort = await freePort();
    // Room for two images at a time: a burst overflows it at once.
    h = await startHarness(
      (fake) => {
        guild = fake.addGuild({ name: "Tiny Queue", channels: [{ name: "general" }] });
      },
      { LOOKALIKE_QUEUE_LIMIT: "2", LOOKALIKE_METRICS_PORT: String(metricsPort) },
    );
  });
  after(() => h?.close());

  it("defers what does not fit to the catch-up, which indexes every image, and reports it in its metrics", async () => {
    const images = await distinctImages(20);
    const channelId = guild.channel("general").id;
    const posted = await Promise.all(
      images.map((bytes, i) => h.fake.postMessage(channelId, { attachments: [h.fake.attachment({ filename: `b-${i}.jpg`, bytes })] })),
    );
    const table = await h.bot.context.engine.collection(guild.id);
    await waitUntil("every image of the burst stored", async () => (await table.count()) === 20, 120_000, 250);
    const ids = posted.map((message) => message.attachments[0]!.id);
    assert.equal((await table.get(ids)).size, 20);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const indexed = (source: string) =>
      Number(new RegExp(`lookalike_images_indexed_total\\{source="${source}"\\} (\\d+)`).exec(metrics)?.[1]);
    assert.equal(
      indexed("live") + indexed("catch_up"),
      20,
      metrics
        .split("\n")
        .filter((l) => l.includes("indexed_total"))
        .join("\n"),
    );
    assert.ok(indexed("catch_up") > 0, "some images came through the catch-up");
    const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { gatewayConnected: boolean }).gatewayConnected, true);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
