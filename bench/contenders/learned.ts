/**
 * Trains contender 4 for one evaluation: augmented views of (a sample of) the stored images, their
 * descriptors under the shipped pooling and resize mode, then triplet training starting from the
 * PCA-whitening of the whole stored collection reduced to the same 256 dimensions.
 */
import { DEFAULT_POOLING } from "../../src/retrieval/descriptor.ts";
import { DEFAULT_WHITENING, type Whitening } from "../../src/retrieval/whitening.ts";
import { type ImageItem, sample } from "../lib/datasets.ts";
import { describe } from "../lib/descriptors.ts";
import type { FeatureCache, ResizeMode } from "../lib/feature-cache.ts";
import { type Matrix, selectRows } from "../lib/matrix.ts";
import { fitWhiteningOn } from "../lib/vectors.ts";
import { augmentedViews } from "./augment.ts";
import { trainProjection } from "./projection.ts";

export const LEARNED_DIMENSIONS = 256;

export interface LearnedProjection {
  readonly learned: Whitening;
  readonly pcaSameSize: Whitening;
  readonly pairs: number;
  readonly lossFirst: number;
  readonly lossLast: number;
}

/** At most this many training pairs: enough for 256 × 1280 weights to move, cheap to embed. */
const MAX_PAIRS = 900;
const MAX_IMAGES = 600;
/** The quick slice: enough to run every step (views, their maps, training), not to learn much. */
const QUICK = { images: 16, pairs: 16 };

export async function learnProjection(
  cache: FeatureCache,
  storedItems: readonly ImageItem[],
  stored: Matrix,
  mode: ResizeMode,
  quick: boolean,
): Promise<LearnedProjection> {
  const images = sample(storedItems, quick ? QUICK.images : MAX_IMAGES, "learned-projection");
  const views = Math.max(1, Math.floor((quick ? QUICK.pairs : MAX_PAIRS) / images.length));
  const augmented = await augmentedViews(images, views);
  const rowOfItem = new Map(storedItems.map((item, i) => [item, i]));
  const anchorRows = images.flatMap((item) => Array.from({ length: views }, () => rowOfItem.get(item)!));
  const positives = await describe(
    cache,
    augmented.flat().map((item) => ({ item, mode })),
    { descriptors: [DEFAULT_POOLING] },
  );
  const pcaSameSize = await fitWhiteningOn(stored, { ...DEFAULT_WHITENING, dimensions: LEARNED_DIMENSIONS });
  const report = await trainProjection(selectRows(stored, anchorRows), positives.matrices.get(DEFAULT_POOLING)!, pcaSameSize);
  return { learned: report.projection, pcaSameSize, pairs: anchorRows.length, lossFirst: report.lossFirst, lossLast: report.lossLast };
}
