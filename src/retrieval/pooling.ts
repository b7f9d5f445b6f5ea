/**
 * Global image descriptors from one CNN feature map (C×H×W, CHW order). Pure functions: no I/O.
 *
 * Every descriptor is an L2-normalised Float32Array of length C, so the cosine similarity of two
 * images is their dot product. A map without any activation (all zeros) has no direction: its
 * descriptor is the zero vector (never NaN), except GeM, whose clamp to eps makes it uniform.
 *
 * In CHW order each channel's H×W plane is contiguous, so every method walks plane by plane.
 */
import { LookalikeError } from "./errors.ts";
import { l2normalize } from "./vectors.ts";

/** One feature map in CHW order; `data` may be a view into a larger [N,C,H,W] batch. */
export interface FeatureMap {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
  /** The model's projection of every cell (rows × height × width), when its graph has one (embedder/graph.ts). */
  projected?: Float32Array;
}

export type PoolingName = "spoc" | "mac" | "gem" | "rmac" | "crow";

export const POOLING_NAMES: readonly PoolingName[] = Object.freeze(["spoc", "mac", "gem", "rmac", "crow"] as const);

export interface PoolingOptions {
  /** GeM exponent p (default 3, the value Radenović et al. use without learning it). */
  gemP?: number;
  /** R-MAC scales L (default 3, as in Tolias et al.). */
  rmacLevels?: number;
}

/** A rectangle of feature-map cells: columns x..x+width-1, rows y..y+height-1. */
export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Clamp for GeM (as cirtorch's `gem`) and the ε of CroW's channel weights. */
const EPS = 1e-6;

export function pool(name: PoolingName, map: FeatureMap, options: PoolingOptions = {}): Float32Array {
  switch (name) {
    case "spoc":
      return spoc(map);
    case "mac":
      return mac(map);
    case "gem":
      return gem(map, options.gemP);
    case "rmac":
      return rmac(map, options.rmacLevels);
    case "crow":
      return crow(map);
    default:
      throw new LookalikeError("internal", `Unknown pooling "${String(name)}". Known: ${POOLING_NAMES.join(", ")}.`);
  }
}

/**
 * Pools every map of an [N,C,H,W] batch. Each map is a `subarray` view of `data` (no copy);
 * the returned descriptors are new arrays.
 */
export function poolBatch(
  name: PoolingName,
  data: Float32Array,
  n: number,
  c: number,
  h: number,
  w: number,
  options: PoolingOptions = {},
): Float32Array[] {
  const size = c * h * w;
  if (!Number.isInteger(n) || n < 0 || data.length !== n * size) {
    throw new LookalikeError("internal", `A [${n},${c},${h},${w}] batch needs ${n * size} values, got ${data.length}.`);
  }
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    out.push(pool(name, { data: data.subarray(i * size, (i + 1) * size), channels: c, height: h, width: w }, options));
  }
  return out;
}

/** SPoC: sum pooling (Babenko & Lempitsky, ICCV 2015). Sum and average differ only by a factor L2 removes. */
export function spoc(map: FeatureMap): Float32Array {
  return l2normalize(perChannel(map, planeSum));
}

/** MAC: max pooling (Tolias, Sicre & Jégou, ICLR 2016). */
export function mac(map: FeatureMap): Float32Array {
  return l2normalize(perChannel(map, planeMax));
}

/**
 * GeM: generalized mean f_k = (mean_ij x_kij^p)^(1/p) (Radenović, Tolias & Chum, TPAMI 2018).
 * p = 1 is average pooling (SPoC), p → ∞ tends to MAC. Values are clamped to ε first, as in the
 * authors' code, so that fractional powers and zero maps stay defined.
 * Computed as m·(mean (x/m)^p)^(1/p) with m the channel max, which is the same number but cannot
 * overflow for large p.
 */
export function gem(map: FeatureMap, p = 3): Float32Array {
  if (!Number.isFinite(p) || p <= 0) {
    throw new LookalikeError("internal", `GeM needs a finite exponent p > 0, got ${p}.`);
  }
  return l2normalize(perChannel(map, (data, start, end) => planeGem(data, start, end, p)));
}

/** MAC over one region of the map (cells), L2-normalised: a regional descriptor. */
export function regionMac(map: FeatureMap, region: Region): Float32Array {
  const plane = planeSize(map);
  const out = new Float32Array(map.channels);
  const start = region.y * map.width + region.x;
  for (let k = 0; k < map.channels; k++) out[k] = regionMax(map.data, k * plane + start, map.width, region.width, region.height);
  return l2normalize(out);
}

/**
 * R-MAC (Tolias, Sicre & Jégou, "Particular object retrieval with integral max-pooling of CNN
 * activations", ICLR 2016): MAC over square regions at `levels` scales, each region vector
 * L2-normalised, summed, L2-normalised. The paper also PCA-whitens each region vector (a
 * transform learned on a separate image set); we have none, so that step is skipped.
 */
export function rmac(map: FeatureMap, levels = 3): Float32Array {
  const plane = planeSize(map);
  const out = new Float32Array(map.channels);
  const regionVector = new Float32Array(map.channels);
  for (const { x, y, width, height } of rmacRegions(map.height, map.width, levels)) {
    for (let k = 0; k < map.channels; k++) {
      regionVector[k] = regionMax(map.data, k * plane + y * map.width + x, map.width, width, height);
    }
    l2normalize(regionVector);
    for (let k = 0; k < map.channels; k++) out[k]! += regionVector[k]!;
  }
  return l2normalize(out);
}

/** Overlap between neighbouring regions that R-MAC aims for when choosing regions on the long side. */
const RMAC_OVERLAP = 0.4;
/** Candidate region counts along the long side at the coarsest scale (Tolias et al.'s code). */
const RMAC_LONG_SIDE_STEPS = [2, 3, 4, 5, 6, 7] as const;

/**
 * R-MAC's region grid for an H×W map, following the authors' sampling (their MATLAB
 * `rmac_regions`, ported in Radenović's cirtorch): at scale l = 1..L the regions are squares of
 * side ⌊2·min(H,W)/(l+1)⌋, l regions along the short side and l+m−1 along the long side, spread
 * uniformly from edge to edge; m is picked so that neighbouring regions at l = 1 overlap as
 * close to 40% as possible (m = 1 for a square map).
 *
 * The full-map region is included exactly once: on a square map it is already the l = 1 region;
 * otherwise it is added first (cirtorch always adds it, counting it twice on square maps).
 * Duplicate regions (possible on tiny maps after rounding) are dropped.
 *
 * 7×7, L = 3 → 14 regions: 1 of 7×7; 2×2 of 4×4 at offsets {0,3}; 3×3 of 3×3 at offsets {0,2,4}.
 */
export function rmacRegions(height: number, width: number, levels = 3): Region[] {
  if (!isPositiveInteger(height) || !isPositiveInteger(width) || !isPositiveInteger(levels)) {
    throw new LookalikeError("internal", `R-MAC needs positive integer sizes and levels, got ${height}×${width}, L=${levels}.`);
  }
  const short = Math.min(height, width);
  const extra = longSideExtraRegions(height, width);
  const extraX = width > height ? extra : 0;
  const extraY = height > width ? extra : 0;
  const regions: Region[] = [{ x: 0, y: 0, width, height }];
  const seen = new Set([regionKey(regions[0]!)]);
  for (let l = 1; l <= levels; l++) {
    const side = Math.floor((2 * short) / (l + 1));
    if (side === 0) break; // sides only shrink with l
    for (const y of spreadOffsets(height, side, l + extraY)) {
      for (const x of spreadOffsets(width, side, l + extraX)) {
        const region = { x, y, width: side, height: side };
        const key = regionKey(region);
        if (!seen.has(key)) {
          seen.add(key);
          regions.push(region);
        }
      }
    }
  }
  return regions;
}

/**
 * CroW (Kalantidis, Mellina & Osindero, "Cross-dimensional weighting for aggregated deep
 * convolutional features", ECCV-W 2016): f_k = Ω_k · Σ_ij S_ij X_kij, then L2-normalised
 * (the paper's later PCA-whitening is left out, as for R-MAC). S and Ω: see the two functions below.
 */
export function crow(map: FeatureMap): Float32Array {
  const plane = planeSize(map);
  const spatial = crowSpatialWeights(map);
  const channel = crowChannelWeights(map);
  const out = new Float32Array(map.channels);
  for (let k = 0; k < map.channels; k++) {
    const start = k * plane;
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += spatial[i]! * map.data[start + i]!;
    out[k] = channel[k]! * sum;
  }
  return l2normalize(out);
}

/**
 * CroW spatial weights, row-major H×W (paper eq. 3, with the paper's a = 2, b = 2):
 *   S'_ij = Σ_k X_kij,   S_ij = ( S'_ij / (Σ_mn S'_mn^a)^(1/a) )^(1/b)
 * i.e. total activation per position, L2-normalised, then square-rooted (power-normalised) so
 * that a few very strong positions do not drown the rest. S' is clamped at 0 (post-ReLU maps
 * never go below); an all-zero map gets all-zero weights instead of 0/0.
 */
export function crowSpatialWeights(map: FeatureMap, a = 2, b = 2): Float64Array {
  const plane = planeSize(map);
  const s = new Float64Array(plane);
  for (let k = 0; k < map.channels; k++) {
    const start = k * plane;
    for (let i = 0; i < plane; i++) s[i]! += map.data[start + i]!;
  }
  let norm = 0;
  for (let i = 0; i < plane; i++) {
    s[i] = Math.max(0, s[i]!);
    norm += s[i]! ** a;
  }
  norm = norm ** (1 / a);
  for (let i = 0; i < plane; i++) s[i] = norm > 0 ? (s[i]! / norm) ** (1 / b) : 0;
  return s;
}

/**
 * CroW channel weights (paper eq. 4–5), an IDF-like boost for rarely active channels that tames
 * "bursty" ones:
 *   Q_k = (1/(W·H)) Σ_ij 1[X_kij > 0]             (fraction of non-zero positions)
 *   Ω_k = log( (K·ε + Σ_h Q_h) / (ε + Q_k) )        (K channels, ε small)
 * The ε terms only keep the ratio finite for channels that never fire (whose sum is 0 anyway);
 * the authors' code writes log(Σ_h Q_h / Q_k), and 0 when Q_k = 0.
 */
export function crowChannelWeights(map: FeatureMap): Float64Array {
  const q = perChannel(map, planeNonZeroFraction, Float64Array);
  let total = 0;
  for (let k = 0; k < q.length; k++) total += q[k]!;
  const numerator = map.channels * EPS + total;
  for (let k = 0; k < q.length; k++) q[k] = Math.log(numerator / (EPS + q[k]!));
  return q;
}

// ---------------------------------------------------------------------------------------------

type PlaneReducer = (data: Float32Array, start: number, end: number) => number;

/** Validates the map's shape and returns H·W. */
function planeSize(map: FeatureMap): number {
  const { channels, height, width, data } = map;
  if (!isPositiveInteger(channels) || !isPositiveInteger(height) || !isPositiveInteger(width)) {
    throw new LookalikeError("internal", `Feature map sizes must be positive integers, got ${channels}×${height}×${width}.`);
  }
  if (data.length !== channels * height * width) {
    throw new LookalikeError(
      "internal",
      `A ${channels}×${height}×${width} feature map needs ${channels * height * width} values, got ${data.length}.`,
    );
  }
  return height * width;
}

/** One number per channel, from the channel's contiguous plane. */
function perChannel(map: FeatureMap, reduce: PlaneReducer): Float32Array;
function perChannel(map: FeatureMap, reduce: PlaneReducer, type: Float64ArrayConstructor): Float64Array;
function perChannel(
  map: FeatureMap,
  reduce: PlaneReducer,
  type: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array,
): Float32Array | Float64Array {
  const plane = planeSize(map);
  const out = new type(map.channels);
  for (let k = 0; k < map.channels; k++) out[k] = reduce(map.data, k * plane, (k + 1) * plane);
  return out;
}

function planeSum(data: Float32Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += data[i]!;
  return sum;
}

function planeMax(data: Float32Array, start: number, end: number): number {
  let max = -Infinity;
  for (let i = start; i < end; i++) if (data[i]! > max) max = data[i]!;
  return max;
}

function planeGem(data: Float32Array, start: number, end: number, p: number): number {
  const max = Math.max(EPS, planeMax(data, start, end));
  let sum = 0;
  for (let i = start; i < end; i++) {
    const r = clampToEps(data[i]!) / max;
    // p = 3 is the default and the hot path: Math.pow is tens of times slower than two multiplies.
    sum += p === 3 ? r * r * r : r ** p;
  }
  return max * (sum / (end - start)) ** (1 / p);
}

/**
 * max(x, EPS) without a branch: maps are ~half zeros in no predictable order, and a mispredicted
 * branch per value made GeM several times slower. Exact in both cases (x finite).
 */
function clampToEps(x: number): number {
  const below = +(x < EPS);
  return below * EPS + (1 - below) * x;
}

function planeNonZeroFraction(data: Float32Array, start: number, end: number): number {
  let count = 0;
  for (let i = start; i < end; i++) count += +(data[i]! > 0); // branch-free: zeros come in no predictable order
  return count / (end - start);
}

/** Max over a `width`×`height` block of a row-major plane with rows `stride` apart, from `start`. */
function regionMax(data: Float32Array, start: number, stride: number, width: number, height: number): number {
  // Math.max rather than a comparison: maps are ~half zeros in no predictable order, and the
  // mispredicted branch made the regions of a stored image cost 7.6 ms instead of 5.2 (the same maxima).
  let max = -Infinity;
  for (let row = start; row < start + height * stride; row += stride) {
    for (let i = row; i < row + width; i++) max = Math.max(max, data[i]!);
  }
  return max;
}

/**
 * m − 1 in Tolias et al.: how many more regions the long side gets than the short side, chosen
 * so that two l = 1 regions (side = short) stepping b = (long − short)/(n − 1) overlap by
 * 1 − b/short ≈ 40%. The first best candidate wins, as with MATLAB's/torch's `min`.
 */
function longSideExtraRegions(height: number, width: number): number {
  if (height === width) return 0;
  const short = Math.min(height, width);
  const long = Math.max(height, width);
  let best = 0;
  let bestError = Infinity;
  RMAC_LONG_SIDE_STEPS.forEach((steps, index) => {
    const error = Math.abs(1 - (long - short) / (steps - 1) / short - RMAC_OVERLAP);
    if (error < bestError) {
      bestError = error;
      best = index + 1;
    }
  });
  return best;
}

/**
 * `count` offsets of a window of `side` cells spread evenly over `extent` cells, first at 0, last
 * flush with the far edge: ⌊i·(extent − side)/(count − 1)⌋. (The authors write
 * ⌊wl2 + i·b⌋ − wl2 with an integer wl2, which is the same.) Integer arithmetic before the
 * division keeps the last offset exact.
 */
function spreadOffsets(extent: number, side: number, count: number): number[] {
  if (count === 1) return [0];
  return Array.from({ length: count }, (_, i) => Math.floor((i * (extent - side)) / (count - 1)));
}

function regionKey(r: Region): string {
  return `${r.x},${r.y},${r.width},${r.height}`;
}

function isPositiveInteger(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}
