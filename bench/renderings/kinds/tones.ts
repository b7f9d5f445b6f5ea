/**
 * Tone and focus: greyscale four ways (luma, channel average, red-filter mix, high contrast) and
 * blur of σ 2–4 four ways (Gaussian, down-and-up resampling, Gaussian + JPEG, motion blur).
 */

import type { Matrix3x3 } from "sharp";
import sharp from "sharp";
import { between } from "../../lib/random.ts";
import { blur, greyscale, type Picture } from "../../repost/edits.ts";
import { posted, type Render, type Rendering, round3 } from "./types.ts";

/** Every output channel the same mix of the input's: a grey picture whatever the weights. */
const mixed = (weights: readonly [number, number, number]) => [weights, weights, weights] as Matrix3x3;

const greys: Rendering[] = [
  {
    id: "grey-a-luma",
    kind: "greyscale",
    split: "fit",
    description: "luma (sharp greyscale)",
    render: async (p, context) => posted((await greyscale(p, context)).picture, {}),
  },
  {
    id: "grey-b-average",
    kind: "greyscale",
    split: "fit",
    description: "mean of R, G, B",
    render: async (p) =>
      posted(
        sharp(p.data)
          .removeAlpha()
          .recomb(mixed([1 / 3, 1 / 3, 1 / 3])),
        {},
      ),
  },
  {
    id: "grey-c-red-filter",
    kind: "greyscale",
    split: "test",
    description: "black-and-white film through a red filter (0.8 R + 0.2 G)",
    render: async (p) =>
      posted(
        sharp(p.data)
          .removeAlpha()
          .recomb(mixed([0.8, 0.2, 0])),
        {},
      ),
  },
  {
    id: "grey-d-high-contrast",
    kind: "greyscale",
    split: "test",
    description: "luma, contrast × 1.3–1.5",
    render: async (p, context) => {
      const contrast = round3(between(context.random, 1.3, 1.5));
      const grey = (await greyscale(p, context)).picture;
      return posted(sharp(grey.data).linear(contrast, 128 * (1 - contrast)), { contrast });
    },
  },
];

const gaussian =
  (low: number, high: number, quality: number): Render =>
  async (p, context) => {
    const sigma = round3(between(context.random, low, high));
    return posted((await blur(sigma)(p, context)).picture, { sigma, quality }, "jpeg", { quality });
  };

/** Shrunk by 1/(2σ) and enlarged back: the blur of a thumbnail someone re-uploaded. */
const downUp: Render = async (p: Picture, { random }) => {
  const sigma = round3(between(random, 2, 4));
  const small = await sharp(p.data)
    .resize(Math.max(4, Math.round(p.width / (2 * sigma))), Math.max(4, Math.round(p.height / (2 * sigma))))
    .png()
    .toBuffer();
  return posted(sharp(small).resize(p.width, p.height, { kernel: "cubic" }), { sigma });
};

/** A straight smear along a random direction (horizontal, vertical or diagonal), σ of the box 2–4. */
const motion: Render = async (p, { random }) => {
  const length = 2 * Math.round(between(random, 3.5, 6.9)) + 1; // 7–15 px: σ = L/√12 ≈ 2.0–4.0
  const direction = Math.floor(random() * 4);
  const centre = (length - 1) / 2;
  const kernel = Array.from({ length: length * length }, (_, i) => {
    const [x, y] = [i % length, Math.floor(i / length)];
    return [y === centre, x === centre, x === y, x === length - 1 - y][direction] ? 1 : 0;
  });
  return posted(sharp(p.data).convolve({ width: length, height: length, kernel }), {
    length,
    direction,
    sigma: round3(length / Math.sqrt(12)),
  });
};

const blurs: Rendering[] = [
  { id: "blur-a-gaussian-2-3", kind: "blur", split: "fit", description: "Gaussian σ 2–3", render: gaussian(2, 3, 90) },
  { id: "blur-b-down-up", kind: "blur", split: "fit", description: "shrunk × 1/(2σ), σ 2–4, and enlarged back", render: downUp },
  { id: "blur-c-gaussian-3-4-q60", kind: "blur", split: "test", description: "Gaussian σ 3–4, q60", render: gaussian(3, 4, 60) },
  { id: "blur-d-motion", kind: "blur", split: "test", description: "motion blur, 7–15 px in one of four directions", render: motion },
];

export const TONE_RENDERINGS: readonly Rendering[] = [...greys, ...blurs];
