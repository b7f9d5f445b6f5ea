/**
 * The single edits reposts go through, each a function of (image, seeded randomness) → image plus
 * the parameters it actually used. Intermediate images are lossless PNG so that a chain of edits
 * loses quality only where a step says so (a JPEG step, or the final encode).
 */

import type { Sharp } from "sharp";
import sharp from "sharp";
import { between, pick } from "../lib/random.ts";
import { fittedSize, HANDLES, MEME_CAPTIONS, sticker, svg, text } from "./overlays.ts";

export interface Picture {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

export type Params = Record<string, string | number | boolean>;

export interface EditContext {
  readonly random: () => number;
  /** Other images for collages (already chosen and recorded by the caller). */
  readonly fillers: readonly Buffer[];
}

export type Edit = (picture: Picture, context: EditContext) => Promise<{ picture: Picture; params: Params }>;

export async function pictureOf(input: Buffer | Sharp): Promise<Picture> {
  const { data, info } = await (Buffer.isBuffer(input) ? sharp(input) : input)
    .png({ compressionLevel: 1 })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

const image = (p: Picture) => sharp(p.data);

export const jpeg =
  (quality: number): Edit =>
  async (p) => ({ picture: await pictureOf(sharp(await image(p).jpeg({ quality }).toBuffer())), params: { quality } });

export const scale =
  (factor: number): Edit =>
  async (p) => ({
    picture: await pictureOf(image(p).resize(Math.max(8, Math.round(p.width * factor)), Math.max(8, Math.round(p.height * factor)))),
    params: { factor },
  });

function crop(p: Picture, fraction: number, fx: number, fy: number) {
  const width = Math.round(p.width * fraction);
  const height = Math.round(p.height * fraction);
  const left = Math.round((p.width - width) * fx);
  const top = Math.round((p.height - height) * fy);
  return { width, height, left, top };
}

/** Keeps `fraction` of each side, centred. */
export const centralCrop =
  (fraction: number): Edit =>
  async (p) => ({ picture: await pictureOf(image(p).extract(crop(p, fraction, 0.5, 0.5))), params: { fraction } });

/** Keeps `fraction` of each side, pushed towards a random corner (never centred). */
export const offCentreCrop =
  (fraction: number): Edit =>
  async (p, { random }) => {
    const fx = random() < 0.5 ? between(random, 0, 0.15) : between(random, 0.85, 1);
    const fy = random() < 0.5 ? between(random, 0, 0.15) : between(random, 0.85, 1);
    const box = crop(p, fraction, fx, fy);
    return { picture: await pictureOf(image(p).extract(box)), params: { fraction, left: box.left, top: box.top } };
  };

export const flip: Edit = async (p) => ({ picture: await pictureOf(image(p).flop()), params: {} });

export const greyscale: Edit = async (p) => ({ picture: await pictureOf(image(p).greyscale().toColourspace("srgb")), params: {} });

export const blur =
  (sigma: number): Edit =>
  async (p) => ({ picture: await pictureOf(image(p).blur(sigma)), params: { sigma } });

/** Brightness × b (HSV value) and contrast c around mid-grey; directions chosen at random. */
export const brightnessContrast =
  (strength: number): Edit =>
  async (p, { random }) => {
    const brightness = random() < 0.5 ? 1 + strength : 1 / (1 + strength);
    const contrast = random() < 0.5 ? 1 + strength : 1 / (1 + strength);
    const picture = await pictureOf(
      image(p)
        .modulate({ brightness })
        .linear(contrast, 128 * (1 - contrast)),
    );
    return { picture, params: { brightness: round(brightness), contrast: round(contrast) } };
  };

/** Rotation by ±degrees on black, cropped back to the original size (black corners remain). */
export const rotate =
  (degrees: number): Edit =>
  async (p, { random }) => {
    const angle = random() < 0.5 ? degrees : -degrees;
    const rotated = await pictureOf(image(p).rotate(angle, { background: "#000000" }));
    const box = {
      left: Math.round((rotated.width - p.width) / 2),
      top: Math.round((rotated.height - p.height) / 2),
      width: p.width,
      height: p.height,
    };
    return { picture: await pictureOf(sharp(rotated.data).extract(box)), params: { angle } };
  };

/** White bars above and below with a black two-line caption (the classic meme layout). */
export const memeCaption: Edit = async (p, { random }) => {
  const [top, bottom] = pick(MEME_CAPTIONS, random);
  const bar = Math.round(p.height * between(random, 0.15, 0.22));
  const height = p.height + 2 * bar;
  const size = (line: string) => fittedSize(line, p.width, bar * 0.6);
  const overlay = svg(
    p.width,
    height,
    `<rect width="${p.width}" height="${bar}" fill="#fff"/><rect y="${height - bar}" width="${p.width}" height="${bar}" fill="#fff"/>` +
      text(p.width / 2, bar / 2, top, size(top), { anchor: "middle", bold: true }) +
      text(p.width / 2, height - bar / 2, bottom, size(bottom), { anchor: "middle", bold: true }),
  );
  const canvas = sharp({ create: { width: p.width, height, channels: 3, background: "#ffffff" } });
  const picture = await pictureOf(canvas.composite([{ input: overlay }, { input: p.data, top: bar, left: 0 }]));
  return { picture, params: { top, bottom, barFraction: round(bar / p.height) } };
};

/** The image shown inside a phone screenshot: dark tall canvas, status bar, app chrome, caption. */
export const phoneScreenshot: Edit = async (p, { random }) => {
  const width = 720;
  const height = 1560;
  const shown = { width: width, height: Math.min(Math.round((width * p.height) / p.width), 1000) };
  const top = Math.round(between(random, 180, 260));
  const handle = pick(HANDLES, random);
  const likes = Math.floor(between(random, 12, 9000));
  const chrome = svg(
    width,
    height,
    text(32, 36, "9:41", 28, { fill: "#fff", bold: true }) +
      text(width - 32, 36, "5G  87%", 26, { fill: "#fff", anchor: "end" }) +
      text(32, top - 60, `← ${handle}`, 30, { fill: "#eee", bold: true }) +
      text(32, top + shown.height + 50, `♥ ${likes.toLocaleString("en-US")} likes`, 28, { fill: "#eee", bold: true }) +
      text(32, top + shown.height + 100, `${handle} look at this one`, 26, { fill: "#ccc" }) +
      text(32, top + shown.height + 150, "View all 48 comments", 24, { fill: "#888" }),
  );
  const resized = await image(p).resize(shown.width, shown.height, { fit: "cover" }).toBuffer();
  const canvas = sharp({ create: { width, height, channels: 3, background: "#121212" } });
  const picture = await pictureOf(canvas.composite([{ input: chrome }, { input: resized, top, left: 0 }]));
  return { picture, params: { canvas: `${width}x${height}`, shownHeight: shown.height, top, handle } };
};

/** A coloured border and a semi-transparent handle in the corner. */
export const borderWatermark: Edit = async (p, { random }) => {
  const border = Math.round(Math.min(p.width, p.height) * between(random, 0.04, 0.08));
  const colour = pick(["#ffffff", "#000000", "#1e3a8a", "#7f1d1d"], random);
  const handle = pick(HANDLES, random);
  const width = p.width + 2 * border;
  const height = p.height + 2 * border;
  const size = Math.max(12, Math.round(p.width * 0.05));
  const mark = svg(
    width,
    height,
    text(width - border - size * 0.5, height - border - size, handle, size, { fill: "#fff", anchor: "end", bold: true, opacity: 0.6 }),
  );
  const picture = await pictureOf(
    sharp(p.data)
      .extend({ top: border, bottom: border, left: border, right: border, background: colour })
      .composite([{ input: mark }]),
  );
  return { picture, params: { border, colour, handle } };
};

/** Sticker shapes pasted over about a quarter of the picture. */
export const stickers: Edit = async (p, { random }) => {
  const count = 3 + Math.floor(random() * 3);
  const side = Math.min(p.width, p.height);
  const shapes: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = side * between(random, 0.1, 0.17);
    shapes.push(sticker(Math.floor(random() * 3), between(random, r, p.width - r), between(random, r, p.height - r), r));
  }
  const picture = await pictureOf(image(p).composite([{ input: svg(p.width, p.height, shapes.join("")) }]));
  return { picture, params: { count } };
};

/** A 2×2 grid: the picture in a random cell, the fillers in the others, each cell the picture's size / 2. */
export const collage: Edit = async (p, { random, fillers }) => {
  const cell = { width: Math.round(p.width / 2), height: Math.round(p.height / 2) };
  const position = Math.floor(random() * 4);
  const tiles = [...fillers.slice(0, 3)];
  const cells = await Promise.all(
    [0, 1, 2, 3].map(async (i) => {
      const source = i === position ? p.data : tiles.shift()!;
      return sharp(source)
        .resize(cell.width, cell.height, { fit: i === position ? "fill" : "cover" })
        .toBuffer();
    }),
  );
  const canvas = sharp({ create: { width: cell.width * 2, height: cell.height * 2, channels: 3, background: "#000" } });
  const picture = await pictureOf(
    canvas.composite(cells.map((input, i) => ({ input, left: (i % 2) * cell.width, top: Math.floor(i / 2) * cell.height }))),
  );
  return { picture, params: { position } };
};

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
