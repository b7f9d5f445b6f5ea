/**
 * Vector maths shared by pooling, whitening, the store's exact re-scoring and the repost verdicts.
 * Pure functions: no I/O.
 */
import { LookalikeError } from "./errors.ts";

/**
 * Every row of `a` times every row of `b` (both `dimension` values wide, row-major, transferred):
 * rows(a) × rows(b) values, row-major, computed somewhere else (the inference worker's native
 * matrix product, Embedder.scores).
 */
export type TransposedProduct = (a: Float32Array, b: Float32Array, dimension: number) => Promise<Float32Array>;

/** Maps unit vectors into another metric space (e.g. a collection's whitening), many at a time. */
export type Projection = (vectors: readonly Float32Array[]) => Promise<Float32Array[]>;

/** Scales v to unit L2 norm in place and returns it; a zero vector stays zero (no NaN). */
export function l2normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  if (sum > 0 && Number.isFinite(sum)) {
    const scale = 1 / Math.sqrt(sum);
    for (let i = 0; i < v.length; i++) v[i]! *= scale;
  }
  return v;
}

export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) {
    throw new LookalikeError("internal", `Cannot take the dot product of vectors of length ${a.length} and ${b.length}.`);
  }
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/**
 * The dot product of each of `rows` with `other`, into `out` (returned). Four rows share one pass
 * over `other`, each with its own sum taken in `dot`'s order, so every value equals `dot`'s;
 * about 1.8× faster than one row at a time (a query's parts against every candidate's).
 */
export function dotsWith(rows: readonly Float32Array[], other: Float32Array, out = new Float64Array(rows.length)): Float64Array {
  const length = other.length;
  for (const row of rows) {
    if (row.length !== length) {
      throw new LookalikeError("internal", `Cannot take the dot product of vectors of length ${row.length} and ${length}.`);
    }
  }
  let r = 0;
  for (; r + 4 <= rows.length; r += 4) {
    const a = rows[r]!;
    const b = rows[r + 1]!;
    const c = rows[r + 2]!;
    const d = rows[r + 3]!;
    let sa = 0;
    let sb = 0;
    let sc = 0;
    let sd = 0;
    for (let i = 0; i < length; i++) {
      const x = other[i]!;
      sa += a[i]! * x;
      sb += b[i]! * x;
      sc += c[i]! * x;
      sd += d[i]! * x;
    }
    out[r] = sa;
    out[r + 1] = sb;
    out[r + 2] = sc;
    out[r + 3] = sd;
  }
  for (; r < rows.length; r++) out[r] = dot(rows[r]!, other);
  return out;
}

/** The vector at unit length: itself when it already is (within float32 rounding), else a normalised copy. */
export function unit(vector: Float32Array): Float32Array {
  return Math.abs(dot(vector, vector) - 1) <= UNIT_TOLERANCE ? vector : l2normalize(Float32Array.from(vector));
}

/** How far from 1 a squared length may be and still count as unit (float32 rounding of a normalised vector). */
const UNIT_TOLERANCE = 1e-5;

/** Cosine similarity of any two vectors (not only unit ones); 0 when either is the zero vector. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
