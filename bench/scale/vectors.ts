/**
 * The vectors of the scale section: real embeddings (the shipped model and pooling) of a few hundred
 * real images as the centres of the synthetic rows (bench/speed/synthetic.ts: each row is a noisy
 * copy of a centre, so the table keeps the cluster structure of real embeddings that IVF partitions
 * and their probe counts depend on), and real query images embedded the same way.
 */
import path from "node:path";
import { mapOrdered } from "../../src/cli/concurrency.ts";
import { LocalAnalyzer, vectorSpace } from "../../src/retrieval/analyzer.ts";
import type { VectorSpace } from "../../src/retrieval/store/schema.ts";
import { DATASETS, flowers, MODELS_DIR, museumDb, museumQueries, photoPool, spread } from "../speed/datasets.ts";

export interface ScaleVectors {
  /** The shipped model's vector space (the bot's collections are created in it). */
  readonly space: VectorSpace;
  readonly centres: readonly Float32Array[];
  readonly queries: readonly Float32Array[];
  /**
   * What the centres were made from (model, descriptor, files): the cache key of a generated
   * database, rather than the vectors' bytes, which may differ in the last bit between runs.
   */
  readonly source: string;
  readonly seconds: number;
}

export async function embedScaleVectors(quick: boolean, log: (line: string) => void): Promise<ScaleVectors> {
  const [photos, museum, flower, museumQ] = await Promise.all([photoPool(), museumDb(), flowers(), museumQueries()]);
  const flowerSample = spread(flower, quick ? 80 : 400);
  // Every other flower sampled is a centre, the others are held-out "new image" queries; the museum
  // query photos are re-photographs of paintings among the centres ("repost" queries).
  const centreFiles = [
    ...(quick ? [] : photos),
    ...spread(museum, quick ? 60 : museum.length),
    ...flowerSample.filter((_, i) => i % 2 === 0),
  ];
  const queryCount = quick ? 10 : 20;
  const queryFiles = [
    ...spread(museumQ, queryCount),
    ...spread(
      flowerSample.filter((_, i) => i % 2 === 1),
      queryCount,
    ),
  ];
  const space = vectorSpace({});
  log(`scale: embedding ${centreFiles.length} centre and ${queryFiles.length} query images (${space.model}, ${space.descriptor})`);
  const started = performance.now();
  const analyzer = await LocalAnalyzer.open({ modelsDir: MODELS_DIR, download: false });
  const vectors: Float32Array[] = [];
  try {
    await mapOrdered(
      [...centreFiles, ...queryFiles],
      32,
      (file) => analyzer.analyze(file),
      (image) => void vectors.push(image.vector),
    );
  } finally {
    await analyzer.close();
  }
  return {
    space,
    centres: vectors.slice(0, centreFiles.length),
    queries: vectors.slice(centreFiles.length),
    source: JSON.stringify({ space, centres: centreFiles.map((file) => path.relative(DATASETS, file)) }),
    seconds: (performance.now() - started) / 1000,
  };
}
