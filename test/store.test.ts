import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeArrowTable } from "@lancedb/lancedb";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import { idsWhere } from "../src/retrieval/filters.ts";
import { connectDatabase } from "../src/retrieval/store/database.ts";
import { nearestIds } from "../src/retrieval/store/exact-scan.ts";
import { ImageStore } from "../src/retrieval/store/image-store.ts";
import { DEFAULT_INDEX_POLICY, SCALAR_INDEXES } from "../src/retrieval/store/index-policy.ts";
import type { ImageRecord, VectorSpace } from "../src/retrieval/store/schema.ts";
import { cosine, dot } from "../src/retrieval/vectors.ts";
import { databaseBackends } from "./support/object-store.ts";
import { nearby, randomUnitVector, seededRandom } from "./support/vectors.ts";

const space: VectorSpace = { model: "test-model", descriptor: "gem", dimension: 32 };
const random = seededRandom(7);

function record(id: string, vector: Float32Array, extra: Partial<ImageRecord> = {}): ImageRecord {
  return { id, source: `src/${id}`, width: 10, height: 20, phash: 0x0123456789abcdefn, dhash: 42n, vector, ...extra };
}

for (const backend of databaseBackends()) {
  describe(`ImageStore on a real LanceDB in ${backend.name}`, () => {
    before(() => backend.start());
    after(() => backend.stop());

    it("upserts idempotently by id and returns what was stored", async () => {
      const store = await ImageStore.open(await backend.fresh(), space);
      const table = await store.collection("guild1");
      const v = randomUnitVector(32, random);
      const created = new Date("2026-01-02T03:04:05.000Z");
      await table.upsert([record("1", v, { channelId: "11", messageId: "21", authorId: "31", createdAt: created, spoiler: true })]);
      await table.upsert([record("1", v, { channelId: "11", messageId: "21", authorId: "31", createdAt: created, spoiler: true })]);
      assert.equal(await table.count(), 1);
      const got = (await table.get(["1"])).get("1")!;
      assert.equal(got.channelId, "11");
      assert.equal(got.phash, 0x0123456789abcdefn);
      assert.equal(got.dhash, 42n);
      assert.equal(got.createdAt?.toISOString(), created.toISOString());
      assert.equal(got.spoiler, true);
      assert.equal(got.collection, "guild1");
      store.close();
    });

    it("answers each of many query vectors in order, as searching them one by one does", async () => {
      const store = await ImageStore.open(await backend.fresh(), space);
      const table = await store.collection("many");
      const vectors = Array.from({ length: 40 }, () => randomUnitVector(32, random));
      await table.upsert(vectors.map((v, i) => record(`m${i}`, v)));
      // More vectors than one LanceDB query takes (they go in groups): every answer in its place.
      const queries = [3, 17, 29, 5, 11, 38, 0, 22, 14].map((i) => nearby(vectors[i]!, 0.05, random));
      const together = await table.searchMany(queries, { k: 3 });
      const alone = await Promise.all(queries.map((query) => table.search(query, { k: 3 })));
      assert.deepEqual(
        together.map((matches) => matches.map((m) => m.id)),
        alone.map((matches) => matches.map((m) => m.id)),
      );
      assert.deepEqual(
        together.map((matches) => matches[0]!.id),
        ["m3", "m17", "m29", "m5", "m11", "m38", "m0", "m22", "m14"],
      );
      store.close();
    });

    it("finds the nearest vector first with an exact cosine score, and never crosses collections", async () => {
      const store = await ImageStore.open(await backend.fresh(), space);
      const a = await store.collection("a");
      const b = await store.collection("b");
      assert.deepEqual((await store.collections()).sort(), ["a", "b"]);
      const vectors = Array.from({ length: 50 }, () => randomUnitVector(32, random));
      await a.upsert(vectors.map((v, i) => record(`a${i}`, v)));
      await b.upsert([record("b0", vectors[7]!)]);
      const query = nearby(vectors[7]!, 0.05, random);
      const matches = await a.search(query, { k: 5 });
      assert.equal(matches.length, 5);
      assert.equal(matches[0]!.id, "a7");
      assert.ok(matches[0]!.score > 0.95 && matches[0]!.score <= 1.0001);
      assert.ok(matches.every((m, i) => i === 0 || m.score <= matches[i - 1]!.score));
      assert.ok(matches.every((m) => m.collection === "a"));
      const excluded = await a.search(query, { k: 5, excludeIds: ["a7"] });
      assert.ok(!excluded.some((m) => m.id === "a7"));
      assert.equal(excluded.length, 5);
      store.close();
    });

    for (const [searcher, scanHereMaxRows] of [
      ["in this process", undefined],
      ["by LanceDB", 0],
    ] as const) {
      it(`without an index, ranks ${searcher} by cosine whatever the vectors' lengths, filters and exclusions applied`, async () => {
        const store = await ImageStore.open(await backend.fresh(), space, { ...DEFAULT_INDEX_POLICY, scanHereMaxRows });
        const table = await store.collection("lengths");
        const scaled = (v: Float32Array) => v.map((x) => x * (0.2 + 5 * random()));
        const vectors = Array.from({ length: 60 }, () => scaled(randomUnitVector(32, random)));
        const channel = (i: number) => String(100 + (i % 3));
        await table.upsert(vectors.map((v, i) => record(`l${i}`, v, { channelId: channel(i) })));
        const queries = Array.from({ length: 8 }, () => scaled(randomUnitVector(32, random)));
        const excluded = ["l1", "l2", "l4", "l8", "l16", "l32"];
        const options = { k: 5, withVectors: true, excludeIds: excluded, filter: { channelIds: ["100", "102"] } };
        const answers = await table.searchMany(queries, options);
        for (const [q, query] of queries.entries()) {
          const byCosine = vectors
            .map((v, i) => ({ id: `l${i}`, channel: channel(i), score: cosine(query, v) }))
            .filter((row) => row.channel !== "101" && !excluded.includes(row.id))
            .sort((x, y) => y.score - x.score)
            .slice(0, 5);
          const got = answers[q]!;
          assert.deepEqual(
            got.map((m) => m.id),
            byCosine.map((m) => m.id),
            `query ${q}`,
          );
          for (const [i, match] of got.entries()) {
            assert.ok(Math.abs(match.score - byCosine[i]!.score) < 1e-5, `query ${q}: exact cosine`);
            assert.ok(Math.abs(dot(match.vector!, match.vector!) - 1) < 1e-5, "stored at unit length");
          }
        }
        assert.deepEqual(
          await table.search(queries[0]!, { k: 3, filter: { channelIds: [] } }),
          [],
          "an empty channel list matches nothing",
        );
        store.close();
      });
    }

    it("filters by channel, author and time with validated IDs only", async () => {
      const store = await ImageStore.open(await backend.fresh(), space);
      const table = await store.collection("g");
      const v = randomUnitVector(32, random);
      await table.upsert([
        record("1", v, { channelId: "100", authorId: "7", createdAt: new Date("2026-01-01") }),
        record("2", v, { channelId: "200", authorId: "8", createdAt: new Date("2026-06-01") }),
        record("3", v, { channelId: "300", authorId: "7", createdAt: new Date("2026-09-01") }),
        record("4", v, { channelId: "400", parentId: "100", authorId: "9", createdAt: new Date("2026-10-01") }),
      ]);
      const ids = async (filter: Parameters<typeof table.search>[1]["filter"]) =>
        (await table.search(v, { k: 10, filter })).map((m) => m.id).sort();
      assert.deepEqual(await ids({ channelIds: ["100", "300"] }), ["1", "3"]);
      assert.deepEqual(await ids({ visibleChannelIds: ["100"] }), ["1", "4"], "a thread follows its parent");
      assert.deepEqual(await ids({ visibleChannelIds: [] }), []);
      assert.deepEqual(await ids({ channelIds: [] }), []);
      assert.deepEqual(await ids({ excludeAuthorIds: ["7"] }), ["2", "4"]);
      assert.deepEqual(await ids({ createdAfter: new Date("2026-05-01") }), ["2", "3", "4"]);
      assert.deepEqual(await ids({ createdBefore: new Date("2026-05-01") }), ["1"]);
      await assert.rejects(ids({ channelIds: ["1' OR '1'='1"] }), (error) => isLookalikeError(error, "invalid_filter"));
      store.close();
    });

    it("looks rows up by id (any string, safely) and deletes by message, channel and author", async () => {
      const store = await ImageStore.open(await backend.fresh(), space);
      const table = await store.collection("g");
      const hostile = "it's a trap' OR '1'='1";
      await table.upsert([
        record(hostile, randomUnitVector(32, random)),
        record("plain", randomUnitVector(32, random), { messageId: "5", channelId: "50", authorId: "500" }),
        record("other", randomUnitVector(32, random), { messageId: "6", channelId: "60", authorId: "600" }),
        record("more", randomUnitVector(32, random), { messageId: "7", channelId: "60", authorId: "700" }),
      ]);
      assert.equal(idsWhere([hostile]), `id IN ('it''s a trap'' OR ''1''=''1')`, "the id stays one string literal");
      assert.deepEqual([...(await table.get([hostile, "it's not stored"])).keys()], [hostile]);
      assert.equal(await table.delete({ messageIds: ["5"] }), 1);
      assert.equal(await table.delete({ authorIds: ["700"] }), 1);
      assert.equal(await table.delete({ channelIds: ["60"] }), 1);
      assert.equal(await table.count(), 1, "only the row with the hostile id is left");
      assert.deepEqual([...(await table.get([hostile])).keys()], [hostile]);
      await assert.rejects(table.delete({}), /empty filter/);
      store.close();
    });

    it("refuses to open a collection built with another model or descriptor, saying how to re-index", async () => {
      const dir = await backend.fresh();
      const first = await ImageStore.open(dir, space);
      await (await first.collection("g")).upsert([record("1", randomUnitVector(32, random))]);
      first.close();
      const other = await ImageStore.open(dir, { ...space, descriptor: "mac" });
      await assert.rejects(other.collection("g"), (error) => {
        assert.ok(isLookalikeError(error, "model_mismatch"));
        assert.match(error.message, /re-index/);
        return true;
      });
      const summary = await other.summary();
      assert.deepEqual(summary, [{ name: "g", rows: 1, space }]);
      await other.dropCollection("g");
      assert.deepEqual(await other.collections(), []);
      other.close();
    });

    it("rejects collection names that are not plain identifiers", async () => {
      const store = await ImageStore.open(await backend.fresh(), space);
      assert.throws(
        () => store.collection("../escape"),
        (error) => isLookalikeError(error, "collection_invalid"),
      );
      store.close();
    });

    it("with an index, keeps only rows posted before a date, whether few or many are newer, as a brute-force scan does", async () => {
      // Every partition probed and every candidate re-scored: the index returns the exact top k.
      const store = await ImageStore.open(await backend.fresh(), space, {
        minRowsForIndex: 300,
        reindexAfterRows: 1_000,
        refineFactor: 50,
        ef: 64,
        probeFraction: 1,
      });
      const table = await store.collection("dated");
      const start = Date.UTC(2026, 0, 1);
      const day = 86_400_000;
      // Rows a day apart, some undated (left out by a date filter); message i holds row i.
      const rows = Array.from({ length: 400 }, (_, i) => ({
        id: `d${i}`,
        vector: randomUnitVector(32, random),
        createdAt: i % 37 === 5 ? undefined : new Date(start + i * day),
      }));
      await table.upsert(rows.map((row, i) => record(row.id, row.vector, { createdAt: row.createdAt, messageId: String(1000 + i) })));
      assert.equal(await table.maintain(), "indexed");
      // 10 rows newer than the first cut (dropped by id after the search), 250 newer than the second (a pre-filter).
      for (const newer of [10, 250]) {
        const cut = new Date(start + (400 - newer) * day);
        // Near a row that is newer, one that is undated (375) and one that is kept, then anywhere.
        const near = [395, 375, 300].map((i) => nearby(rows[i]!.vector, 0.05, random));
        const queries = [...near, ...Array.from({ length: 3 }, () => randomUnitVector(32, random))];
        const filter = { createdBefore: cut, excludeMessageIds: ["1001", "1002"] };
        const answers = await table.searchMany(queries, { k: 5, filter, excludeIds: ["d3"] });
        for (const [q, query] of queries.entries()) {
          const expected = rows
            .filter((row, i) => row.createdAt && row.createdAt < cut && ![1, 2, 3].includes(i))
            .map((row) => ({ id: row.id, score: cosine(query, row.vector) }))
            .sort((a, b) => b.score - a.score)
            .slice(0, 5)
            .map((row) => row.id);
          assert.deepEqual(
            answers[q]!.map((m) => m.id),
            expected,
            `${newer} newer rows, query ${q}`,
          );
        }
      }
      store.close();
    });

    it("builds an ANN index and the scalar indexes past the size threshold, and still ranks the true neighbour first", async () => {
      const location = await backend.fresh();
      const store = await ImageStore.open(location, space, {
        minRowsForIndex: 600,
        reindexAfterRows: 100,
        refineFactor: 4,
        ef: 64,
      });
      const table = await store.collection("big");
      const vectors = Array.from({ length: 700 }, () => randomUnitVector(32, random));
      assert.equal(await table.maintain(), "none");
      await table.upsert(vectors.map((v, i) => record(String(i), v)));
      assert.equal(await table.maintain(), "indexed");
      const db = await connectDatabase(location);
      const indexes = await (await db.openTable("images_big")).listIndices();
      db.close();
      for (const [column, kind] of Object.entries(SCALAR_INDEXES)) {
        const index = indexes.find((found) => found.columns.includes(column));
        assert.equal(index?.indexType.toLowerCase(), kind, `${column}: ${JSON.stringify(indexes)}`);
      }
      for (const i of [3, 333, 699]) {
        const [best] = await table.search(nearby(vectors[i]!, 0.02, random), { k: 3 });
        assert.equal(best!.id, String(i));
      }
      await table.upsert(Array.from({ length: 150 }, (_, i) => record(`new${i}`, randomUnitVector(32, random))));
      // Upserts after the id index exists: rows it covers and rows written since are replaced, not doubled.
      const replaced = [record("5", vectors[6]!, { source: "again/5" }), record("new7", vectors[8]!, { source: "again/new7" })];
      await table.upsert(replaced);
      assert.equal(await table.count(), 850);
      const got = await table.get(["5", "new7"]);
      assert.deepEqual(
        ["5", "new7"].map((id) => got.get(id)?.source),
        ["again/5", "again/new7"],
      );
      assert.equal(await table.maintain(), "optimized");
      assert.equal(await table.count(), 850);
      await table.upsert(replaced);
      assert.equal(await table.count(), 850, "and after the index was topped up");
      store.close();
    });
  });
}

describe("the exact scan of a small table (exact-scan.ts)", () => {
  const batchOf = (rows: { id: string; vector: number[] }[]) => makeArrowTable(rows).batches;
  const rows = [
    { id: "a", vector: [1, 0, 0] },
    { id: "b", vector: [0, 1, 0] },
    { id: "c", vector: [0.6, 0.8, 0] },
    { id: "d", vector: [0.6, 0.8, 0] },
  ];
  const batches = [...batchOf(rows.slice(0, 2)), ...batchOf(rows.slice(2))];
  const q = (...values: number[]) => Float32Array.from(values);

  it("keeps each query's best rows by dot product, best first, across batches; a tie keeps the earlier row", () => {
    assert.deepEqual(nearestIds([q(1, 0, 0), q(0, 1, 0), q(0, 0, 1)], batches, 2), [
      ["a", "c"],
      ["b", "c"],
      ["a", "b"],
    ]);
    assert.deepEqual(nearestIds([q(0.6, 0.8, 0)], batches, 3), [["c", "d", "b"]]);
  });

  it("returns every row when there are fewer than the limit, and none for a limit of 0 or no rows", () => {
    assert.deepEqual(nearestIds([q(1, 0, 0)], batches, 10), [["a", "c", "d", "b"]]);
    assert.deepEqual(nearestIds([q(1, 0, 0)], batches, 0), [[]]);
    assert.deepEqual(nearestIds([q(1, 0, 0)], [], 3), [[]]);
  });

  it("ranks by cosine when a row is not at unit length", () => {
    const lengths = batchOf([
      { id: "long", vector: [3, 4, 0] },
      { id: "short", vector: [0, 0.5, 0] },
      { id: "zero", vector: [0, 0, 0] },
    ]);
    assert.deepEqual(nearestIds([q(0, 1, 0)], lengths, 3), [["short", "long", "zero"]]);
  });

  it("refuses vectors of another dimension", () => {
    assert.throws(
      () => nearestIds([q(1, 0)], batches, 2),
      (e: unknown) => isLookalikeError(e) && /2-d/.test(String((e as Error).message)),
    );
  });
});
