/**
 * GuildIndex, the one write path to a server's index, against the real engine and LanceDB:
 * batched writes, opt-outs and deletions applied at write time (also after a restart), compaction
 * by fragment count, and the whitening following the rows that leave.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { GuildStateStore } from "../src/bot/guild-state.ts";
import { GuildIndex, type IndexItem } from "../src/bot/services/guild-index.ts";
import type { LookalikeEngine } from "../src/retrieval/engine.ts";
import { DEFAULT_WHITENING_POLICY } from "../src/retrieval/whitening/maintainer.ts";
import { openTestEngine } from "./support/engine.ts";
import { datasetsDir } from "./support/paths.ts";
import { waitUntil } from "./support/polling.ts";
import { tempDir } from "./support/temp.ts";

const silent = pino({ level: "silent" });
const AUTHOR = "300000000000000000";
const OPTED_OUT = "300000000000000001";
const LEAVER = "300000000000000002";
let nextGuild = 100000000000000001n;
const newGuild = () => String(nextGuild++);

describe("GuildIndex", () => {
  let engine: LookalikeEngine;
  let items: IndexItem[];
  before(async () => {
    // Upkeep scaled down to a test's size: a whitening from 8 images.
    engine = await openTestEngine(await tempDir(), { threads: 2, whiteningPolicy: { ...DEFAULT_WHITENING_POLICY, minRows: 8 } });
    const photos = path.join(datasetsDir, "photo-pool-cc", "images");
    const files = (await readdir(photos)).sort().slice(0, 14);
    items = [];
    for (const [i, file] of files.entries()) {
      const authorId = i === 13 ? OPTED_OUT : i < 2 ? LEAVER : AUTHOR;
      items.push({
        image: await engine.analyze(path.join(photos, file)),
        meta: {
          id: `${200000000000000000n + BigInt(i)}`,
          source: file,
          authorId,
          messageId: `${400000000000000000n + BigInt(i)}`,
          channelId: "500000000000000000",
        },
      });
    }
  });
  after(() => engine.close());

  const open = async (stateDir?: string, options: ConstructorParameters<typeof GuildIndex>[3] = {}) => {
    const state = new GuildStateStore(stateDir ?? (await tempDir()));
    return { state, index: new GuildIndex(engine, state, silent, { maxDelayMs: 10, ...options }) };
  };

  it("writes batches, drops opted-out authors at write time, and learns the whitening once enough rows arrived", async () => {
    const guild = newGuild();
    const { state, index } = await open(undefined, { maintainEveryRows: 10 });
    await state.update(guild, (s) => void s.optedOutUserIds.push(OPTED_OUT));
    const written = await Promise.all(items.map((item) => index.write(guild, [item])));
    assert.equal(
      written.reduce((a, b) => a + b, 0),
      13,
      "the opted-out author's image is not written",
    );
    assert.equal((await index.stats(guild)).images, 13);
    const fitted = await waitUntil("the server's whitening", () => engine.store.whitenings.load(guild).then((w) => w ?? undefined));
    assert.ok(fitted.collectionRows >= 10 && fitted.collectionRows <= 13, `fitted on ${fitted.collectionRows} rows`);

    // forget-me: 2 of 13 rows (more than a tenth) leave, so the whitening is learned again without them.
    assert.equal(await index.forgetAuthor(guild, LEAVER), 2);
    const refitted = await waitUntil("a refit without the leaver's images", () =>
      engine.store.whitenings.load(guild).then((w) => (w && w.collectionRows === 11 ? w : undefined)),
    );
    assert.equal(refitted.collectionRows, 11);
    index.close();
  });

  it("a whitening is dropped when deletions take the server below the rows it needs", async () => {
    const guild = newGuild();
    const { index } = await open(undefined, { maintainEveryRows: 1 });
    await index.write(guild, items.slice(0, 9));
    await waitUntil("the server's whitening", () => engine.store.whitenings.load(guild).then((w) => w ?? undefined));
    await index.forgetAuthor(guild, LEAVER);
    await waitUntil("the whitening dropped", () => engine.store.whitenings.load(guild).then((w) => w === null));
    index.close();
  });

  it("a message deleted while its images were being analysed is never written, even by a restarted process", async () => {
    const guild = newGuild();
    const stateDir = await tempDir();
    const first = await open(stateDir);
    const [deleted, kept] = [items[3]!, items[4]!];
    // The delete event arrives before the late write (no await in between, as in the bot).
    const removing = first.index.deleteMessages(guild, [deleted.meta.messageId!]);
    assert.equal(first.index.wasDeleted(guild, { messageId: deleted.meta.messageId!, channelId: "1" }), true, "remembered at once");
    const written = await first.index.write(guild, [deleted, kept]);
    assert.equal(written, 1);
    assert.equal(await removing, 0);
    assert.deepEqual([...(await first.index.read(guild, [deleted.meta.id, kept.meta.id])).keys()], [kept.meta.id]);
    first.index.close();

    // A new process on the same state: the tombstone was persisted.
    const second = await open(stateDir);
    assert.equal(await second.index.write(guild, [deleted]), 0, "the late write is dropped after a restart too");
    assert.equal((await second.index.stats(guild)).images, 1);
    second.index.close();
  });

  it("a deleted channel takes its rows and its threads' rows, and late writes into it are dropped", async () => {
    const guild = newGuild();
    const { index } = await open();
    const channel = "600000000000000000";
    const inThread = { ...items[5]!, meta: { ...items[5]!.meta, channelId: "600000000000000001", parentId: channel } };
    const inChannel = { ...items[6]!, meta: { ...items[6]!.meta, channelId: channel } };
    await index.write(guild, [inThread, inChannel, items[7]!]);
    assert.equal(await index.deleteChannel(guild, channel), 2);
    assert.equal(await index.write(guild, [{ ...items[8]!, meta: { ...items[8]!.meta, channelId: channel } }]), 0);
    assert.equal((await index.stats(guild)).images, 1);
    index.close();
  });

  it("compacts a busy server's fragments by count, not only after thousands of rows", async () => {
    const guild = newGuild();
    const { index } = await open(undefined, { compaction: { maxFragments: 4, minFragments: 2, maxDelayMs: 3_600_000 } });
    for (const item of items.slice(0, 7)) await index.write(guild, [item]);
    const table = await engine.collection(guild);
    // Seven one-row writes: compacted after the fourth, three more since.
    assert.ok((await table.fragmentCount()) <= 4, `${await table.fragmentCount()} fragments`);
    assert.equal(await table.count(), 7);
    index.close();
  });
});
