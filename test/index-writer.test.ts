/** IndexWriter against the real engine and LanceDB: batched writes, opt-outs, and its periodic upkeep. */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { GuildStateStore } from "../src/bot/guild-state.ts";
import { IndexWriter, type IndexItem } from "../src/bot/services/index-writer.ts";
import type { LookalikeEngine } from "../src/retrieval/engine.ts";
import { DEFAULT_WHITENING_POLICY } from "../src/retrieval/whitening/maintainer.ts";
import { openTestEngine } from "./support/engine.ts";
import { datasetsDir } from "./support/paths.ts";
import { waitUntil } from "./support/polling.ts";
import { tempDir } from "./support/temp.ts";

const GUILD = "100000000000000001";

describe("IndexWriter", () => {
  let engine: LookalikeEngine;
  let items: IndexItem[];
  before(async () => {
    // Upkeep thresholds scaled down to a test's size: a whitening from 12 images, upkeep every 10 rows.
    engine = await openTestEngine(await tempDir(), { threads: 2, whiteningPolicy: { ...DEFAULT_WHITENING_POLICY, minRows: 12 } });
    const photos = path.join(datasetsDir, "photo-pool-cc", "images");
    const files = (await readdir(photos)).sort().slice(0, 14);
    items = [];
    for (const [i, file] of files.entries()) {
      items.push({
        image: await engine.analyze(path.join(photos, file)),
        meta: { id: `${200000000000000000n + BigInt(i)}`, source: file, authorId: i === 13 ? "300000000000000001" : "300000000000000000" },
      });
    }
  });
  after(() => engine.close());

  it("writes batches, drops opted-out authors at write time, and runs the upkeep once enough rows arrived", async () => {
    const state = new GuildStateStore(await tempDir());
    await state.update(GUILD, (guild) => void guild.optedOutUserIds.push("300000000000000001"));
    const writer = new IndexWriter(engine, state, pino({ level: "silent" }), 128, 10, 10);
    const written = await Promise.all(items.map((item) => writer.write(GUILD, [item])));
    assert.equal(written.reduce((a, b) => a + b, 0), 13, "the opted-out author's image is not written");
    const table = await engine.collection(GUILD);
    assert.equal(await table.count(), 13);
    // 13 rows ≥ 10: the upkeep ran in the background and learned the server's whitening.
    const fitted = await waitUntil("the server's whitening", () => engine.store.whitenings.load(GUILD).then((w) => w ?? undefined));
    assert.ok(fitted.collectionRows >= 10 && fitted.collectionRows <= 13, `fitted on ${fitted.collectionRows} rows`);
  });
});
