/**
 * Image parts (regions and cells) and spatial verification: the encoding round-trips, a copy lines
 * up cell by cell where unrelated pictures do not, and the engine stores parts with an image,
 * finds a crop through the region it shows, and deletes the parts with the image.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import * as lancedb from "@lancedb/lancedb";
import sharp from "sharp";
import type { AnalyzedImage, LookalikeEngine } from "../src/retrieval/engine.ts";
import type { Fingerprint } from "../src/retrieval/fingerprint.ts";
import { queryCells, verificationGridsOf, verifiedCells } from "../src/retrieval/regions/evidence.ts";
import { type CellSet, cellsWithin, decodeParts, encodeParts, PARTS_VERSION } from "../src/retrieval/regions/parts.ts";
import {
  consistentMatches,
  mutualMatches,
  remoteCellScorer,
  type SetVerification,
  scoreCells,
  verify,
} from "../src/retrieval/regions/verify.ts";
import { cropCells } from "../src/retrieval/reposts.ts";
import { cellSet } from "./support/cells.ts";
import { openTestEngine } from "./support/engine.ts";
import { datasetsDir } from "./support/paths.ts";
import { tempDir } from "./support/temp.ts";

const photoDir = path.join(datasetsDir, "photo-pool-cc", "images");
const photos = readdirSync(photoDir)
  .filter((f) => f.endsWith(".jpg"))
  .sort()
  .map((f) => path.join(photoDir, f));

describe("spatial verification over cells", () => {
  const picture = cellSet(14, 14, (x, y) => 1 + y * 14 + x);

  it("lines up a shifted crop of the same cells: every cell of the crop is an inlier", () => {
    const crop = cellSet(7, 7, (x, y) => 1 + (y + 5) * 14 + (x + 3));
    const matches = mutualMatches(crop, picture);
    assert.equal(matches.length, 49);
    assert.equal(consistentMatches(crop, picture, matches), 49);
  });

  it("finds few consistent matches between unrelated cells, even when they pair up one by one", () => {
    // Random codes still pair up mutually; a few of ~200 pairs agree with some model by chance.
    const other = cellSet(14, 14, (x, y) => 10_000 + y * 14 + x);
    assert.ok(mutualMatches(other, picture).length > 20);
    assert.ok(verify([other], [picture]).inliers <= 10, `${verify([other], [picture]).inliers}`);
  });

  it("counts the strays: mutual matches the best model does not explain", () => {
    // A 6×4 piece of the picture, and a last row of picture cells from far away (rows 12, not 6).
    const piece = cellSet(6, 5, (x, y) => (y < 4 ? 1 + (y + 2) * 14 + (x + 7) : 1 + 12 * 14 + 2 * x));
    const { inliers, bySet } = verify([piece], [picture]);
    assert.equal(inliers, 24);
    assert.deepEqual(bySet, [{ inliers: 24, strays: 6 }]);
  });

  it("takes the cells inside a box of the image, at least one", () => {
    const crop = cellSet(7, 7, (x, y) => 1 + (y + 5) * 14 + (x + 3));
    assert.deepEqual(cellsWithin(picture, [3 / 14, 5 / 14, 7 / 14, 7 / 14]), crop);
    // A cell is in when the box covers most of it: x 2.7–5.3 → cells 3 and 4; y 0.2–1.4 → cell 0.
    const within = cellsWithin(picture, [2.7 / 14, 0.2 / 14, 2.6 / 14, 1.2 / 14]);
    assert.deepEqual([within.width, within.height], [2, 1]);
    assert.deepEqual(
      within,
      cellSet(2, 1, (x) => 1 + (x + 3)),
    );
    assert.deepEqual([cellsWithin(picture, [0.5, 0.5, 0, 0]).width, cellsWithin(picture, [1, 1, 0, 0]).height], [1, 1]);
  });

  it("verifies a framed query on the picture inside its frame only: the frame does not line up with another framed picture", () => {
    // A query whose left third is a frame (an app's chrome) the stored look-alike shares, cell for
    // cell, with a different picture beside it.
    const frame = (x: number, y: number) => 50_000 + y * 14 + x;
    const query = cellSet(14, 14, (x, y) => (x < 5 ? frame(x, y) : 1 + y * 14 + x));
    const lookAlike = cellSet(14, 14, (x, y) => (x < 5 ? frame(x, y) : 20_000 + y * 14 + x));
    const original = cellSet(9, 14, (x, y) => 1 + y * 14 + (x + 5));
    const fingerprint = (content: boolean) =>
      ({
        parts: { regions: [], cells: [query] },
        regionViews: content ? [{ kind: "content", box: [5 / 14, 0, 9 / 14, 1], vector: new Float32Array(1) }] : [],
      }) as unknown as Fingerprint;
    const parts = (cells: CellSet) => ({ regions: [], cells: [cells] });
    const kept = verifiedCells(queryCells(fingerprint(false)), parts(lookAlike));
    assert.ok(kept >= 50, `the frame lines up when kept (50: the shipped verified-copy floor): ${kept}`);
    assert.ok(verifiedCells(queryCells(fingerprint(true)), parts(lookAlike)) <= 10);
    assert.equal(verifiedCells(queryCells(fingerprint(true)), parts(original)), 9 * 14);
  });

  /** A 10×10 query whose cells are the picture's at the query's positions rotated by `degrees` about the centre. */
  const rotated = (degrees: number): CellSet => {
    const [cos, sin] = [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];
    return cellSet(10, 10, (x, y) => {
      const [u, v] = [x - 4.5, y - 4.5];
      const sx = Math.min(13, Math.max(0, Math.round(7 + cos * u - sin * v)));
      const sy = Math.min(13, Math.max(0, Math.round(7 + sin * u + cos * v)));
      return 1 + sy * 14 + sx;
    });
  };

  it("lines up a copy tilted by a few degrees, not one turned much further", () => {
    for (const degrees of [-12, 8, 15]) {
      const query = rotated(degrees);
      const matches = mutualMatches(query, picture);
      const inliers = consistentMatches(query, picture, matches);
      assert.ok(matches.length >= 60 && inliers >= 0.9 * matches.length, `${degrees}°: ${inliers} of ${matches.length}`);
    }
    const turned = rotated(45);
    const matches = mutualMatches(turned, picture);
    assert.ok(consistentMatches(turned, picture, matches) < 0.5 * matches.length);
  });

  it("verifies with the query's verification grids too, inside the content box when a frame was trimmed", () => {
    const crop = cellSet(7, 7, (x, y) => 1 + (y + 5) * 14 + (x + 3));
    const unrelated = cellSet(14, 14, (x, y) => 30_000 + y * 14 + x);
    const fingerprint = { parts: { regions: [], cells: [unrelated] }, verificationCells: [crop] } as unknown as Fingerprint;
    assert.equal(verifiedCells(queryCells(fingerprint), { regions: [], cells: [picture] }), 49);
    const framed = { ...fingerprint, regionViews: [{ kind: "content", box: [0, 0, 3 / 7, 1], vector: new Float32Array(1) }] };
    assert.equal(verifiedCells(queryCells(framed as unknown as Fingerprint), { regions: [], cells: [picture] }), 3 * 7);
  });

  it("tells how well each of the query's grids lines up, and which ones are the verification grids", () => {
    // A whole-image grid of another picture, and verification grids: one showing a 6×5 piece of this picture, one another picture.
    const unrelated = cellSet(14, 14, (x, y) => 40_000 + y * 14 + x);
    const crop = cellSet(6, 5, (x, y) => 1 + (y + 2) * 14 + (x + 7));
    const other = cellSet(20, 20, (x, y) => 50_000 + y * 20 + x);
    const { inliers, bySet } = verify([unrelated, crop], [picture]);
    assert.equal(bySet.length, 2);
    assert.ok(bySet[0]!.inliers <= 10, `${bySet[0]!.inliers}`);
    assert.deepEqual(bySet[1], { inliers: 30, strays: 0 }, "every mutual match of the piece lines up");
    assert.equal(inliers, 30, "the best over every pairing");
    const fingerprint = { parts: { regions: [], cells: [unrelated] }, verificationCells: [other, crop] } as unknown as Fingerprint;
    assert.deepEqual(verificationGridsOf(fingerprint), [1, 2], "right after the query's own parts");
    assert.deepEqual(
      verificationGridsOf(fingerprint).map((k) => queryCells(fingerprint)[k]),
      [other, crop],
    );
    assert.deepEqual(verificationGridsOf({ ...fingerprint, verificationCells: undefined }), []);
  });

  it("counts exactly what trying every model on every match counts, though it drops hopeless models early", () => {
    /** Every pair of matches' model (scale + rotation + shift, within the allowed ranges), each tried on every match. */
    const everyModel = (a: CellSet, b: CellSet, matches: readonly [number, number][]): number => {
      const at = (set: CellSet, i: number) => ({ x: (i % set.width) + 0.5, y: Math.floor(i / set.width) + 0.5 });
      const query = matches.map(([i]) => at(a, i));
      const stored = matches.map(([, j]) => at(b, j));
      let best = Math.min(1, matches.length);
      for (let p = 0; p < matches.length; p++) {
        for (let q = p + 1; q < matches.length; q++) {
          const [u, v] = [
            { x: query[q]!.x - query[p]!.x, y: query[q]!.y - query[p]!.y },
            { x: stored[q]!.x - stored[p]!.x, y: stored[q]!.y - stored[p]!.y },
          ];
          if (Math.hypot(u.x, u.y) < 1.5 || Math.hypot(v.x, v.y) === 0) continue;
          // stored − stored[p] = z · (query − query[p]), z the complex ratio v / u.
          const norm = u.x * u.x + u.y * u.y;
          const z = { re: (v.x * u.x + v.y * u.y) / norm, im: (v.y * u.x - v.x * u.y) / norm };
          const scale = Math.hypot(z.re, z.im);
          if (scale < 0.35 || scale > 2.8 || Math.abs(Math.atan2(z.im, z.re)) > (20 * Math.PI) / 180) continue;
          const count = matches.filter((_, k) => {
            const d = { x: query[k]!.x - query[p]!.x, y: query[k]!.y - query[p]!.y };
            const x = stored[p]!.x + z.re * d.x - z.im * d.y;
            const y = stored[p]!.y + z.im * d.x + z.re * d.y;
            return Math.hypot(x - stored[k]!.x, y - stored[k]!.y) <= Math.max(1, scale) + 1e-9;
          }).length;
          best = Math.max(best, count);
        }
      }
      return best;
    };
    let state = 7;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) >>> 0;
      return (state >>> 8) % n;
    };
    const query = { width: 10, height: 10, codes: new Int8Array(0) };
    for (let trial = 0; trial < 200; trial++) {
      // Two shifted copies' matches (so that models come close to the best), strays anywhere, in a shuffled order.
      const matches: [number, number][] = [];
      for (const [size, dx, dy] of [
        [random(16), random(4), random(4)],
        [random(16), random(4), random(4)],
      ]) {
        for (let k = 0; k < size!; k++) {
          const [x, y] = [random(10), random(10)];
          matches.push([y * 10 + x, (y + dy!) * 14 + x + dx!]);
        }
      }
      for (let k = random(24); k > 0; k--) matches.push([random(100), random(196)]);
      for (let k = matches.length - 1; k > 0; k--) {
        const j = random(k + 1);
        [matches[k], matches[j]] = [matches[j]!, matches[k]!];
      }
      assert.equal(consistentMatches(query, picture, matches), everyModel(query, picture, matches), `trial ${trial}`);
    }
  });

  it("does not line up the right cells in a scrambled layout", () => {
    // The same cells, in a shuffled order: each matches its twin, but no one translation explains them.
    const order = Array.from({ length: 49 }, (_, i) => (i * 17) % 49);
    const scrambled = cellSet(7, 7, (x, y) => {
      const i = order[y * 7 + x]!;
      return 1 + (Math.floor(i / 7) + 5) * 14 + ((i % 7) + 3);
    });
    const matches = mutualMatches(scrambled, picture);
    assert.equal(matches.length, 49);
    assert.ok(consistentMatches(scrambled, picture, matches) < 10);
  });
});

describe("the engine with parts", () => {
  let directory: string;
  let engine: LookalikeEngine;
  const stored = photos.slice(0, 20);
  const idOf = (file: string) => path.basename(file);
  const images = new Map<string, AnalyzedImage>();

  before(async () => {
    directory = await tempDir();
    engine = await openTestEngine(directory);
    for (const file of stored) images.set(idOf(file), await engine.analyze(file, { parts: true }));
    await engine.add(
      "photos",
      stored.map((file) => ({
        image: images.get(idOf(file))!,
        meta: { id: idOf(file), source: file, channelId: String(100 + (stored.indexOf(file) % 2)) },
      })),
    );
  });
  after(() => engine?.close());

  it("encodes an image's parts compactly and decodes them exactly", () => {
    const parts = images.get(idOf(stored[0]!))!.parts!;
    assert.equal(parts.regions.length, 13);
    assert.equal(parts.cells.length, 2);
    const decoded = decodeParts(encodeParts(parts));
    assert.deepEqual(decoded, parts);
    const bytes = encodeParts(parts).length;
    assert.ok(bytes < 64 * 1024, `${bytes} bytes`);
    const stale = encodeParts(parts);
    stale.writeInt32LE(PARTS_VERSION + 1, 0);
    assert.equal(decodeParts(stale), null, "parts of another version are ignored");
  });

  it("finds the original of a 50 % corner crop through the region it shows, and verifies it", async () => {
    const file = stored[3]!;
    const { width = 0, height = 0 } = await sharp(file).metadata();
    const corner = await sharp(file)
      .extract({ left: Math.round(width / 2), top: 0, width: Math.round(width / 2), height: Math.round(height / 2) })
      .jpeg({ quality: 85 })
      .toBuffer();
    const query = await engine.analyze(corner, { flipped: true, centre: true, regions: true, parts: true });
    const longSides = query.verificationCells?.map((set) => Math.max(set.width, set.height));
    assert.deepEqual(longSides, [10, 20], "verification grids at 320 and 640 px (32 px per cell)");
    const [first] = await engine.findSimilar(query, { collection: "photos", k: 3 });
    assert.equal(first?.id, idOf(file));
    assert.ok(first.region, "a region");
    const [x, y] = first.region.match;
    assert.ok(x >= 0.25 && y <= 0.25, `the stored region is in the top-right: ${first.region.match}`);
    const verdict = await engine.checkRepost(query, { collection: "photos" });
    assert.equal(verdict.match?.id, idOf(file));
    assert.ok((verdict.match?.inliers ?? 0) >= 8, `inliers ${verdict.match?.inliers}`);
    // The crop counts are the verification grid that counts most net of its strays, verified here against the stored cells.
    const storedParts = (await engine.store.parts("photos").get([idOf(file)])).get(idOf(file))!;
    const { bySet } = verify(queryCells(query), storedParts.cells);
    const grids = verificationGridsOf(query).map((k) => bySet[k]!);
    const net = (grid: SetVerification) => cropCells({ cropInliers: grid.inliers, cropStrays: grid.strays })!;
    const best = grids.reduce((a, b) => (net(b) > net(a) ? b : a));
    assert.deepEqual([verdict.match?.cropInliers, verdict.match?.cropStrays], [best.inliers, best.strays]);
    assert.ok(best.inliers <= (verdict.match?.inliers ?? 0), `${best.inliers} of ${verdict.match?.inliers}`);
    // The same crop without parts: only whole vectors, and no verification.
    const plain = await engine.checkRepost(await engine.analyze(corner, { flipped: true, centre: true }), { collection: "photos" });
    assert.equal(plain.match?.inliers, undefined);
  });

  it("scores cells in the inference worker exactly as here, and verifies each image from one matrix for all", async () => {
    const file = stored[5]!;
    const corner = await sharp(file).resize(400).extract({ left: 0, top: 0, width: 240, height: 160 }).jpeg({ quality: 80 }).toBuffer();
    const cells = queryCells(await engine.analyze(corner, { regions: true, parts: true }));
    const candidates = [stored[4]!, file, stored[6]!].map((f) => images.get(idOf(f))!.parts!.cells);
    const here = scoreCells(cells, candidates.flat());
    const inWorker = await remoteCellScorer(engine.analyzer.product!)(cells, candidates.flat());
    assert.deepEqual([inWorker.rows, inWorker.columns], [here.rows, here.columns]);
    assert.ok(here.rows > 100 && here.columns > 300, `${here.rows} × ${here.columns}`);
    assert.ok(
      inWorker.values.every((v, i) => v === here.values[i]),
      "the same integers",
    );
    let column = 0;
    const inliers = candidates.map((sets) => {
      const shared = verify(cells, sets, inWorker, column).inliers;
      for (const set of sets) column += set.width * set.height;
      assert.equal(shared, verify(cells, sets).inliers, "the same as verified alone");
      return shared;
    });
    assert.ok(inliers[1]! >= 8 && inliers[1]! > 2 * Math.max(inliers[0]!, inliers[2]!), `the crop's original lines up: ${inliers}`);
  });

  it("gives the parts table an id index on upkeep and merges its fragments on compaction, reading back the same", async () => {
    const ids = stored.map(idOf);
    const before = await engine.store.parts("photos").get(ids);
    // One more write, so there is something to merge.
    await engine.add("photos", [{ image: images.get(ids[0]!)!, meta: { id: ids[0]!, source: stored[0]!, channelId: "100" } }]);
    const db = await lancedb.connect(directory);
    const raw = await db.openTable("parts_photos");
    assert.ok((await raw.stats()).fragmentStats.numFragments >= 2, "fragments from two writes");
    await engine.maintain("photos");
    await raw.checkoutLatest();
    const indexes = await raw.listIndices();
    assert.ok(
      indexes.some((index) => index.columns.includes("id") && index.indexType === "BTree"),
      JSON.stringify(indexes),
    );
    await engine.compact("photos");
    await raw.checkoutLatest();
    assert.equal((await raw.stats()).fragmentStats.numFragments, 1);
    assert.deepEqual(await engine.store.parts("photos").get(ids), before);
    raw.close();
    db.close();
  });

  it("deletes an image's parts with it, and drops them with the collection", async () => {
    const table = engine.store.parts("photos");
    assert.equal((await table.get(stored.map(idOf))).size, stored.length);
    assert.equal(await engine.delete("photos", { channelIds: ["100"] }), 10);
    const left = await table.get(stored.map(idOf));
    assert.deepEqual(
      [...left.keys()].sort(),
      stored
        .filter((_, i) => i % 2 === 1)
        .map(idOf)
        .sort(),
    );
    await engine.dropCollection("photos");
    assert.equal((await engine.store.parts("photos").get(stored.map(idOf))).size, 0);
  });
});
