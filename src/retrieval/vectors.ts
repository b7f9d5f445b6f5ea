/**
 * Vector maths shared by pooling, whitening, the store's exact re-scoring and the repost verdicts.
 * Pure functions: no I/O.
 */
import { LookalikeError } from "./errors.ts";

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
