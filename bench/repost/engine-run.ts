/**
 * Contender 5, the shipped product: the repost verdicts of `LookalikeEngine.checkRepost` over a
 * real LanceDB collection in a temp directory, with the engine's default thresholds. Only the model
 * run is taken from the cache: each image's fingerprint is assembled from its cached feature maps by
 * the same descriptor and hash code `Fingerprinter` uses, and a spot check first proves that
 * `engine.analyze` produces the identical fingerprint for a few of the images.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type AnalyzedImage, LookalikeEngine } from "../../src/retrieval/engine.ts";
import type { DecisionSpace, RepostVerdict } from "../../src/retrieval/reposts.ts";
import { DEFAULT_INDEX_POLICY } from "../../src/retrieval/store/index-policy.ts";
import type { RepostCalibration } from "../../src/retrieval/thresholds.ts";
import { mapLimit } from "../lib/concurrency.ts";
import { type ImageItem, itemKey } from "../lib/datasets.ts";
import { modelsDir } from "../lib/paths.ts";
import type { Signals } from "../lib/signals.ts";
import { fingerprintOf, type QueryRows } from "./evidence.ts";

export interface Fingerprinted {
  readonly item: ImageItem;
  readonly signals: Signals;
  readonly vector: Float32Array;
  readonly flippedVector?: Float32Array;
  readonly centreVector?: Float32Array;
  readonly centreFlippedVector?: Float32Array;
}

export interface EngineQuery extends Fingerprinted {
  readonly excluded: readonly string[];
}

const COLLECTION = "bench";

const analyzed = (f: Fingerprinted): AnalyzedImage => ({
  vector: f.vector,
  flippedVector: f.flippedVector,
  centreVector: f.centreVector,
  centreFlippedVector: f.centreFlippedVector,
  phash: f.signals.phash,
  dhash: f.signals.dhash,
  width: f.signals.width,
  height: f.signals.height,
});

/** Fingerprints of `items` from descriptor rows (shipped pooling, every view given) and their signals. */
export function fingerprints(items: readonly ImageItem[], signals: readonly Signals[], views: QueryRows): Fingerprinted[] {
  return items.map((item, i) => {
    const { vector, flippedVector, centreVector, centreFlippedVector } = fingerprintOf(views, i, signals[i]!);
    return { item, signals: signals[i]!, vector, flippedVector, centreVector, centreFlippedVector };
  });
}

/** Largest difference between engine.analyze's fingerprint and ours, over the given images. */
async function spotCheck(engine: LookalikeEngine, samples: readonly Fingerprinted[]): Promise<string> {
  let worst = 0;
  for (const s of samples) {
    const real = await engine.analyze(s.item.file, { flipped: true, centre: true });
    if (real.phash !== s.signals.phash || real.dhash !== s.signals.dhash) throw new Error(`hash mismatch for ${itemKey(s.item)}`);
    const pairs = [
      [real.vector, s.vector],
      [real.flippedVector, s.flippedVector],
      [real.centreVector, s.centreVector],
      [real.centreFlippedVector, s.centreFlippedVector],
    ] as const;
    for (const [a, b] of pairs) {
      if (!a || !b) continue;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    }
  }
  if (worst > 1e-5) throw new Error(`cached fingerprints differ from engine.analyze by ${worst}`);
  return `engine.analyze spot check on ${samples.length} images: max |Δ| = ${worst.toExponential(1)}`;
}

export interface EngineRun {
  readonly verdicts: RepostVerdict[];
  readonly check: string;
  readonly space: DecisionSpace;
}

export async function runEngine(
  stored: readonly Fingerprinted[],
  queries: readonly EngineQuery[],
  options: {
    thresholds?: RepostCalibration;
    /** Analyse the query files with the engine itself (the product's path) instead of assembling cached rows. */
    analyzeQueries?: boolean;
    log: (line: string) => void;
  },
): Promise<EngineRun> {
  const dbDir = await mkdtemp(path.join(tmpdir(), "lookalike-bench-"));
  // No ANN index: candidates come from an exact scan, as in the in-memory evaluation, so the two
  // can be compared verdict for verdict (the index's recall is the speed section's subject).
  const indexPolicy = { ...DEFAULT_INDEX_POLICY, minRowsForIndex: Number.POSITIVE_INFINITY };
  const engine = await LookalikeEngine.open({ db: dbDir, modelsDir, download: false, indexPolicy });
  try {
    const check = await spotCheck(engine, [...stored.slice(0, 2), ...queries.filter((q) => q.centreFlippedVector).slice(0, 3)]);
    let started = Date.now();
    for (let i = 0; i < stored.length; i += 1000) {
      const batch = stored.slice(i, i + 1000);
      await engine.add(
        COLLECTION,
        batch.map((s) => ({ image: analyzed(s), meta: { id: itemKey(s.item), source: s.item.file } })),
      );
    }
    // The product's upkeep after writes: learns the collection's whitening once it is big enough.
    const { whitening } = await engine.maintain(COLLECTION);
    options.log(`  engine: indexed ${stored.length} images in ${((Date.now() - started) / 1000).toFixed(0)} s (whitening: ${whitening})`);
    started = Date.now();
    const verdicts: RepostVerdict[] = new Array(queries.length);
    await mapLimit(queries, 8, async (q, i) => {
      const image = options.analyzeQueries ? await engine.analyze(q.item.file, { flipped: true, centre: true }) : analyzed(q);
      verdicts[i] = await engine.checkRepost(image, { collection: COLLECTION, excludeIds: q.excluded, thresholds: options.thresholds });
    });
    options.log(`  engine: ${queries.length} checkRepost calls in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const spaces = [...new Set(verdicts.map((v) => v.space))].join(", ");
    return { verdicts, check: `${check}; verdicts decided in the ${spaces} space`, space: verdicts[0]?.space ?? "raw" };
  } finally {
    await engine.close();
    await rm(dbDir, { recursive: true, force: true });
  }
}
