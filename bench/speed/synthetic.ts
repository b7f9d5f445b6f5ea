/**
 * Deterministic vectors for the scale measurements. Rows are "near-duplicates of real images": each
 * is a real embedding (a centre) plus Gaussian noise, renormalised, with a cosine to its centre
 * spread over 0.70–0.98 (a repost, a crop, a re-encode…). So the synthetic table keeps the
 * anisotropy and cluster structure of real embeddings, which is what ANN recall depends on.
 */

import { seededRandom } from "../lib/random.ts";

/** Standard normal samples (Box–Muller, both values used). */
export function gaussian(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export function normalise(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= scale;
  return v;
}

/** Random non-negative unit vectors: stand-in centres when no real embeddings are at hand. */
export function randomCentres(count: number, dimension: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => normalise(Float32Array.from({ length: dimension }, () => random() ** 4)));
}

/** Anything that writes the next `count` rows (row-major) into `out`. */
export interface RowSource {
  readonly dimension: number;
  fill(out: Float32Array, count: number): void;
}

/** Given vectors, in order (e.g. real embeddings). */
export class FixedRows implements RowSource {
  private next = 0;

  constructor(private readonly vectors: readonly Float32Array[]) {}

  get dimension(): number {
    return this.vectors[0]!.length;
  }

  fill(out: Float32Array, count: number): void {
    for (let row = 0; row < count; row++) out.set(this.vectors[this.next++]!, row * this.dimension);
  }
}

/**
 * Writes `count` rows into `out` (row-major, `dimension` floats each): row i is a noisy copy of
 * a centre chosen by the generator. Same seed and centres → same rows.
 */
export class NearDuplicateGenerator implements RowSource {
  private readonly random: () => number;
  private readonly normal: () => number;

  constructor(
    private readonly centres: readonly Float32Array[],
    seed: number,
  ) {
    this.random = seededRandom(seed);
    // Noise from a table of 64Ki normal samples indexed by a fast PRNG: ~10× faster than Box–Muller
    // per value, which matters at 1.3 billion values for 1M rows, and just as good as noise.
    const table = Float32Array.from({ length: 1 << 16 }, gaussian(seededRandom(seed ^ 0x9e3779b9)));
    const bits = seededRandom(seed ^ 0x85ebca6b);
    let word = 0;
    let left = 0;
    this.normal = () => {
      if (left === 0) {
        word = bits() * 4294967296;
        left = 2;
      }
      left--;
      const index = left === 1 ? word & 0xffff : (word >>> 16) & 0xffff;
      return table[index]!;
    };
  }

  get dimension(): number {
    return this.centres[0]!.length;
  }

  fill(out: Float32Array, count: number): void {
    const d = this.dimension;
    for (let row = 0; row < count; row++) {
      const centre = this.centres[Math.floor(this.random() * this.centres.length)]!;
      // cos(v, c) ≈ 1/√(1 + σ²d) for a unit centre: pick the cosine, derive σ.
      const cosine = 0.7 + 0.28 * this.random();
      const sigma = Math.sqrt((1 / (cosine * cosine) - 1) / d);
      const base = row * d;
      let norm = 0;
      for (let i = 0; i < d; i++) {
        const x = centre[i]! + sigma * this.normal();
        out[base + i] = x;
        norm += x * x;
      }
      const scale = 1 / Math.sqrt(norm);
      for (let i = 0; i < d; i++) out[base + i]! *= scale;
    }
  }

  next(): Float32Array {
    const v = new Float32Array(this.dimension);
    this.fill(v, 1);
    return v;
  }
}
