/**
 * Query regions: the picture inside a screenshot and the tiles of a collage are found by layout
 * alone (pure functions over decoded pixels), and the engine finds a stored picture through them.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import type { LookalikeEngine } from "../src/retrieval/engine.ts";
import { decodeImage } from "../src/retrieval/image.ts";
import { describeRegion, position, regionField } from "../src/retrieval/regions/describe.ts";
import { type Part, rankingPair, SAME_PLACE_MIN_COSINE, storedParts, viewParts } from "../src/retrieval/regions/evidence.ts";
import {
  type Box,
  contentBox,
  cropImage,
  DETAIL_MAX_SIZE,
  detailSize,
  gutterTiles,
  scaledBox,
  wholeImage,
} from "../src/retrieval/regions/layout.ts";
import { cosine } from "../src/retrieval/vectors.ts";
import { openTestEngine } from "./support/engine.ts";
import { appScreenshot, gridCollage, type Placed } from "./support/framings.ts";
import { datasetsDir } from "./support/paths.ts";
import { tempDir } from "./support/temp.ts";

const photoDir = path.join(datasetsDir, "photo-pool-cc", "images");
const photos = readdirSync(photoDir)
  .filter((f) => f.endsWith(".jpg"))
  .sort()
  .map((f) => path.join(photoDir, f));

/** The placed box in the decoded working copy's pixels. */
function expectedBox(placed: Placed, workingWidth: number): Box {
  const scale = workingWidth / placed.width;
  const [x, y, width, height] = placed.box.map((v) => v * scale) as [number, number, number, number];
  return { x, y, width, height };
}

function assertNear(actual: Box, expected: Box, tolerance: number, what: string): void {
  for (const key of ["x", "y", "width", "height"] as const) {
    assert.ok(
      Math.abs(actual[key] - expected[key]) <= tolerance,
      `${what}: ${key} ${actual[key]} vs ${expected[key].toFixed(1)} (±${tolerance})`,
    );
  }
}

describe("layout: content box and collage tiles", () => {
  const screens = [
    { dark: true, share: 0.6, left: 40, top: 260 },
    { dark: false, share: 0.9, left: 36, top: 330 },
    { dark: true, share: 1, left: 0, top: 200 },
    { dark: false, share: 0.5, left: 300, top: 420 },
  ];
  for (const [i, layout] of screens.entries()) {
    it(`finds the picture in a ${layout.dark ? "dark" : "light"} screenshot at ${layout.share * 100} % width`, async () => {
      const placed = await appScreenshot(photos[i]!, layout);
      const image = await decodeImage(placed.image);
      const box = contentBox(image);
      assert.ok(box, "a content box");
      assertNear(box, expectedBox(placed, image.width), 4, "content box");
    });
  }

  for (const [columns, rows, gutter] of [
    [2, 2, 10],
    [2, 1, 6],
    [3, 3, 8],
  ] as const) {
    it(`splits a ${columns}×${rows} collage with ${gutter}-px gutters into its tiles`, async () => {
      const placed = await gridCollage(photos[0]!, photos.slice(1), {
        columns,
        rows,
        position: columns * rows - 1,
        gutter,
        tile: 240,
        background: "#ffffff",
      });
      const image = await decodeImage(placed.image);
      const tiles = gutterTiles(image, contentBox(image) ?? wholeImage(image));
      assert.equal(tiles.length, columns * rows);
      assertNear(tiles.at(-1)!, expectedBox(placed, image.width), 3, "last tile");
    });
  }

  it("leaves a plain photo whole: no content box, no tiles", async () => {
    for (const file of photos.slice(0, 6)) {
      const image = await decodeImage(file);
      assert.equal(contentBox(image), null, file);
      assert.deepEqual(gutterTiles(image, wholeImage(image)), [], file);
    }
  });

  it("crops the working copy's pixels exactly", async () => {
    const image = await decodeImage(photos[0]!);
    const crop = cropImage(image, { x: 10, y: 20, width: 30, height: 5 });
    assert.equal(crop.pixels.length, 30 * 5 * 3);
    const source = ((20 + 4) * image.width + 10 + 29) * 3;
    assert.deepEqual([...crop.pixels.subarray((4 * 30 + 29) * 3, (4 * 30 + 30) * 3)], [...image.pixels.subarray(source, source + 3)]);
  });
});

describe("how sharp a copy region views are cut from", () => {
  const screenshot = { width: 236, height: 512, sourceWidth: 1080, sourceHeight: 2340 };
  const box = (width: number, height: number) => ({ box: { x: 0, y: 0, width, height } });
  const cases: [string, typeof screenshot, { box: Box }[], number | undefined][] = [
    ["a 150-px picture in a phone screenshot: long enough to show it at 448 px", screenshot, [box(150, 120)], Math.ceil((512 * 448) / 150)],
    ["a small collage tile: capped", screenshot, [box(300, 200), box(60, 40)], DETAIL_MAX_SIZE],
    ["a source only a little larger: all of it", { ...screenshot, sourceWidth: 300, sourceHeight: 650 }, [box(150, 120)], 650],
    ["a box already 448 px long: the working copy", screenshot, [box(448, 100)], undefined],
    ["a source no larger than the working copy", { ...screenshot, sourceWidth: 236, sourceHeight: 512 }, [box(150, 120)], undefined],
    ["no box", screenshot, [], undefined],
  ];
  for (const [what, image, boxes, expected] of cases) {
    it(what, () => assert.equal(detailSize(image, boxes), expected));
  }

  const working = { width: 236, height: 512 };
  const sharper = { width: 708, height: 1536 };
  it("maps a box of the working copy onto the sharper copy, three times as many pixels", () =>
    assert.deepEqual(scaledBox({ x: 70, y: 120, width: 150, height: 100 }, working, sharper), { x: 210, y: 360, width: 450, height: 300 }));
  it("ends a box at the far corner exactly at the sharper copy's far corner", () =>
    assert.deepEqual(scaledBox({ x: 200, y: 500, width: 36, height: 12 }, working, sharper), { x: 600, y: 1500, width: 108, height: 36 }));
});

describe("how /similar ranks a candidate: views, or near-identical pieces at the same place", () => {
  /** A unit vector: `cos` along `axis`, the rest along `rest`. */
  const unit = (axis: number, cos = 1, rest = 5) => {
    const v = new Float32Array(6);
    v[rest] = Math.sqrt(1 - cos * cos);
    v[axis] = cos;
    return v;
  };
  const topLeft = [0, 0, 0.5, 0.5] as const;
  const bottomRight = [0.5, 0.5, 0.5, 0.5] as const;
  // The query's view is the first axis; the stored picture's whole vector is 0.8 from it, its two
  // pieces are orthogonal to it (so no view pairs with them), and the query's pieces are `cos` from
  // the stored top-left piece.
  const coded = (v: Float32Array) => Int8Array.from(v, (x) => Math.round(x * 127));
  const stored = storedParts(unit(0, 0.8, 1), {
    regions: [
      { box: topLeft, vector: coded(unit(2)) },
      { box: bottomRight, vector: coded(unit(3)) },
    ],
    cells: [],
  });
  const viewOf = (vector: Float32Array) => viewParts([{ vector, mirrored: false }]);
  const views = viewOf(unit(0));
  const piece = (cos: number, box: Part["box"]): Part => ({ vector: unit(2, cos, 4), box, kind: "part" });
  const cases: { name: string; regions: Part[]; views?: Part[]; score: number; region: boolean }[] = [
    { name: "a near-identical piece at the same place ranks it", regions: [piece(0.99, topLeft)], score: 0.99, region: true },
    { name: "the same piece at another place does not", regions: [piece(0.99, bottomRight)], score: 0.8, region: false },
    { name: "a piece merely close (under the floor) does not", regions: [piece(0.85, topLeft)], score: 0.8, region: false },
    { name: "no regions (a framed query) leave the views", regions: [], score: 0.8, region: false },
    { name: "a closer view still wins", regions: [piece(0.99, topLeft)], views: viewOf(unit(0, 0.8, 1)), score: 1, region: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pair = rankingPair(c.views ?? views, c.regions, stored);
      assert.ok(Math.abs(pair.score - c.score) < 1e-6, `score ${pair.score}, expected ${c.score}`);
      assert.equal(pair.region !== undefined, c.region);
      if (c.region) assert.deepEqual(pair.region, { kind: "part", query: topLeft, match: topLeft });
    });
  }
  it("asks a piece to be nearly identical", () => assert.ok(SAME_PLACE_MIN_COSINE >= 0.85 && SAME_PLACE_MIN_COSINE < 1));
});

describe("describing where a match was found", () => {
  const cases: [readonly [number, number, number, number], string][] = [
    [[0, 0, 0.5, 0.5], "top-left"],
    [[0.5, 0, 0.5, 0.5], "top-right"],
    [[0.33, 0.33, 0.34, 0.34], "centre"],
    [[0, 0.6, 1, 0.4], "bottom"],
    [[0.7, 0.3, 0.3, 0.4], "right"],
  ];
  for (const [box, words] of cases) it(`${JSON.stringify(box)} is ${words}`, () => assert.equal(position(box), words));

  it("names collage tiles and frames, and gives the CLI's region field in fractions", () => {
    const tile = { kind: "tile", query: [0.5, 0.5, 0.5, 0.5], match: [0, 0, 1, 1] } as const;
    assert.equal(describeRegion(tile), "in the bottom-right tile of a collage");
    assert.match(describeRegion({ kind: "content", query: [0.05, 0.2, 0.6, 0.3], match: [0, 0, 1, 1] }), /inside a frame .*18 %/);
    assert.deepEqual(regionField({ kind: "content", query: [0.12345, 0, 1, 0.5], match: [0, 0, 1, 1] }), {
      region: { query: [0.123, 0, 1, 0.5], match: [0, 0, 1, 1] },
    });
    assert.deepEqual(regionField(undefined), {});
  });
});

describe("the engine searches the parts of a query", () => {
  let engine: LookalikeEngine;
  const stored = photos.slice(0, 24);

  before(async () => {
    engine = await openTestEngine(await tempDir());
    const items = await Promise.all(
      stored.map(async (file) => ({ image: await engine.analyze(file), meta: { id: path.basename(file), source: file } })),
    );
    await engine.add("photos", items);
  });
  after(async () => {
    await engine?.close();
  });

  it("finds the picture inside a screenshot first, and says where it was", async () => {
    const placed = await appScreenshot(stored[5]!, { dark: true, share: 0.6, left: 40, top: 300 });
    const query = await engine.analyze(placed.image, { flipped: true, regions: true });
    const [first] = await engine.findSimilar(query, { collection: "photos", k: 3 });
    assert.equal(first?.id, path.basename(stored[5]!));
    assert.equal(first.region?.kind, "content");
    const [x, y, w, h] = first.region.query;
    assert.ok(Math.abs(x - 40 / 720) < 0.02 && Math.abs(w - 0.6) < 0.02, `box ${first.region.query}`);
    assert.ok(y > 0.15 && h > 0.1 && y + h < 0.8, `box ${first.region.query}`);
  });

  it("cuts the picture inside a large screenshot from a sharper decode than the working copy", async () => {
    // Measured on four of these photos: 0.930 vs 0.920, 0.953 vs 0.913, 0.922 vs 0.884, 0.943 vs 0.862 (this one).
    const placed = await appScreenshot(stored[12]!, { dark: false, share: 0.5, left: 300, top: 420 });
    const [original, query] = await Promise.all([engine.analyze(stored[12]!), engine.analyze(placed.image, { regions: true })]);
    const content = query.regionViews?.find((view) => view.kind === "content");
    assert.ok(content, "a content view");
    // The same box cut from the 512-px working copy (~130 px across), embedded as an image of its own.
    const working = await decodeImage(placed.image);
    const box = contentBox(working)!;
    const crop = cropImage(working, box);
    const png = await sharp(crop.pixels, { raw: { width: crop.width, height: crop.height, channels: 3 } })
      .png()
      .toBuffer();
    const fromWorkingCopy = await engine.analyze(png);
    const [sharper, blurred] = [cosine(content.vector, original.vector), cosine(fromWorkingCopy.vector, original.vector)];
    assert.ok(
      sharper > blurred,
      `cosine with the original: ${sharper.toFixed(3)} from the sharper copy, ${blurred.toFixed(3)} from the working copy`,
    );
  });

  it("finds a picture in a 3×3 collage of other pictures, in the right tile", async () => {
    const placed = await gridCollage(stored[7]!, photos.slice(30), {
      columns: 3,
      rows: 3,
      position: 2,
      gutter: 8,
      tile: 220,
      background: "#000000",
    });
    const query = await engine.analyze(placed.image, { flipped: true, centre: true, regions: true });
    const without = await engine.analyze(placed.image, { flipped: true, centre: true });
    const verdict = await engine.checkRepost(query, { collection: "photos" });
    assert.equal(verdict.match?.id, path.basename(stored[7]!));
    assert.equal(verdict.match?.region?.kind, "tile");
    assert.equal(describeRegion(verdict.match!.region!), "in the top-right tile of a collage");
    // The whole collage alone is far less like the picture than its tile is.
    const whole = await engine.checkRepost(without, { collection: "photos" });
    assert.ok(verdict.match!.score > (whole.match?.id === verdict.match!.id ? whole.match.score : 0) + 0.1);
  });
});
