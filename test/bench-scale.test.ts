/**
 * The scale section's parts that need neither the model nor the bot, small: the object-storage
 * comparison (s3rver started here on 127.0.0.1, a local folder, the same 5,000 generated rows and
 * the shipped index on both) and the clone a bot run gets of a cached database, which must never
 * change the cached copy. About 20 s on two busy cores (load 5). The queue and the bot's memory are run by
 * `npm run bench -- --only scale --quick` (the queue's parts are tested in embedding-queue.test.ts).
 */
import "../bench/speed/quiet.ts"; // first: LanceDB's k-means warnings on the generated rows
import assert from "node:assert/strict";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { before, describe, it } from "node:test";
import { cloneDatabase } from "../bench/scale/bot-db.ts";
import { compareStores, type StoreComparison } from "../bench/scale/stores.ts";
import { benchSpace, createCollection, populate, TABLE_PREFIX } from "../bench/speed/populate.ts";
import { FILTERS } from "../bench/speed/search-latency.ts";
import { NearDuplicateGenerator, randomCentres } from "../bench/speed/synthetic.ts";
import { ImageStore } from "../src/retrieval/store/image-store.ts";
import { tempDir } from "./support/temp.ts";

const DIMENSION = 1280;

describe("bench scale: search on s3rver against a local folder", () => {
  let result: StoreComparison;

  before(async () => {
    const centres = randomCentres(40, DIMENSION, 1);
    // Queries near the stored content, as a repost or a look-alike is (another seed than the rows').
    const near = new NearDuplicateGenerator(centres, 2);
    result = await compareStores({
      rows: 5_000,
      centres,
      queries: Array.from({ length: 8 }, () => near.next()),
      coldOpens: 2,
      log: () => {},
    });
  });

  it("times every filter on both stores, with finite percentiles", () => {
    for (const run of [result.local, result.s3]) {
      assert.deepEqual(
        run.filters.map((f) => f.label),
        FILTERS.map((f) => f.label),
      );
      for (const f of run.filters) {
        assert.equal(f.searches, 16);
        assert.ok(Number.isFinite(f.p50) && f.p50 > 0, `${run.store} ${f.label} p50 ${f.p50}`);
        assert.ok(Number.isFinite(f.p95) && f.p95 >= f.p50, `${run.store} ${f.label} p95 ${f.p95}`);
      }
      assert.equal(run.cold.length, 2);
      assert.equal(run.index.outcome, "indexed", "the shipped policy indexes 5,000 rows");
    }
    assert.match(result.s3.location, /^s3:\/\/lookalike-bench\//);
  });

  it("finds the same neighbours on both stores (the same rows went to each)", () => {
    for (const f of FILTERS) {
      assert.ok(result.agreement[f.label]! >= 0.9, `agreement ${f.label}: ${result.agreement[f.label]}`);
      for (const run of [result.local, result.s3]) {
        const recall = run.filters.find((x) => x.label === f.label)!.recall;
        assert.ok(recall >= 0.9, `${run.store} recall ${f.label}: ${recall}`);
      }
    }
  });
});

describe("bench scale: a run's clone of a cached database", () => {
  it("takes the run's writes, compaction included, and leaves the cached copy as it was", async () => {
    const cached = await tempDir("lookalike-bench-scale-cache-");
    await createCollection(cached, "c", DIMENSION);
    await populate(cached, "c", new NearDuplicateGenerator(randomCentres(5, DIMENSION, 3), 4), 300, { chunk: 100 });
    const before = await snapshot(cached);

    const clone = await tempDir("lookalike-bench-scale-clone-");
    const copied = await cloneDatabase(cached, clone);
    assert.ok(copied.linked >= 3, `data files are linked: ${JSON.stringify(copied)}`);
    const store = await ImageStore.open(clone, benchSpace(DIMENSION));
    const table = await store.collection("c");
    assert.equal(await table.count(), 300);
    assert.equal(await table.delete({ channelIds: ["1000003"] }), 15);
    await table.compact(); // rewrites the fragments into new files and removes the old ones
    assert.equal(await table.count(), 285);
    store.close();

    assert.deepEqual(await snapshot(cached), before, "no file of the cached database changed");
    const reopened = await ImageStore.open(cached, benchSpace(DIMENSION));
    assert.equal(await (await reopened.collection("c")).count(), 300);
    reopened.close();
    assert.ok((await readdir(cached)).includes(`${TABLE_PREFIX}c.lance`));
  });
});

/** Every file under `dir` with its size and modification time. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const info = await stat(file);
    files[path.relative(dir, file)] = `${info.size}@${info.mtimeMs}`;
  }
  return files;
}
