/**
 * Re-ranking by neighbourhood averaging, the two standard diffusion-free variants
 * (Radenović, Tolias & Chum, "Fine-tuning CNN image retrieval with no human annotation", TPAMI 2018):
 *
 * - α-query expansion (αQE): search once, replace the query by a weighted mean of itself and its
 *   top-k results (weights = similarity^α), search again. Pulls in views of the same object the
 *   query alone misses; costs one more search.
 * - Database-side augmentation (DBA): the same averaging applied to every stored vector once, with
 *   its own top-k neighbours, so each stored vector also "knows" its near copies.
 *
 * Benchmark contenders: the shipped configuration does not re-rank (bench/RESULTS.md compares
 * them). Pure functions over vectors the caller already holds; the neighbour search itself is the
 * caller's (a matrix product, bench/lib/vectors.ts). `nearestNeighbours` is a plain O(n²·d) scan
 * for small collections and tests.
 */
import { LookalikeError } from "../../src/retrieval/errors.ts";
import { dot, l2normalize } from "../../src/retrieval/vectors.ts";

export interface Neighbour {
  /** Position of the neighbour in the caller's vector list. */
  readonly index: number;
  /** Its cosine similarity with the vector being expanded. */
  readonly score: number;
}

export interface ExpansionOptions {
  /** Neighbours averaged in (not counting the vector itself). */
  readonly k: number;
  /** Weight exponent: neighbour i counts max(score_i, 0)^α; α = 0 is plain average QE. */
  readonly alpha: number;
}

export const DEFAULT_QUERY_EXPANSION: ExpansionOptions = { k: 2, alpha: 3 };
export const DEFAULT_DATABASE_AUGMENTATION: ExpansionOptions = { k: 2, alpha: 3 };

/**
 * normalize(v + Σ_{i<k} max(sᵢ,0)^α · xᵢ): the vector itself has weight 1 (its similarity to
 * itself). `neighbours` must be sorted by score, best first, and must not contain `v` itself.
 */
export function expand(
  v: Float32Array,
  neighbours: readonly { readonly vector: Float32Array; readonly score: number }[],
  options: ExpansionOptions,
): Float32Array {
  checkOptions(options);
  const out = Float32Array.from(v);
  for (const { vector, score } of neighbours.slice(0, options.k)) {
    if (vector.length !== v.length) {
      throw new LookalikeError("internal", `Cannot expand a ${v.length}-d vector with a ${vector.length}-d neighbour.`);
    }
    const weight = Math.max(score, 0) ** options.alpha;
    if (weight === 0) continue;
    for (let i = 0; i < out.length; i++) out[i]! += weight * vector[i]!;
  }
  return l2normalize(out);
}

/** αQE: the expanded query, from the first search's results (best first). */
export function alphaQueryExpansion(
  query: Float32Array,
  results: readonly { readonly vector: Float32Array; readonly score: number }[],
  options: ExpansionOptions = DEFAULT_QUERY_EXPANSION,
): Float32Array {
  return expand(query, results, options);
}

/**
 * DBA: every vector expanded with its own neighbours. `neighbours[i]` lists vector i's nearest
 * others (best first, never i itself). Expansion uses the original vectors, never already
 * augmented ones, so the result does not depend on the order of the list.
 */
export function augmentDatabase(
  vectors: readonly Float32Array[],
  neighbours: readonly (readonly Neighbour[])[],
  options: ExpansionOptions = DEFAULT_DATABASE_AUGMENTATION,
): Float32Array[] {
  if (neighbours.length !== vectors.length) {
    throw new LookalikeError("internal", `DBA needs a neighbour list per vector (${vectors.length}), got ${neighbours.length}.`);
  }
  return vectors.map((v, i) =>
    expand(
      v,
      neighbours[i]!.map(({ index, score }) => {
        if (index === i) throw new LookalikeError("internal", `Vector ${i} is listed as its own neighbour.`);
        return { vector: vectors[index]!, score };
      }),
      options,
    ),
  );
}

/** Each vector's k most similar others by dot product (cosine for unit vectors), best first. */
export function nearestNeighbours(vectors: readonly Float32Array[], k: number): Neighbour[][] {
  return vectors.map((v, i) => {
    const best: Neighbour[] = [];
    vectors.forEach((other, index) => {
      if (index === i) return;
      const score = dot(v, other);
      if (best.length === k && score <= best[k - 1]!.score) return;
      let at = best.length;
      while (at > 0 && best[at - 1]!.score < score) at--;
      best.splice(at, 0, { index, score });
      if (best.length > k) best.pop();
    });
    return best;
  });
}

function checkOptions({ k, alpha }: ExpansionOptions): void {
  if (!Number.isInteger(k) || k < 0 || !(alpha >= 0)) {
    throw new LookalikeError("internal", "Expansion needs an integer k ≥ 0 and α ≥ 0.", { k, alpha });
  }
}
