/**
 * An image's parts: what lets a crop find the picture it came from and a copy prove itself cell by
 * cell. From the letterboxed 448-px feature map (14×14 cells for a square image):
 * - regions: MAC of half-size regions (3×3 positions) and 0.7-size regions (2×2), each a unit
 *   vector: a 50 % crop or a collage tile is close to the region it shows;
 * - cells: every content cell's descriptor at 448 px and at 224 px (two scales, so a copy shown at
 *   half or double size still lines up), reduced to CELL_DIMENSION values by a fixed random
 *   projection and quantised to int8, for spatial verification (`verify.ts`).
 * The projection is seeded, not learned: it needs no data, is the same in every process forever,
 * and keeps cosines between cells close to the originals (Johnson–Lindenstrauss).
 */
import type { FeatureMap } from "../pooling.ts";
import { regionMac } from "../pooling.ts";
import { contentCells, regionGrid } from "./cells.ts";

/** Side of the square model input the regions and fine cells come from. */
export const PARTS_INPUT_SIZE = 448;
/**
 * Sides of the inputs a query's own extra cells come from (repost checks only, never stored), its
 * verification grids:
 * - 320 px, between the stored image's fine (448) and coarse (224) cells: a crop of 30–70 % of the
 *   area lines up with the fine cells at a scale near 1, where cells correspond best;
 * - 640 px: a collage tile or a small crop covers too few cells at 448 px, and lines up with the
 *   stored cells only beyond the scales verification allows; at 640 px it shows them near scale 1.
 *   With the crop rule's floor unchanged (16 cells, on the better grid), the renderings bench found
 *   collages 41.5 → 66.0 % on the fit split and 60.0 → 64.4 % on the test split, crops 51.1 → 60.0 %
 *   on the test split, false reposts unchanged (1/563, 4/524; bench/RESULTS.md, renderings). Grids at
 *   256, 384 and 512 px, tried offline on the same weighings at the floor adding no false repost on the
 *   fit split, found at most two more reposts per split each.
 */
export const QUERY_CELLS_INPUT_SIZES = [320, 640] as const;
/** Values per cell descriptor after the random projection. */
export const CELL_DIMENSION = 128;
/** Bumped whenever what is stored changes meaning (the projection, the grids, the encoding). */
export const PARTS_VERSION = 1;

export type Fractions = readonly [number, number, number, number];

/** A content cell grid: `codes` holds width×height descriptors of CELL_DIMENSION int8 values, row by row. */
export interface CellSet {
  readonly width: number;
  readonly height: number;
  readonly codes: Int8Array;
}

export interface PartRegion {
  /** [x, y, width, height] as fractions of the image. */
  readonly box: Fractions;
  /** Unit vector (the model's channels) times 127, rounded. */
  readonly vector: Int8Array;
}

export interface ImageParts {
  readonly regions: readonly PartRegion[];
  /** Fine (448 px) then coarse (224 px) cells. */
  readonly cells: readonly CellSet[];
}

/** A unit vector times 127, rounded (a plain loop: `Int8Array.from` with a mapping function was 4 ms of every stored image). */
function quantise(unit: Float32Array): Int8Array {
  const out = new Int8Array(unit.length);
  for (let i = 0; i < unit.length; i++) out[i] = Math.max(-127, Math.min(127, Math.round(unit[i]! * 127)));
  return out;
}

/** `length` bytes of `data` from `at`, as signed values in an array of their own. */
function int8Copy(data: Buffer, at: number, length: number): Int8Array {
  return new Int8Array(data.buffer.slice(data.byteOffset + at, data.byteOffset + at + length));
}

const unitVectors = new WeakMap<PartRegion, Float32Array>();

/** A region vector back as a unit Float32Array (computed once per region). */
export function regionVector(region: PartRegion): Float32Array {
  let unit = unitVectors.get(region);
  if (!unit) {
    unit = unitVector(region);
    unitVectors.set(region, unit);
  }
  return unit;
}

function unitVector(region: PartRegion): Float32Array {
  // Plain loops: a typed array's `from` with a mapping function is many times slower, and every
  // candidate's regions come through here for every query.
  const codes = region.vector;
  const out = new Float32Array(codes.length);
  let norm = 0;
  for (let i = 0; i < codes.length; i++) norm += codes[i]! * codes[i]!;
  const scale = 1 / (Math.sqrt(norm) || 1);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i]! * scale;
  return out;
}

/** The regions of a letterboxed map of an image `width`×`height` px (any aspect). */
export function regionsOf(map: FeatureMap, width: number, height: number, stride: number): PartRegion[] {
  const area = contentCells(width, height, map.width * stride, stride);
  return [...regionGrid(area, 0.5, 3), ...regionGrid(area, 0.7, 2)].map((region) => ({
    // Float32 like the stored copy, so what is stored reads back exactly.
    box: [
      Math.fround((region.x - area.x) / area.width),
      Math.fround((region.y - area.y) / area.height),
      Math.fround(region.width / area.width),
      Math.fround(region.height / area.height),
    ] as const,
    vector: quantise(regionMac(map, region)),
  }));
}

/** Non-zero entries per row of the projection: channels / 16, as in a very sparse random projection. */
const SPARSITY = 16;

interface SparseProjection {
  readonly channels: number;
  /** Row p uses channels `index[p * perRow … (p + 1) * perRow)` with signs `sign[…]`. */
  readonly perRow: number;
  readonly index: Int32Array;
  readonly sign: Float32Array;
}

let projection: SparseProjection | undefined;

/**
 * The fixed CELL_DIMENSION × channels projection: a very sparse random projection (Li, Hastie &
 * Church, KDD 2006), each row a sum of channels/16 channels with random signs. Distances are kept
 * about as well as by a dense Gaussian matrix for a sixteenth of the work (~2 M additions per image
 * instead of 32 M multiply-adds). Seeded, so identical in every process and every version.
 */
function cellProjection(channels: number): SparseProjection {
  if (projection?.channels === channels) return projection;
  let state = 0x9e3779b9;
  const uniform = () => {
    // mulberry32: small, fast, and the same sequence on every platform.
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const perRow = Math.max(1, Math.round(channels / SPARSITY));
  const index = new Int32Array(CELL_DIMENSION * perRow);
  const sign = new Float32Array(CELL_DIMENSION * perRow);
  for (let row = 0; row < CELL_DIMENSION; row++) {
    const chosen = new Set<number>();
    while (chosen.size < perRow) chosen.add(Math.floor(uniform() * channels));
    [...chosen].forEach((channel, k) => {
      index[row * perRow + k] = channel;
      sign[row * perRow + k] = uniform() < 0.5 ? -1 : 1;
    });
  }
  projection = { channels, perRow, index, sign };
  return projection;
}

/**
 * The cell projection as the model runs it (Embedder's `projection`): CELL_DIMENSION × channels
 * weights, row-major, each ±1 or 0. The inference worker then hands every map over already
 * projected (`FeatureMap.projected`), a 1×1 convolution in native code instead of ~13 ms of this
 * thread's time per 448-px map.
 */
export function cellProjectionWeights(channels: number): { rows: number; weights: Float32Array } {
  const { perRow, index, sign } = cellProjection(channels);
  const weights = new Float32Array(CELL_DIMENSION * channels);
  for (let row = 0; row < CELL_DIMENSION; row++) {
    for (let k = row * perRow; k < (row + 1) * perRow; k++) weights[row * channels + index[k]!] = sign[k]!;
  }
  return { rows: CELL_DIMENSION, weights };
}

/** Every cell of the map projected (CELL_DIMENSION rows of width×height values): the model's, else computed here. */
function projectCells(map: FeatureMap): Float32Array {
  const plane = map.width * map.height;
  if (map.projected?.length === CELL_DIMENSION * plane) return map.projected;
  const { perRow, index, sign } = cellProjection(map.channels);
  const data = map.data;
  // Row by row of the projection over whole channel planes: contiguous reads, no multiplications.
  const projected = new Float32Array(CELL_DIMENSION * plane);
  for (let row = 0; row < CELL_DIMENSION; row++) {
    const out = row * plane;
    for (let k = row * perRow; k < (row + 1) * perRow; k++) {
      const from = index[k]! * plane;
      if (sign[k]! > 0) for (let i = 0; i < plane; i++) projected[out + i]! += data[from + i]!;
      else for (let i = 0; i < plane; i++) projected[out + i]! -= data[from + i]!;
    }
  }
  return projected;
}

/** The content cells of a letterboxed map, projected, normalised and quantised. */
export function cellsOf(map: FeatureMap, width: number, height: number, stride: number): CellSet {
  const area = contentCells(width, height, map.width * stride, stride);
  const plane = map.width * map.height;
  const projected = projectCells(map);
  const codes = new Int8Array(area.width * area.height * CELL_DIMENSION);
  let cell = 0;
  for (let y = area.y; y < area.y + area.height; y++) {
    for (let x = area.x; x < area.x + area.width; x++, cell++) {
      const at = y * map.width + x;
      let norm = 0;
      for (let row = 0; row < CELL_DIMENSION; row++) norm += projected[row * plane + at]! ** 2;
      const scale = norm > 0 ? 127 / Math.sqrt(norm) : 0;
      for (let row = 0; row < CELL_DIMENSION; row++) codes[cell * CELL_DIMENSION + row] = Math.round(projected[row * plane + at]! * scale);
    }
  }
  return { width: area.width, height: area.height, codes };
}

/**
 * The cells of `set` inside `box` ([x, y, width, height] as fractions of the image the set covers),
 * at least one: a cell is in when the box covers most of it along each axis.
 */
export function cellsWithin(set: CellSet, box: Fractions): CellSet {
  const span = (start: number, length: number, cells: number): [number, number] => {
    const first = Math.min(cells - 1, Math.max(0, Math.round(start * cells)));
    return [first, Math.max(first + 1, Math.min(cells, Math.round((start + length) * cells)))];
  };
  const [x0, x1] = span(box[0], box[2], set.width);
  const [y0, y1] = span(box[1], box[3], set.height);
  const width = x1 - x0;
  const codes = new Int8Array(width * (y1 - y0) * CELL_DIMENSION);
  for (let y = y0; y < y1; y++) {
    codes.set(
      set.codes.subarray((y * set.width + x0) * CELL_DIMENSION, (y * set.width + x1) * CELL_DIMENSION),
      (y - y0) * width * CELL_DIMENSION,
    );
  }
  return { width, height: y1 - y0, codes };
}

/**
 * One binary value per image: [version, region count, channels] then each region's box (4 float32)
 * and vector, then [cell set count] and each set's [width, height] and codes.
 */
export function encodeParts(parts: ImageParts): Buffer {
  const channels = parts.regions[0]?.vector.length ?? 0;
  const size = 12 + parts.regions.length * (16 + channels) + 4 + parts.cells.reduce((sum, set) => sum + 8 + set.codes.length, 0);
  const out = Buffer.alloc(size);
  let at = out.writeInt32LE(PARTS_VERSION, 0);
  at = out.writeInt32LE(parts.regions.length, at);
  at = out.writeInt32LE(channels, at);
  for (const region of parts.regions) {
    for (const v of region.box) at = out.writeFloatLE(v, at);
    out.set(new Uint8Array(region.vector.buffer, region.vector.byteOffset, region.vector.length), at);
    at += channels;
  }
  at = out.writeInt32LE(parts.cells.length, at);
  for (const set of parts.cells) {
    at = out.writeInt32LE(set.width, at);
    at = out.writeInt32LE(set.height, at);
    out.set(new Uint8Array(set.codes.buffer, set.codes.byteOffset, set.codes.length), at);
    at += set.codes.length;
  }
  return out;
}

/** The parts back from `encodeParts`' bytes, or null when they were written by another version. */
export function decodeParts(bytes: Uint8Array): ImageParts | null {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < 12 || data.readInt32LE(0) !== PARTS_VERSION) return null;
  const count = data.readInt32LE(4);
  const channels = data.readInt32LE(8);
  let at = 12;
  const regions: PartRegion[] = [];
  for (let r = 0; r < count; r++) {
    const box = [0, 1, 2, 3].map((i) => data.readFloatLE(at + 4 * i)) as unknown as Fractions;
    at += 16;
    regions.push({ box, vector: int8Copy(data, at, channels) });
    at += channels;
  }
  const sets = data.readInt32LE(at);
  at += 4;
  const cells: CellSet[] = [];
  for (let s = 0; s < sets; s++) {
    const width = data.readInt32LE(at);
    const height = data.readInt32LE(at + 4);
    at += 8;
    const length = width * height * CELL_DIMENSION;
    cells.push({ width, height, codes: int8Copy(data, at, length) });
    at += length;
  }
  return { regions, cells };
}
