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
import { LookalikeEngine, type AnalyzedImage } from "../../src/retrieval/engine.ts";
import type { RepostThresholds, RepostVerdict } from "../../src/retrieval/reposts.ts";
import { mapLimit } from "../lib/concurrency.ts";
import { itemKey, type ImageItem } from "../lib/datasets.ts";
import { rowOf, type Matrix } from "../lib/matrix.ts";
import { modelsDir } from "../lib/paths.ts";
import type { Signals } from "../lib/signals.ts";

export interface Fingerprinted {
  readonly item: ImageItem;
  readonly signals: Signals;
  readonly vector: Float32Array;
  readonly flippedVector?: Float32Array;
}

export interface EngineQuery extends Fingerprinted {
  readonly excluded: readonly string[];
}

const COLLECTION = "bench";

const analyzed = (f: Fingerprinted): AnalyzedImage => ({
  vector: f.vector,
  flippedVector: f.flippedVector,
  phash: f.signals.phash,
  dhash: f.signals.dhash,
  width: f.signals.width,
  height: f.signals.height,
});

/** Fingerprints of `items` from descriptor rows (shipped pooling and resize mode) and their signals. */
export function fingerprints(items: readonly ImageItem[], signals: readonly Signals[], vectors: Matrix, mirrored?: Matrix): Fingerprinted[] {
  return items.map((item, i) => ({
    item,
    signals: signals[i]!,
    vector: Float32Array.from(rowOf(vectors, i)),
    flippedVector: mirrored ? Float32Array.from(rowOf(mirrored, i)) : undefined,
  }));
}

/** Largest difference between engine.analyze's fingerprint and ours, over the given images. */
async function spotCheck(engine: LookalikeEngine, samples: readonly Fingerprinted[]): Promise<string> {
  let worst = 0;
  for (const s of samples) {
    const real = await engine.analyze(s.item.file, { flipped: true });
    if (real.phash !== s.signals.phash || real.dhash !== s.signals.dhash) throw new Error(`hash mismatch for ${itemKey(s.item)}`);
    for (const [a, b] of [[real.vector, s.vector], [real.flippedVector, s.flippedVector]] as const) {
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
  readonly indexSeconds: number;
  readonly querySeconds: number;
}

export async function runEngine(
  stored: readonly Fingerprinted[],
  queries: readonly EngineQuery[],
  options: { thresholds?: RepostThresholds; log: (line: string) => void },
): Promise<EngineRun> {
  const dbDir = await mkdtemp(path.join(tmpdir(), "lookalike-bench-"));
  const engine = await LookalikeEngine.open({ dbDir, modelsDir, download: false });
  try {
    const check = await spotCheck(engine, [...stored.slice(0, 2), ...queries.filter((q) => q.flippedVector).slice(0, 3)]);
    let started = Date.now();
    for (let i = 0; i < stored.length; i += 1000) {
      const batch = stored.slice(i, i + 1000);
      await engine.add(COLLECTION, batch.map((s) => ({ image: analyzed(s), meta: { id: itemKey(s.item), source: s.item.file } })));
    }
    const indexSeconds = (Date.now() - started) / 1000;
    options.log(`  engine: indexed ${stored.length} images in ${indexSeconds.toFixed(0)} s`);
    started = Date.now();
    const verdicts: RepostVerdict[] = new Array(queries.length);
    await mapLimit(queries, 8, async (q, i) => {
      verdicts[i] = await engine.checkRepost(analyzed(q), { collection: COLLECTION, excludeIds: q.excluded, thresholds: options.thresholds });
    });
    const querySeconds = (Date.now() - started) / 1000;
    options.log(`  engine: ${queries.length} checkRepost calls in ${querySeconds.toFixed(0)} s`);
    return { verdicts, check, indexSeconds, querySeconds };
  } finally {
    await engine.close();
    await rm(dbDir, { recursive: true, force: true });
  }
}
