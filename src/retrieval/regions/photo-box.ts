/**
 * The photo-like rectangle of a screenshot whose chrome is not plain: a chat whose bubbles stack
 * right above and below the picture, an article whose text wraps beside it. Trimming plain lines
 * (layout.ts) cannot cut there, since every line crossing the picture also crosses text or a bubble.
 *
 * What tells the picture from the UI is colour spread. An app draws with a handful of colours
 * (background, bubbles, ink, and the anti-aliased blends between ink and background), and it uses
 * them from the top of the screen to the bottom; a photograph's colours are many and confined to
 * the rows the picture spans. So: a colour (quantised) that occurs from near the top to near the
 * bottom, or sits by flat fills, is a UI colour; a pixel of any other colour, or away from flat
 * fills, is photo-like; and the picture is the largest rectangle dense in photo-like pixels, with
 * sparse ones around it. Pure arithmetic over every pixel of the working copy (sampling every other
 * pixel lost most of the chat and reader screenshots: text strokes and the flat gaps beside them
 * are a pixel or two wide at 236×512), a few passes plus a search on a coarse grid.
 */
import type { DecodedImage } from "../image/types.ts";
import type { Box } from "./layout.ts";

/** Bits kept per channel: 16 levels, coarse enough that JPEG noise on a flat UI colour stays in one bin. */
const BITS = 4;
/**
 * A colour is the UI's when it occurs (at least ROW_PIXELS times) in this share of the rows: the
 * background and bubbles run the height of the screen and text lines are everywhere, while a
 * picture shown beside or between them spans well under half of it. A picture taller than that
 * (a story, an edge-to-edge feed post) has plain margins that layout.ts trims anyway.
 */
const UI_ROW_SHARE = 0.55;
const ROW_PIXELS = 2;
/**
 * A pixel of a UI colour is still photo-like when no flat pixel lies within NEAR pixels of it: UI
 * ink and its anti-aliasing sit on a flat background, a grey photograph's greys (the colours of
 * anti-aliased black-on-white text) do not.
 */
const NEAR = 2;
/**
 * A colour is also the UI's when at least this share of its pixels lie near a flat pixel (see
 * NEAR): a bubble or a header bar used over only part of the screen, and the ink on it.
 */
const UI_NEAR_FLAT_SHARE = 0.6;
/** Side of the grid cells the rectangle is searched on. */
const CELL = 4;
/** A cell counts towards the rectangle by how far its photo-like share is above this (max-sum search). */
const CELL_THRESHOLD = 0.5;
/** A line at the rectangle's edge belongs to the picture when this share of it, across the rectangle, is photo-like. */
const EDGE_SHARE = 0.5;
/**
 * The rectangle is a picture only when it is this dense in photo-like pixels, its surroundings
 * (a band around it, BAND_SHARE of its side) this sparse, and the whole outside mostly UI: a
 * photograph's own bright patch on a plain part of it rarely has UI around it on all sides.
 */
const MIN_INSIDE = 0.8;
const MAX_AROUND = 0.3;
const MAX_OUTSIDE = 0.2;
const BAND_SHARE = 0.1;
/** Smallest picture worth a view: sides of 24 pixels and this share of the image's area. */
const MIN_SIDE = 24;
const MIN_AREA_SHARE = 0.04;

/**
 * Only a pixel near a flat one can be UI (photoMask), and a box is a view only when it leaves at
 * least a tenth of the image outside it (layout.ts, MAX_AREA_SHARE), at most MAX_OUTSIDE of that
 * photo-like. So with fewer pixels near flat ones than this share of the image no box can be used:
 * an ordinary photograph stops here, after one pass, instead of paying for the whole search.
 */
const MIN_NEAR_FLAT_SHARE = (1 - MAX_OUTSIDE) * 0.1;

/** 1 where a pixel is photo-like (not a UI colour next to a flat one), else 0. */
export function photoMask(image: DecodedImage, nearFlat = nearFlatPixels(image)): Uint8Array {
  const { pixels, width, height } = image;
  const shift = 8 - BITS;
  const bins = 1 << (3 * BITS);
  const bin = new Uint16Array(width * height);
  // The first and last row in which each colour occurs ROW_PIXELS times (a per-row count, reset
  // lazily by row stamp), and how many of its pixels lie near a flat one.
  const first = new Int32Array(bins).fill(-1);
  const last = new Int32Array(bins);
  const count = new Uint32Array(bins);
  const stamp = new Int32Array(bins).fill(-1);
  const total = new Uint32Array(bins);
  const near = new Uint32Array(bins);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i++) {
      const at = i * 3;
      const b = ((pixels[at]! >> shift) << (2 * BITS)) | ((pixels[at + 1]! >> shift) << BITS) | (pixels[at + 2]! >> shift);
      bin[i] = b;
      total[b]!++;
      near[b]! += nearFlat[i]!;
      if (stamp[b] !== y) {
        stamp[b] = y;
        count[b] = 0;
      }
      if (++count[b]! === ROW_PIXELS) {
        if (first[b]! < 0) first[b] = y;
        last[b] = y;
      }
    }
  }
  const ui = new Uint8Array(bins);
  for (let b = 0; b < bins; b++) {
    const spans = first[b]! >= 0 && last[b]! - first[b]! >= UI_ROW_SHARE * height;
    ui[b] = spans || near[b]! >= UI_NEAR_FLAT_SHARE * total[b]! ? 1 : 0;
  }
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = ui[bin[i]!]! && nearFlat[i]! ? 0 : 1;
  return mask;
}

/** 1 where a flat pixel (exactly equal to its right and lower neighbours) lies within NEAR pixels. */
function nearFlatPixels(image: DecodedImage): Uint8Array {
  const { pixels, width, height } = image;
  const flat = new Uint8Array(width * height);
  for (let y = 0; y + 1 < height; y++) {
    for (let x = 0, i = y * width, at = i * 3; x + 1 < width; x++, i++, at += 3) {
      const below = at + width * 3;
      flat[i] =
        pixels[at] === pixels[at + 3] &&
        pixels[at + 1] === pixels[at + 4] &&
        pixels[at + 2] === pixels[at + 5] &&
        pixels[at] === pixels[below] &&
        pixels[at + 1] === pixels[below + 1] &&
        pixels[at + 2] === pixels[below + 2]
          ? 1
          : 0;
    }
  }
  // Dilated by NEAR: rows first, then columns (a square window as two passes of running counts).
  const across = dilate(flat, width, height, 1, width);
  return dilate(across, height, width, width, 1);
}

/** `mask` dilated by NEAR along lines of `length` pixels `step` apart, `lines` of them `lineStep` apart. */
function dilate(mask: Uint8Array, length: number, lines: number, step: number, lineStep: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let line = 0; line < lines; line++) {
    const base = line * lineStep;
    let inWindow = 0;
    for (let k = 0; k < Math.min(NEAR, length); k++) inWindow += mask[base + k * step]!;
    for (let k = 0; k < length; k++) {
      if (k + NEAR < length) inWindow += mask[base + (k + NEAR) * step]!;
      if (k - NEAR - 1 >= 0) inWindow -= mask[base + (k - NEAR - 1) * step]!;
      out[base + k * step] = inWindow > 0 ? 1 : 0;
    }
  }
  return out;
}

/** Photo-like pixels (a photoMask's set pixels) in any box, from the mask's summed-area table. */
export class PhotoDensity {
  private readonly sums: Uint32Array;
  private readonly stride: number;
  constructor(
    mask: Uint8Array,
    readonly width: number,
    readonly height: number,
  ) {
    this.stride = width + 1;
    this.sums = new Uint32Array((width + 1) * (height + 1));
    for (let y = 0; y < height; y++) {
      let row = 0;
      for (let x = 0; x < width; x++) {
        row += mask[y * width + x]!;
        this.sums[(y + 1) * this.stride + x + 1] = this.sums[y * this.stride + x + 1]! + row;
      }
    }
  }
  /** Photo-like pixels in [x0, x1) × [y0, y1), clipped to the image. */
  count(x0: number, y0: number, x1: number, y1: number): number {
    const [a, b] = [Math.max(0, x0), Math.max(0, y0)];
    const [c, d] = [Math.min(this.width, x1), Math.min(this.height, y1)];
    if (c <= a || d <= b) return 0;
    const s = this.sums;
    const w = this.stride;
    return s[d * w + c]! - s[b * w + c]! - s[d * w + a]! + s[b * w + a]!;
  }
  share(x0: number, y0: number, x1: number, y1: number): number {
    const area = (Math.min(this.width, x1) - Math.max(0, x0)) * (Math.min(this.height, y1) - Math.max(0, y0));
    return area > 0 ? this.count(x0, y0, x1, y1) / area : 0;
  }
  /** Photo-like pixels in `box`. */
  countIn(box: Box): number {
    return this.count(box.x, box.y, box.x + box.width, box.y + box.height);
  }
}

/**
 * The picture's rectangle among non-plain UI, or null when the image shows no photo-like
 * rectangle standing out from UI colours (an ordinary photograph, a screenshot of text only).
 */
export function photoBox(image: DecodedImage): Box | null {
  const density = photoDensity(image);
  return density && photoBoxOf(density);
}

/** The image's photo density, or null when too few pixels lie near flat ones for any box to stand out (MIN_NEAR_FLAT_SHARE). */
export function photoDensity(image: DecodedImage): PhotoDensity | null {
  const nearFlat = nearFlatPixels(image);
  let near = 0;
  for (let i = 0; i < nearFlat.length; i++) near += nearFlat[i]!;
  if (near < MIN_NEAR_FLAT_SHARE * nearFlat.length) return null;
  return new PhotoDensity(photoMask(image, nearFlat), image.width, image.height);
}

/** photoBox from an image's photo density (which the caller keeps to judge other boxes with). */
export function photoBoxOf(density: PhotoDensity): Box | null {
  if (density.width < 2 * MIN_SIDE || density.height < 2 * MIN_SIDE) return null;
  const coarse = maxSumRectangle(density);
  if (!coarse) return null;
  const box = refine(density, coarse);
  return accepted(density, box) ? box : null;
}

/**
 * The grid rectangle of largest total (photo-like share − CELL_THRESHOLD) over its cells: Kadane's
 * maximum subarray along one axis for every pair of lines on the other (O(columns² × rows) on a
 * grid of ~60 × 128 cells at 236×512).
 */
function maxSumRectangle(density: PhotoDensity): Box | null {
  const columns = Math.ceil(density.width / CELL);
  const rows = Math.ceil(density.height / CELL);
  const weight = new Float32Array(columns * rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c++) {
      weight[r * columns + c] = density.share(c * CELL, r * CELL, (c + 1) * CELL, (r + 1) * CELL) - CELL_THRESHOLD;
    }
  }
  let best = 0;
  let found: [number, number, number, number] | undefined;
  const strip = new Float32Array(rows);
  for (let left = 0; left < columns; left++) {
    strip.fill(0);
    for (let right = left; right < columns; right++) {
      for (let r = 0; r < rows; r++) strip[r]! += weight[r * columns + right]!;
      let sum = 0;
      let start = 0;
      for (let r = 0; r < rows; r++) {
        if (sum <= 0) {
          sum = 0;
          start = r;
        }
        sum += strip[r]!;
        if (sum > best) {
          best = sum;
          found = [left, start, right + 1, r + 1];
        }
      }
    }
  }
  if (!found) return null;
  const [c0, r0, c1, r1] = found;
  return {
    x: c0 * CELL,
    y: r0 * CELL,
    width: Math.min(density.width, c1 * CELL) - c0 * CELL,
    height: Math.min(density.height, r1 * CELL) - r0 * CELL,
  };
}

/**
 * The grid rectangle's edges moved to the pixel: each edge goes to the outermost line within a
 * cell of it whose share of photo-like pixels across the rectangle is at least EDGE_SHARE.
 */
function refine(density: PhotoDensity, box: Box): Box {
  let [x0, y0, x1, y1] = [box.x, box.y, box.x + box.width, box.y + box.height];
  for (let pass = 0; pass < 2; pass++) {
    const row = (y: number) => density.share(x0, y, x1, y + 1) >= EDGE_SHARE;
    const column = (x: number) => density.share(x, y0, x + 1, y1) >= EDGE_SHARE;
    y0 = outermost(y0, -1, row, density.height);
    y1 = outermost(y1 - 1, 1, row, density.height) + 1;
    x0 = outermost(x0, -1, column, density.width);
    x1 = outermost(x1 - 1, 1, column, density.width) + 1;
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** From `edge`, the farthest line within a cell outwards (`step`) that is photo-like, or the first inwards. */
function outermost(edge: number, step: -1 | 1, photoLike: (line: number) => boolean, length: number): number {
  for (let d = CELL; d > 0; d--) {
    const line = edge + step * d;
    if (line >= 0 && line < length && photoLike(line)) return line;
  }
  for (let d = 0; d < CELL; d++) {
    const line = edge - step * d;
    if (photoLike(line)) return line;
  }
  return edge;
}

/** Dense inside, sparse in a band around it and in the rest of the image, and big enough. */
function accepted(density: PhotoDensity, box: Box): boolean {
  const { x, y, width, height } = box;
  if (width < MIN_SIDE || height < MIN_SIDE || width * height < MIN_AREA_SHARE * density.width * density.height) return false;
  if (density.share(x, y, x + width, y + height) < MIN_INSIDE) return false;
  const bx = Math.max(2, Math.round(BAND_SHARE * width));
  const by = Math.max(2, Math.round(BAND_SHARE * height));
  const [ox0, oy0] = [Math.max(0, x - bx), Math.max(0, y - by)];
  const [ox1, oy1] = [Math.min(density.width, x + width + bx), Math.min(density.height, y + height + by)];
  const inside = density.count(x, y, x + width, y + height);
  const bandArea = (ox1 - ox0) * (oy1 - oy0) - width * height;
  const band = density.count(ox0, oy0, ox1, oy1) - inside;
  if (bandArea > 0 && band > MAX_AROUND * bandArea) return false;
  const outsideArea = density.width * density.height - width * height;
  const outside = density.count(0, 0, density.width, density.height) - inside;
  return outsideArea > 0 && outside <= MAX_OUTSIDE * outsideArea;
}
