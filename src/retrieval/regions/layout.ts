/**
 * Where the picture is inside a repost: the content box after trimming near-plain bars (the dark
 * or light chrome of a screenshot, caption bars, borders) and the tiles of a collage split on plain
 * gutters. Pure arithmetic over the decoded working copy; each box found becomes a query view of
 * its own, so the picture that fills a third of a screenshot is searched for by itself.
 */
import type { DecodedImage } from "../image/types.ts";
import { PARTS_INPUT_SIZE } from "./parts.ts";
import { photoBoxOf, photoDensity } from "./photo-box.ts";

/** A rectangle in pixels of the working copy. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * A line (row or column) is plain when at least this share of its pixels are within
 * PLAIN_TOLERANCE of its median colour. Not 100 %: UI text, a watermark or a thin icon crossing a
 * bar must not make it content; a photo row is rarely 85 % one colour (a clear sky can be, and is
 * trimmed like a bar: the whole image stays a view of its own anyway).
 */
const PLAIN_SHARE = 0.85;
const PLAIN_TOLERANCE = 18;
/** A box smaller than this share of the image's side is not a picture worth searching for. */
const MIN_SIDE_SHARE = 0.2;
/** A tile narrower than this share of its box is a sliver between two gutters, not a picture. */
const MIN_TILE_SHARE = 0.15;
/** Runs shorter than this share of the longest run are text or icons, not pictures. */
const MAIN_RUN_SHARE = 0.3;
/** A trimmed box that keeps more than this share of the area adds nothing to the whole image. */
const MAX_AREA_SHARE = 0.9;
/**
 * The photo rectangle replaces a trimmed box that holds it when the rest of that box is at least
 * this share of it (less is the same box, the trim's edges being exact at plain margins) and at
 * most REST_MAX_SHARE photo-like (more means the photo rectangle missed part of the picture).
 */
const REST_MIN_SHARE = 0.15;
const REST_MAX_SHARE = 0.25;
/** How far outside a photo rectangle's edge its margin may start (see framed), in pixels of the working copy. */
const FRAME_GAP = 3;

export const wholeImage = (image: Pick<DecodedImage, "width" | "height">): Box => ({
  x: 0,
  y: 0,
  width: image.width,
  height: image.height,
});

type Colour = readonly [number, number, number];

/**
 * For each line across `box` along `axis` ("rows": each row of the box, "columns": each column),
 * whether it is plain, and with `colour`, plain in that colour.
 */
export function plainLines(image: DecodedImage, box: Box, axis: "rows" | "columns", colour?: Colour): boolean[] {
  const lines = axis === "rows" ? box.height : box.width;
  const length = axis === "rows" ? box.width : box.height;
  // Byte offsets: from one line to the next, and from one pixel of a line to the next.
  const lineStep = axis === "rows" ? image.width * 3 : 3;
  const pixelStep = axis === "rows" ? 3 : image.width * 3;
  const first = (box.y * image.width + box.x) * 3;
  const histograms = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  const median = [0, 0, 0];
  const { pixels } = image;
  const result: boolean[] = [];
  const allowedMisses = length - PLAIN_SHARE * length;
  for (let line = 0; line < lines; line++) {
    const start = first + line * lineStep;
    const end = start + length * pixelStep;
    // Green alone first: a plain line is plain in each channel, so one that is not plain in green
    // (most lines of a photograph) is settled after one histogram instead of three.
    const green = plainMedian(pixels, start, end, pixelStep, 1, length, allowedMisses, histograms[1]!, colour?.[1]);
    if (green === undefined) {
      result.push(false);
      continue;
    }
    histograms[0]!.fill(0);
    histograms[2]!.fill(0);
    for (let at = start; at < end; at += pixelStep) {
      histograms[0]![pixels[at]!]!++;
      histograms[2]![pixels[at + 2]!]!++;
    }
    median[0] = medianOf(histograms[0]!, length);
    median[1] = green;
    median[2] = medianOf(histograms[2]!, length);
    const sameColour = !colour || median.every((value, c) => Math.abs(value - colour[c]!) <= PLAIN_TOLERANCE);
    // Plain when at least PLAIN_SHARE of the pixels are close to the median: a line stops being
    // looked at once too many are not (most lines of a photograph), and one of another colour is
    // not looked at. Every query runs this over its rows and columns several times.
    let misses = 0;
    for (let at = start; sameColour && at < end && misses <= allowedMisses; at += pixelStep) {
      if (
        Math.abs(pixels[at]! - median[0]!) > PLAIN_TOLERANCE ||
        Math.abs(pixels[at + 1]! - median[1]!) > PLAIN_TOLERANCE ||
        Math.abs(pixels[at + 2]! - median[2]!) > PLAIN_TOLERANCE
      ) {
        misses++;
      }
    }
    result.push(sameColour && misses <= allowedMisses);
  }
  return result;
}

/**
 * The median of the line's channel `c` (bytes start, start + step, … < end) when that channel is
 * plain: at least PLAIN_SHARE of its `length` values within PLAIN_TOLERANCE of the median, and the
 * median within it of `target` when given; else undefined. `histogram` is scratch space.
 */
function plainMedian(
  pixels: Uint8Array,
  start: number,
  end: number,
  step: number,
  c: number,
  length: number,
  allowedMisses: number,
  histogram: Uint32Array,
  target?: number,
): number | undefined {
  histogram.fill(0);
  for (let at = start + c; at < end; at += step) histogram[pixels[at]!]!++;
  const median = medianOf(histogram, length);
  if (target !== undefined && Math.abs(median - target) > PLAIN_TOLERANCE) return undefined;
  let misses = 0;
  for (let at = start + c; at < end && misses <= allowedMisses; at += step) {
    if (Math.abs(pixels[at]! - median) > PLAIN_TOLERANCE) misses++;
  }
  return misses <= allowedMisses ? median : undefined;
}

/** The median colour of the image's outermost rows and columns: a frame's colour, if it has one. */
export function edgeColour(image: DecodedImage): Colour {
  const channels = [[], [], []] as number[][];
  const take = (x: number, y: number) => {
    for (let c = 0; c < 3; c++) channels[c]!.push(image.pixels[(y * image.width + x) * 3 + c]!);
  };
  for (let x = 0; x < image.width; x++) {
    take(x, 0);
    take(x, image.height - 1);
  }
  for (let y = 0; y < image.height; y++) {
    take(0, y);
    take(image.width - 1, y);
  }
  return channels.map((values) => {
    const histogram = new Uint32Array(256);
    for (const v of values) histogram[v]!++;
    return medianOf(histogram, values.length);
  }) as unknown as Colour;
}

/** Runs of non-plain lines as [start, end) pairs. */
function contentRuns(plain: readonly boolean[]): [number, number][] {
  const runs: [number, number][] = [];
  let start = -1;
  plain.forEach((isPlain, i) => {
    if (!isPlain && start < 0) start = i;
    if (isPlain && start >= 0) {
      runs.push([start, i]);
      start = -1;
    }
  });
  if (start >= 0) runs.push([start, plain.length]);
  return runs;
}

/**
 * From the first to the last substantial run (a picture or a collage's tiles), leaving out the small
 * ones (lines of UI text, captions, icons) when they lie outside the substantial ones.
 */
function mainSpan(runs: readonly [number, number][]): [number, number] | undefined {
  const longest = Math.max(0, ...runs.map(([a, b]) => b - a));
  const substantial = runs.filter(([a, b]) => b - a >= MAIN_RUN_SHARE * longest);
  return substantial.length > 0 ? [substantial[0]![0], substantial.at(-1)![1]] : undefined;
}

/**
 * The picture inside its frame: the box trimmed of plain lines (trimmedBox), or, where the chrome
 * around the picture is not plain (bubbles and text packed around it, text wrapped beside it), the
 * photo-like rectangle among UI colours (photo-box.ts). Null when nothing is trimmed worth a view of
 * its own (the image is its own content) or the content is too small to be a picture.
 */
export function contentBox(image: DecodedImage): Box | null {
  const trimmed = trimmedBox(image);
  return photoBetter(image, trimmed) ?? (acceptable(image, trimmed) ? trimmed : null);
}

/**
 * The photo-like rectangle, when it is a usable view and should replace the trimmed box: the trim
 * found nothing useful (no box, or almost the whole image), or its box holds the photo rectangle
 * plus chrome that is mostly UI (REST_MAX_SHARE photo-like at most). When the rest of the trimmed box is photo-like the
 * photo rectangle is only a part of the picture (its sky, say, drawn in UI colours), and the trim,
 * exact at plain margins, is kept.
 */
function photoBetter(image: DecodedImage, trimmed: Box): Box | null {
  const density = photoDensity(image);
  const photo = density && photoBoxOf(density);
  if (!density || !photo || !acceptable(image, photo) || !framed(image, photo)) return null;
  if (!acceptable(image, trimmed)) return photo;
  const overlap = intersection(photo, trimmed);
  const restArea = trimmed.width * trimmed.height - (overlap ? overlap.width * overlap.height : 0);
  if (restArea < REST_MIN_SHARE * trimmed.width * trimmed.height) return null;
  const rest = density.countIn(trimmed) - (overlap ? density.countIn(overlap) : 0);
  return rest <= REST_MAX_SHARE * restArea ? photo : null;
}

/**
 * Whether a plain line runs just outside each edge of `box` that is not the image's own edge
 * (within FRAME_GAP pixels, along the box's span): an app sets a picture off from what is around it
 * by a margin or a bubble's padding, while a part of a photograph merely continues into the rest of it.
 */
function framed(image: DecodedImage, box: Box): boolean {
  const { x, y, width, height } = box;
  const sides: [Box, "rows" | "columns", boolean][] = [
    [{ x, y: y - FRAME_GAP, width, height: FRAME_GAP }, "rows", y >= FRAME_GAP],
    [{ x, y: y + height, width, height: FRAME_GAP }, "rows", y + height + FRAME_GAP <= image.height],
    [{ x: x - FRAME_GAP, y, width: FRAME_GAP, height }, "columns", x >= FRAME_GAP],
    [{ x: x + width, y, width: FRAME_GAP, height }, "columns", x + width + FRAME_GAP <= image.width],
  ];
  return sides.every(([band, axis, inside]) => !inside || plainLines(image, band, axis).some(Boolean));
}

/** Not too small to be a picture, nor almost the whole image (which is a view already). */
function acceptable(image: DecodedImage, box: Box): boolean {
  const tooSmall = box.width < MIN_SIDE_SHARE * image.width && box.height < MIN_SIDE_SHARE * image.height;
  const almostAll = box.width * box.height > MAX_AREA_SHARE * image.width * image.height;
  return !(tooSmall || almostAll || box.width < 8 || box.height < 8);
}

function intersection(a: Box, b: Box): Box | null {
  const [x0, y0] = [Math.max(a.x, b.x), Math.max(a.y, b.y)];
  const [x1, y1] = [Math.min(a.x + a.width, b.x + b.width), Math.min(a.y + a.height, b.y + b.height)];
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, width: x1 - x0, height: y1 - y0 } : null;
}

/**
 * The span of content rows (lines not plain in the frame's colour), then within it the span of
 * content columns, then the rows again within those columns (a side bar can hide a frame row); the
 * whole image when no line is content.
 */
function trimmedBox(image: DecodedImage): Box {
  let box = wholeImage(image);
  const frame = edgeColour(image);
  for (const axis of ["rows", "columns", "rows"] as const) {
    const run = mainSpan(contentRuns(plainLines(image, box, axis, frame)));
    if (!run) return wholeImage(image);
    box = axis === "rows" ? { ...box, y: box.y + run[0], height: run[1] - run[0] } : { ...box, x: box.x + run[0], width: run[1] - run[0] };
  }
  return box;
}

/**
 * A collage's tiles: `box` split on full-length plain gutters, first into rows of tiles, then each
 * row into columns (outer gutters trimmed). Only splits into 2–4 parts per axis count; [] when
 * `box` is not split.
 */
export function gutterTiles(image: DecodedImage, box: Box): Box[] {
  const tiles: Box[] = [];
  for (const [y0, y1] of bands(plainLines(image, box, "rows"), box.height)) {
    const band: Box = { x: box.x, y: box.y + y0, width: box.width, height: y1 - y0 };
    for (const [x0, x1] of bands(plainLines(image, band, "columns"), box.width)) {
      tiles.push({ x: box.x + x0, y: band.y, width: x1 - x0, height: band.height });
    }
  }
  return tiles.length > 1 ? tiles : [];
}

/**
 * The parts one axis splits into: its content runs when there are 2–4 of at least MIN_TILE_SHARE
 * of the length each, otherwise the one span from the first content line to the last.
 */
function bands(plain: readonly boolean[], length: number): [number, number][] {
  const runs = contentRuns(plain);
  const long = runs.filter(([a, b]) => b - a >= MIN_TILE_SHARE * length);
  if (long.length >= 2 && long.length <= 4) return long;
  return runs.length > 0 ? [[runs[0]![0], runs.at(-1)![1]]] : [[0, length]];
}

/**
 * The largest working copy decoded for region views (long side, px). The picture inside a phone
 * screenshot fills a third of its height: in the 512-px working copy it is ~150 px across, which
 * the model would see enlarged three times; from a 1,536-px copy it has the ~450 px of the parts
 * input. Bigger costs decode time for little: the model sees at most PARTS_INPUT_SIZE. Cutting the
 * views from such a copy, the renderings' screenshots found 45 → 47 of 53 on the fit split and
 * 33 → 38 of 45 on the test split, collages 40 → 42 and 30 → 30, false reposts unchanged (1/563,
 * 3/524; an offline probe re-weighing the strong kinds and the negatives, rules fitted again on the
 * fit split; `npm run bench -- --only renderings` then found the same, with the same fitted rules).
 */
export const DETAIL_MAX_SIZE = 1536;

/**
 * The long side of a copy of `image` in which every part's box is at least PARTS_INPUT_SIZE px long,
 * within DETAIL_MAX_SIZE; undefined when the working copy already is (or holds all the source has).
 */
export function detailSize(
  image: Pick<DecodedImage, "width" | "height" | "sourceWidth" | "sourceHeight">,
  parts: readonly Pick<RegionBox, "box">[],
): number | undefined {
  const long = Math.max(image.width, image.height);
  const source = Math.max(image.sourceWidth, image.sourceHeight);
  const shortest = Math.min(...parts.map(({ box }) => Math.max(box.width, box.height)));
  if (parts.length === 0 || source <= long || shortest >= PARTS_INPUT_SIZE) return undefined;
  return Math.min(DETAIL_MAX_SIZE, source, Math.ceil((long * PARTS_INPUT_SIZE) / shortest));
}

/** `box` of `image` (its working copy) in the pixels of `copy`, another decode of the same image. */
export function scaledBox(box: Box, image: Size, copy: Size): Box {
  const [sx, sy] = [copy.width / image.width, copy.height / image.height];
  const x = Math.min(copy.width - 1, Math.round(box.x * sx));
  const y = Math.min(copy.height - 1, Math.round(box.y * sy));
  return {
    x,
    y,
    width: Math.max(1, Math.min(copy.width - x, Math.round(box.width * sx))),
    height: Math.max(1, Math.min(copy.height - y, Math.round(box.height * sy))),
  };
}

type Size = Pick<DecodedImage, "width" | "height">;

/** A part of a query searched for by itself: the picture inside a frame, or a collage tile. */
export interface RegionBox {
  readonly kind: "content" | "tile";
  readonly box: Box;
}

/** The content box (when a frame was trimmed) and the collage tiles inside it. */
export function regionBoxes(image: DecodedImage): RegionBox[] {
  const content = contentBox(image);
  const boxes: RegionBox[] = content ? [{ kind: "content", box: content }] : [];
  for (const tile of gutterTiles(image, content ?? wholeImage(image))) boxes.push({ kind: "tile", box: tile });
  return boxes;
}

/** The pixels of `box` as an image of their own (same format and source size). */
export function cropImage(image: DecodedImage, box: Box): DecodedImage {
  const pixels = Buffer.alloc(box.width * box.height * 3);
  for (let row = 0; row < box.height; row++) {
    const from = ((box.y + row) * image.width + box.x) * 3;
    image.pixels.copy(pixels, row * box.width * 3, from, from + box.width * 3);
  }
  return { ...image, pixels, width: box.width, height: box.height };
}

/** The median of `count` values from their 256-bin histogram. */
function medianOf(histogram: Uint32Array, count: number): number {
  let seen = 0;
  for (let v = 0; v < 256; v++) {
    seen += histogram[v]!;
    if (seen * 2 >= count) return v;
  }
  return 255;
}
