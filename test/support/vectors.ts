/** Deterministic synthetic unit vectors for storage tests (the real model is tested elsewhere). */
export { seededRandom } from "../../bench/lib/random.ts";

export function randomUnitVector(dimension: number, random: () => number): Float32Array {
  const v = new Float32Array(dimension);
  let norm = 0;
  for (let i = 0; i < dimension; i++) {
    v[i] = random() * 2 - 1;
    norm += v[i]! * v[i]!;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimension; i++) v[i]! *= scale;
  return v;
}

/** `base` nudged by noise of the given size, renormalised: a near-duplicate's vector. */
export function nearby(base: Float32Array, noise: number, random: () => number): Float32Array {
  const v = Float32Array.from(base, (x) => x + (random() * 2 - 1) * noise);
  let norm = 0;
  for (const x of v) norm += x * x;
  return v.map((x) => x / Math.sqrt(norm));
}
