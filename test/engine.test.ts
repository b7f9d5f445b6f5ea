import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { CHECK_ANALYSIS } from "../src/cli/query-commands.ts";
import { Embedder } from "../src/retrieval/embedder.ts";
import type { AnalyzedImage, LookalikeEngine } from "../src/retrieval/engine.ts";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import { decodeImage } from "../src/retrieval/image.ts";
import { getModel } from "../src/retrieval/models.ts";
import { POOLING_NAMES, pool } from "../src/retrieval/pooling.ts";
import { dot } from "../src/retrieval/vectors.ts";
import { DEFAULT_WHITENING_POLICY } from "../src/retrieval/whitening/maintainer.ts";
import { applyWhitening, applyWhiteningMany, truncateWhitening } from "../src/retrieval/whitening.ts";
import { openTestEngine } from "./support/engine.ts";
import { databaseBackends } from "./support/object-store.ts";
import { datasetsDir, modelsDir } from "./support/paths.ts";
import { centreCrop, downscale, mirror, phoneFrame, reencode } from "./support/transforms.ts";

const photos = path.join(datasetsDir, "photo-pool-cc", "images");

// An image's analysis does not depend on where the database is: the suites below run once per
// backend and share the analyses of the photos they index, so the second run costs database time only.
const analyses = new Map<string, Promise<AnalyzedImage>>();
function analyzeOnce(
  engine: LookalikeEngine,
  file: string,
  options: { thumbnail?: boolean; parts?: boolean } = {},
): Promise<AnalyzedImage> {
  const key = `${file}|${options.thumbnail === true}|${options.parts === true}`;
  let analysis = analyses.get(key);
  if (!analysis) analyses.set(key, (analysis = engine.analyze(file, options)));
  return analysis;
}

describe("embedding with the real MobileNetV2 model", () => {
  let embedder: Embedder;
  before(async () => {
    embedder = await Embedder.create({ model: getModel("mobilenetv2-int8"), modelsDir, download: false, threads: 2 });
  });
  after(() => embedder.close());

  it("gives every pooling a finite unit vector of the model's channel count", async () => {
    const [first] = await readdir(photos);
    const map = await embedder.featureMap(await decodeImage(path.join(photos, first!)));
    assert.deepEqual([map.channels, map.height, map.width], [1280, 7, 7]);
    assert.ok(
      map.data.some((x) => x > 0),
      "a real photo activates the feature map",
    );
    for (const name of POOLING_NAMES) {
      const v = pool(name, map);
      assert.equal(v.length, 1280, name);
      assert.ok(v.every(Number.isFinite), name);
      assert.ok(Math.abs(dot(v, v) - 1) < 1e-4, `${name} is L2-normalised`);
    }
  });

  it("scores a re-encoded, resized copy far above an unrelated photo for every pooling", async () => {
    const [a, b] = (await readdir(photos)).slice(0, 2).map((f) => path.join(photos, f));
    const images = [await decodeImage(a!), await decodeImage(await reencode(await downscale(a!, 0.4), 30)), await decodeImage(b!)];
    const maps = await Promise.all(images.map((image) => embedder.featureMap(image)));
    for (const name of POOLING_NAMES) {
      const [original, copy, other] = maps.map((m) => pool(name, m));
      const same = dot(original!, copy!);
      const different = dot(original!, other!);
      assert.ok(same > 0.9, `${name}: copy scores ${same.toFixed(3)}`);
      assert.ok(same - different > 0.15, `${name}: copy ${same.toFixed(3)} vs unrelated ${different.toFixed(3)}`);
    }
  });
});

for (const backend of databaseBackends()) {
  describe(`LookalikeEngine: findSimilar and checkRepost on a real LanceDB in ${backend.name}`, () => {
    let engine: LookalikeEngine;
    let files: string[];
    before(async () => {
      await backend.start();
      engine = await openTestEngine(await backend.fresh(), { threads: 2 });
      files = (await readdir(photos))
        .sort()
        .slice(0, 12)
        .map((f) => path.join(photos, f));
      const items = await Promise.all(
        // Stored as the product stores them: with their parts (regions, cells), which repost checks compare.
        files.map(async (file) => ({
          image: await analyzeOnce(engine, file, { thumbnail: true, parts: true }),
          meta: { id: file, source: file },
        })),
      );
      await engine.add("photos", items);
    });
    after(async () => {
      await engine.close();
      await backend.stop();
    });

    it("indexes with thumbnails and finds each original first for an edited copy", async () => {
      const stored = await (await engine.collection("photos")).get([files[0]!], true);
      const thumbnail = stored.get(files[0]!)?.thumbnail;
      assert.ok(thumbnail && thumbnail.subarray(8, 12).toString("latin1") === "WEBP", "a WebP thumbnail is stored");
      for (const [i, edit] of [
        [1, reencode],
        [2, downscale],
        [3, centreCrop],
        [4, mirror],
      ] as const) {
        const query = await engine.analyze(await edit(files[i]!), { flipped: true });
        const [best, second] = await engine.findSimilar(query, { collection: "photos", k: 3 });
        assert.equal(best!.id, files[i], `${edit.name} copy of photo ${i}`);
        assert.ok(best!.score > second!.score + 0.05, `${edit.name}: clear margin`);
      }
    });

    it("calls a re-encode exact, a crop or mirror a near-duplicate, and an unseen photo new", async () => {
      // Analysed as `lookalike check` and the bot analyse a repost check: the thresholds are fitted for that.
      const verdict = async (bytes: Buffer | string, excludeIds: string[] = []) =>
        engine.checkRepost(await engine.analyze(bytes, CHECK_ANALYSIS), { collection: "photos", excludeIds });
      const exact = await verdict(await reencode(files[5]!));
      assert.equal(exact.verdict, "exact");
      assert.equal(exact.match?.id, files[5]);
      assert.ok(exact.match!.hamming <= 6);
      // An 80 % crop, the mild kind (bench/RESULTS.md "Held-out reposts": a 70 % crop is found in small collections only sometimes).
      const cropped = await verdict(await centreCrop(files[6]!, 0.8));
      assert.ok(["exact", "near-duplicate"].includes(cropped.verdict), `crop: ${cropped.verdict}`);
      assert.equal(cropped.match?.id, files[6]);
      const mirrored = await verdict(await mirror(files[7]!));
      assert.equal(mirrored.verdict, "near-duplicate");
      assert.equal(mirrored.match?.flipped, true);
      const unseen = (await readdir(photos)).sort()[30]!;
      assert.equal((await verdict(path.join(photos, unseen))).verdict, "new");
      // An indexed image is compared with everything else, never with itself.
      const self = await verdict(files[8]!, [files[8]!]);
      assert.notEqual(self.match?.id, files[8]);
    });

    it("sees through a screenshot frame with the query's centre view", async () => {
      const framed = await phoneFrame(files[9]!);
      const plain = await engine.analyze(framed, { flipped: true });
      const withCentre = await engine.analyze(framed, { flipped: true, centre: true });
      assert.equal(plain.centreVector, undefined);
      for (const v of [withCentre.centreVector!, withCentre.centreFlippedVector!])
        assert.ok(Math.abs(dot(v, v) - 1) < 1e-4, "unit vectors");
      const before = await engine.checkRepost(plain, { collection: "photos" });
      const after = await engine.checkRepost(withCentre, { collection: "photos" });
      assert.equal(after.match?.id, files[9]);
      assert.ok(["exact", "near-duplicate"].includes(after.verdict), `framed copy: ${after.verdict}`);
      assert.ok(
        after.match!.decisionScore > (before.match?.id === files[9] ? before.match!.decisionScore : 0) + 0.05,
        `centre view ${after.match!.decisionScore.toFixed(3)} vs ` +
          `letterboxed only ${before.match?.decisionScore.toFixed(3)} (${before.match?.id})`,
      );
    });

    it("refuses hostile input with a typed error and keeps working", async () => {
      await assert.rejects(engine.analyze(Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>")), (error) =>
        isLookalikeError(error, "unsupported_format"),
      );
      const query = await engine.analyze(files[0]!);
      assert.equal((await engine.findSimilar(query, { collection: "photos", k: 1 }))[0]!.id, files[0]);
    });

    it("refuses to mix vectors: the same collection opened with another pooling", async () => {
      const db = await backend.fresh();
      const gem = await openTestEngine(db, { pooling: "gem" });
      await gem.add("c", [{ image: await gem.analyze(files[0]!), meta: { id: "x", source: "x" } }]);
      await gem.close();
      const mac = await openTestEngine(db, { pooling: "mac" });
      await assert.rejects(mac.collection("c"), (error) => isLookalikeError(error, "model_mismatch"));
      await mac.close();
    });
  });

  describe(`LookalikeEngine: each collection learns its own whitening for repost verdicts, in ${backend.name}`, () => {
    // A low threshold so a test-sized collection gets one (the shipped policy waits for 1,000 images).
    const whiteningPolicy = { ...DEFAULT_WHITENING_POLICY, minRows: 30, sampleRows: 200 };
    let db: string;
    let engine: LookalikeEngine;
    let files: string[];
    before(async () => {
      await backend.start();
      db = await backend.fresh();
      engine = await openTestEngine(db, { threads: 2, whiteningPolicy });
      files = (await readdir(photos))
        .sort()
        .slice(0, 36)
        .map((f) => path.join(photos, f));
      const items = [];
      for (const file of files) items.push({ image: await analyzeOnce(engine, file), meta: { id: file, source: file } });
      await engine.add("big", items.slice(0, 32));
      await engine.add("small", items.slice(32));
    });
    after(async () => {
      await engine.close();
      await backend.stop();
    });

    const check = async (e: LookalikeEngine, collection: string, bytes: Buffer | string) =>
      e.checkRepost(await e.analyze(bytes, { flipped: true }), { collection });

    it("judges on plain cosine until maintain() fits a whitening, then in the whitened space", async () => {
      const copy = await reencode(await downscale(files[3]!, 0.5), 40);
      assert.equal((await check(engine, "big", copy)).space, "raw");
      assert.deepEqual(await engine.maintain("big"), { index: "none", whitening: "fitted" });
      assert.deepEqual(await engine.maintain("big"), { index: "none", whitening: "none" }, "no refit until the collection doubles");
      const whitened = await check(engine, "big", copy);
      assert.equal(whitened.space, "whitened");
      assert.equal(whitened.match?.id, files[3]);
      assert.ok(["exact", "near-duplicate"].includes(whitened.verdict), whitened.verdict);
      const unrelated = await check(engine, "big", files[34]!);
      assert.ok(
        whitened.match!.decisionScore > unrelated.match!.decisionScore + 0.3,
        `copy ${whitened.match!.decisionScore.toFixed(3)} vs unrelated ${unrelated.match!.decisionScore.toFixed(3)}`,
      );
    });

    it("projects through the whitening in the inference worker as in this thread, all axes or the strongest few", async () => {
      const { whitening } = (await engine.whitening("big"))!;
      const vectors = await Promise.all(files.slice(30, 34).map(async (file) => (await analyzeOnce(engine, file)).vector));
      for (const w of [whitening, truncateWhitening(whitening, 8)]) {
        const inWorker = await applyWhiteningMany(w, vectors, engine.analyzer.product);
        assert.equal(inWorker.length, vectors.length);
        inWorker.forEach((projected, k) => {
          const here = applyWhitening(w, vectors[k]!);
          assert.equal(projected.length, w.outputDimension);
          const worst = Math.max(...projected.map((x, i) => Math.abs(x - here[i]!)));
          assert.ok(worst < 1e-5, `off by ${worst}`);
        });
      }
      assert.equal(whitening.projection.length, whitening.outputDimension * whitening.inputDimension, "the matrix is still here");
      await assert.rejects(applyWhiteningMany(whitening, [new Float32Array(3)], engine.analyzer.product), isLookalikeError);
    });

    it("keeps each collection's whitening to itself, across restarts, and drops it with the collection", async () => {
      assert.deepEqual(await engine.maintain("small"), { index: "none", whitening: "none" }, "4 images are too few");
      assert.equal((await check(engine, "small", files[33]!)).space, "raw");
      const reopened = await openTestEngine(db, { whiteningPolicy });
      try {
        assert.equal((await check(reopened, "big", files[5]!)).space, "whitened", "the fit was persisted");
        await reopened.dropCollection("big");
        assert.equal(await reopened.store.whitenings.load("big"), null);
        assert.equal((await reopened.store.collections()).includes("big"), false);
      } finally {
        await reopened.close();
      }
    });
  });
}
