/**
 * Contender 1, the seed demo's method, reimplemented: one 256-bin histogram per RGB channel,
 * compared by Pearson correlation (OpenCV's HISTCMP_CORREL, averaged over the three channels),
 * a linear scan over every stored histogram, and the top K kept by insertion into a sorted list
 * (bench/lib/ranking.ts's topK is exactly that scan; the seed's scores are fed to it row by row).
 *
 * The only liberty taken is arithmetic: each histogram is centred and scaled to unit norm once, so
 * the correlation of two histograms is a dot product (the same number as the textbook formula).
 */
import type { DecodedImage } from "../../src/retrieval/image.ts";

export const HISTOGRAM_BINS = 256;

/** Per channel: bin counts, centred on their mean and scaled to unit length (zero if flat). */
export function colourHistogram(image: DecodedImage): Float32Array {
  const out = new Float32Array(3 * HISTOGRAM_BINS);
  const { pixels } = image;
  for (let i = 0; i < pixels.length; i += 3) {
    out[pixels[i]!]!++;
    out[HISTOGRAM_BINS + pixels[i + 1]!]!++;
    out[2 * HISTOGRAM_BINS + pixels[i + 2]!]!++;
  }
  for (let c = 0; c < 3; c++) {
    const channel = out.subarray(c * HISTOGRAM_BINS, (c + 1) * HISTOGRAM_BINS);
    let mean = 0;
    for (const v of channel) mean += v;
    mean /= HISTOGRAM_BINS;
    let norm = 0;
    for (let i = 0; i < HISTOGRAM_BINS; i++) {
      channel[i]! -= mean;
      norm += channel[i]! * channel[i]!;
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let i = 0; i < HISTOGRAM_BINS; i++) channel[i]! *= scale;
  }
  return out;
}

/** Mean Pearson correlation of the three channel histograms, in [-1, 1]. */
export function histogramCorrelation(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum / 3;
}
