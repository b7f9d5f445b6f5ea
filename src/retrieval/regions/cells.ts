/**
 * Regions of a feature map: which cells of a letterboxed ("contain") map show the image, and the
 * grid of regions laid over them. A region's MAC describes that part of the picture, so a crop or
 * a collage tile can be matched against the part of the stored image it came from.
 */
import type { Region } from "../pooling.ts";

/**
 * The cells of a size×size letterboxed input (cells of `stride` px) that the image's content
 * covers, for an image of width×height pixels: letterbox bars hold no signal.
 */
export function contentCells(width: number, height: number, size: number, stride: number): Region {
  const cells = size / stride;
  const scale = size / Math.max(width, height);
  const shownWidth = width * scale;
  const shownHeight = height * scale;
  const span = (shown: number): [number, number] => {
    const start = (size - shown) / 2 / stride;
    const first = Math.max(0, Math.floor(start + 0.25));
    const end = Math.min(cells, Math.ceil(start + shown / stride - 0.25));
    return [first, Math.max(first + 1, end)];
  };
  const [x0, x1] = span(shownWidth);
  const [y0, y1] = span(shownHeight);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Square-ish regions covering `share` of each side of `area`, `steps` positions per axis spread
 * from edge to edge (R-MAC's sampling at one scale, over the content cells only).
 */
export function regionGrid(area: Region, share: number, steps: number): Region[] {
  const width = Math.max(1, Math.round(area.width * share));
  const height = Math.max(1, Math.round(area.height * share));
  const offsets = (length: number, side: number): number[] => {
    if (steps <= 1 || side >= length) return [Math.floor((length - side) / 2)];
    return [...new Set(Array.from({ length: steps }, (_, i) => Math.round(((length - side) * i) / (steps - 1))))];
  };
  const regions: Region[] = [];
  for (const y of offsets(area.height, height)) {
    for (const x of offsets(area.width, width)) regions.push({ x: area.x + x, y: area.y + y, width, height });
  }
  return regions;
}
