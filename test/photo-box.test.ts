/**
 * The photo-like rectangle among non-plain UI: synthetic screens where text lines run beside,
 * above and below the picture, so no row or column around it is plain and trimming alone fails.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DecodedImage } from "../src/retrieval/image/types.ts";
import { type Box, contentBox } from "../src/retrieval/regions/layout.ts";
import { photoBox } from "../src/retrieval/regions/photo-box.ts";

type Rgb = readonly [number, number, number];

/** A deterministic pseudo-random stream (tests must not depend on Math.random). */
function stream(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Screen {
  readonly background: Rgb;
  readonly ink: Rgb;
  readonly picture: Box;
  /** Text lines in the column beside the picture, and full-width ones above and below it. */
  readonly besideX: readonly [number, number];
}

/** A 240×520 screen: plain background, lines of 1-px strokes 6 px tall every 10 px, and a noisy photo. */
function screen({ background, ink, picture, besideX }: Screen, seed: number): DecodedImage {
  const [width, height] = [240, 520];
  const random = stream(seed);
  const pixels = Buffer.alloc(width * height * 3);
  const set = (x: number, y: number, [r, g, b]: Rgb) => {
    const at = (y * width + x) * 3;
    [pixels[at], pixels[at + 1], pixels[at + 2]] = [r, g, b];
  };
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) set(x, y, background);
  const inPicture = (x: number, y: number) =>
    x >= picture.x - 4 && x < picture.x + picture.width + 4 && y >= picture.y - 4 && y < picture.y + picture.height + 4;
  for (let top = 8; top + 6 < height; top += 10) {
    for (let x = 8; x < width - 8; x++) {
      const beside = x >= besideX[0] && x < besideX[1];
      const rowBeside = top + 6 > picture.y && top < picture.y + picture.height;
      if ((rowBeside && !beside) || random() > 0.35) continue;
      // A stroke with an anti-aliased neighbour, like rendered text.
      const half: Rgb = [0, 1, 2].map((c) => Math.round((background[c]! + ink[c]!) / 2)) as unknown as Rgb;
      for (let y = top; y < top + 6; y++) {
        if (inPicture(x, y) || inPicture(x + 1, y)) continue;
        set(x, y, ink);
        if (x + 1 < width) set(x + 1, y, half);
      }
    }
  }
  // The photograph: smooth colour gradients with noise, so hardly two neighbours are equal.
  for (let y = picture.y; y < picture.y + picture.height; y++) {
    for (let x = picture.x; x < picture.x + picture.width; x++) {
      const u = (x - picture.x) / picture.width;
      const v = (y - picture.y) / picture.height;
      const n = () => Math.floor(random() * 24) - 12;
      set(x, y, [
        Math.max(0, Math.min(255, 60 + 150 * u + n())),
        Math.max(0, Math.min(255, 200 - 120 * v + n())),
        Math.max(0, Math.min(255, 90 + 80 * u * v + n())),
      ]);
    }
  }
  return { pixels, width, height, sourceWidth: width, sourceHeight: height, format: "png", frames: 1 };
}

function assertNear(actual: Box | null, expected: Box, tolerance: number, what: string): void {
  assert.ok(actual, `${what}: a box`);
  for (const key of ["x", "y", "width", "height"] as const) {
    assert.ok(Math.abs(actual[key] - expected[key]) <= tolerance, `${what}: ${key} ${actual[key]} vs ${expected[key]} (±${tolerance})`);
  }
}

describe("photo box: the picture among dense UI text", () => {
  const cases: [string, Screen][] = [
    [
      "light, picture left, text wrapped beside it",
      { background: [255, 255, 255], ink: [30, 30, 30], picture: { x: 12, y: 170, width: 130, height: 100 }, besideX: [152, 232] },
    ],
    [
      "dark, picture right, text wrapped beside it",
      { background: [11, 20, 26], ink: [233, 237, 239], picture: { x: 100, y: 220, width: 128, height: 90 }, besideX: [8, 92] },
    ],
    [
      "light, picture at 60 % width, text lines above and below only",
      { background: [250, 250, 250], ink: [20, 20, 20], picture: { x: 40, y: 250, width: 144, height: 110 }, besideX: [0, 0] },
    ],
  ];
  for (const [what, layout] of cases) {
    it(`finds it: ${what}`, () => {
      const image = screen(layout, 7);
      assertNear(photoBox(image), layout.picture, 3, "photo box");
      assertNear(contentBox(image), layout.picture, 3, "content box");
    });
  }

  it("finds no photo rectangle in a photograph's own noise, nor in a screen of text only", () => {
    const noise = screen(
      { background: [255, 255, 255], ink: [0, 0, 0], picture: { x: 0, y: 0, width: 240, height: 520 }, besideX: [0, 0] },
      3,
    );
    assert.equal(photoBox(noise), null);
    assert.equal(contentBox(noise), null);
    const textOnly = screen(
      { background: [255, 255, 255], ink: [30, 30, 30], picture: { x: 0, y: 0, width: 0, height: 0 }, besideX: [0, 240] },
      5,
    );
    assert.equal(photoBox(textOnly), null);
  });
});
