/**
 * PWA, part-based weighting aggregation (Xu, Wang, Wang, Qi & Qian, "Unsupervised Part-based
 * Weighting Aggregation of Deep Convolutional Features for Image Retrieval", AAAI 2018): some conv
 * channels fire on consistent object parts, so each of a few selected channels is used as a
 * spatial weighting of the whole map; the weighted sums ("part vectors") are concatenated.
 *
 * Channels are selected without labels, as in the paper: the ones whose average activation varies
 * most across the indexed collection (a channel that is always on or always off tells images
 * apart poorly). Weights follow the paper's power normalisation (α = 2, β = 2, as CroW).
 * Each part vector is L2-normalised before concatenation so every part has an equal say.
 */
import type { FeatureMap } from "../../src/retrieval/pooling.ts";
import { l2normalize } from "../../src/retrieval/vectors.ts";

/** Parts kept. The paper used up to 25 on VGG16; 4 keeps 4 × 1280 = 5,120 dimensions affordable here. */
export const PWA_PARTS = 4;

/** The `parts` channels with the largest variance of their spatial mean over `averages` (images × channels). */
export function selectPartChannels(averages: readonly Float32Array[], parts = PWA_PARTS): number[] {
  const channels = averages[0]!.length;
  const mean = new Float64Array(channels);
  const square = new Float64Array(channels);
  for (const a of averages) {
    for (let k = 0; k < channels; k++) {
      mean[k]! += a[k]!;
      square[k]! += a[k]! * a[k]!;
    }
  }
  const variance = Array.from({ length: channels }, (_, k) => square[k]! / averages.length - (mean[k]! / averages.length) ** 2);
  return variance
    .map((v, k) => ({ v, k }))
    .sort((a, b) => b.v - a.v || a.k - b.k)
    .slice(0, parts)
    .map((x) => x.k);
}

/** The concatenated, L2-normalised part vectors (parts × channels values). */
export function partWeighted(map: FeatureMap, partChannels: readonly number[]): Float32Array {
  const plane = map.height * map.width;
  const out = new Float32Array(partChannels.length * map.channels);
  const weight = new Float64Array(plane);
  partChannels.forEach((detector, p) => {
    let norm = 0;
    for (let i = 0; i < plane; i++) norm += map.data[detector * plane + i]! ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < plane; i++) weight[i] = norm > 0 ? Math.sqrt(Math.max(0, map.data[detector * plane + i]!) / norm) : 0;
    const part = out.subarray(p * map.channels, (p + 1) * map.channels);
    for (let k = 0; k < map.channels; k++) {
      let sum = 0;
      for (let i = 0; i < plane; i++) sum += weight[i]! * map.data[k * plane + i]!;
      part[k] = sum;
    }
    l2normalize(part);
  });
  return l2normalize(out);
}
