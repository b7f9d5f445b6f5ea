/**
 * Collages: the original in one tile (chosen at random), never-stored pictures in the others,
 * uneven tiles and gutters of several colours. 2×2 and a big-tile mosaic are for fitting; 1×2 and
 * 3×3 for testing (a picture at half and at a ninth of the frame).
 */
import sharp from "sharp";
import { between, pick } from "../../lib/random.ts";
import type { Picture } from "../../repost/edits.ts";
import { posted, type Render, type Rendering, round3 } from "./types.ts";

export interface Tile {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** Splits `length` into parts proportional to `weights`, with `gutter` between and around them. */
function spans(length: number, weights: readonly number[], gutter: number): { start: number; size: number }[] {
  const free = length - gutter * (weights.length + 1);
  const total = weights.reduce((a, b) => a + b, 0);
  let start = gutter;
  return weights.map((w) => {
    const size = Math.max(8, Math.round((free * w) / total));
    const span = { start, size };
    start += size + gutter;
    return span;
  });
}

export function gridTiles(width: number, height: number, columns: readonly number[], rows: readonly number[], gutter: number): Tile[] {
  const xs = spans(width, columns, gutter);
  const ys = spans(height, rows, gutter);
  return ys.flatMap((y) => xs.map((x) => ({ left: x.start, top: y.start, width: x.size, height: y.size })));
}

/** One big tile and two stacked beside it (or below it). */
function mosaicTiles(width: number, height: number, big: number, split: number, gutter: number, vertical: boolean): Tile[] {
  if (vertical)
    return mosaicTiles(height, width, big, split, gutter, false).map((t) => ({
      left: t.top,
      top: t.left,
      width: t.height,
      height: t.width,
    }));
  const [main, side] = spans(width, [big, 1 - big], gutter);
  const [upper, lower] = spans(height, [split, 1 - split], gutter);
  return [
    { left: main!.start, top: gutter, width: main!.size, height: height - 2 * gutter },
    { left: side!.start, top: upper!.start, width: side!.size, height: upper!.size },
    { left: side!.start, top: lower!.start, width: side!.size, height: lower!.size },
  ];
}

const GUTTERS = ["#ffffff", "#000000", "#f4e1d2", "#1e293b", "#fde68a", "#e5e7eb", "#7c3aed"] as const;

type Layout = (random: () => number) => { width: number; height: number; tiles: Tile[]; layout: string; gutter: number; colour: string };

const frame = (random: () => number, aspectLow: number, aspectHigh: number) => {
  const width = Math.round(between(random, 700, 1200));
  const height = Math.round(width * between(random, aspectLow, aspectHigh));
  const gutter = Math.round(width * between(random, 0, 0.03));
  return { width, height, gutter, colour: pick(GUTTERS, random) };
};
const uneven = (random: () => number, count: number, spread: number) =>
  Array.from({ length: count }, () => between(random, 1 - spread, 1 + spread));

const grid2x2: Layout = (random) => {
  const f = frame(random, 0.75, 1.33);
  const [c, r] = [between(random, 0.35, 0.65), between(random, 0.35, 0.65)];
  return { ...f, layout: "2x2", tiles: gridTiles(f.width, f.height, [c, 1 - c], [r, 1 - r], f.gutter) };
};
const mosaic: Layout = (random) => {
  const f = frame(random, 0.7, 1.3);
  const vertical = random() < 0.5;
  return {
    ...f,
    layout: vertical ? "1+2 below" : "1+2 beside",
    tiles: mosaicTiles(f.width, f.height, between(random, 0.5, 0.66), between(random, 0.35, 0.65), f.gutter, vertical),
  };
};
const pair: Layout = (random) => {
  const stacked = random() < 0.5;
  const f = frame(random, stacked ? 1.3 : 0.45, stacked ? 2 : 0.8);
  const s = between(random, 0.35, 0.65);
  const tiles = stacked ? gridTiles(f.width, f.height, [1], [s, 1 - s], f.gutter) : gridTiles(f.width, f.height, [s, 1 - s], [1], f.gutter);
  return { ...f, layout: stacked ? "1x2 stacked" : "1x2 side by side", tiles };
};
const grid3x3: Layout = (random) => {
  const f = frame(random, 0.8, 1.25);
  return { ...f, layout: "3x3", tiles: gridTiles(f.width, f.height, uneven(random, 3, 0.3), uneven(random, 3, 0.3), f.gutter) };
};

const collage =
  (layout: Layout): Render =>
  async (p: Picture, { random, fillers }) => {
    const { width, height, tiles, gutter, colour, layout: name } = layout(random);
    const position = Math.floor(random() * tiles.length);
    if (fillers.length < tiles.length - 1) throw new Error(`collage ${name} needs ${tiles.length - 1} fillers, got ${fillers.length}`);
    const others = [...fillers];
    const inputs = await Promise.all(
      tiles.map(async (t, i) => ({
        input: await sharp(i === position ? p.data : others.shift()!)
          .resize(t.width, t.height, { fit: "cover" })
          .toBuffer(),
        left: t.left,
        top: t.top,
      })),
    );
    const canvas = sharp({ create: { width, height, channels: 3, background: colour } }).composite(inputs);
    const tile = tiles[position]!;
    return posted(canvas, {
      layout: name,
      tiles: tiles.length,
      position,
      gutter,
      colour,
      tileLeft: tile.left,
      tileTop: tile.top,
      tileWidth: tile.width,
      tileHeight: tile.height,
      areaFraction: round3((tile.width * tile.height) / (width * height)),
    });
  };

export const COLLAGE_RENDERINGS: readonly Rendering[] = [
  {
    id: "collage-a-2x2",
    kind: "collage",
    split: "fit",
    description: "2×2, uneven rows and columns, gutters 0–3 %",
    render: collage(grid2x2),
    fillers: 3,
  },
  {
    id: "collage-b-mosaic",
    kind: "collage",
    split: "fit",
    description: "one big tile and two stacked beside or below it",
    render: collage(mosaic),
    fillers: 2,
  },
  {
    id: "collage-c-1x2",
    kind: "collage",
    split: "test",
    description: "1×2, side by side or stacked, uneven",
    render: collage(pair),
    fillers: 1,
  },
  {
    id: "collage-d-3x3",
    kind: "collage",
    split: "test",
    description: "3×3, uneven rows and columns",
    render: collage(grid3x3),
    fillers: 8,
  },
];
