/**
 * The peer projects' fixtures as small regression suites: imagededup's ukbench00120 copies (hflip,
 * resize, rotation, grey) and its corrupt file, and AugLy's 42 social-media transforms of dfdc_1.
 * The fixtures are indexed among distractors (their own other images, the museum paintings, flowers);
 * each copy should come back first, and get a repost verdict at the contender's balanced threshold
 * from the repost benchmark. The shipped verdict comes from the engine itself.
 */
import { DEFAULT_POOLING } from "../../src/retrieval/descriptor.ts";
import { isLookalikeError } from "../../src/retrieval/errors.ts";
import { decodeImage } from "../../src/retrieval/image.ts";
import type { Verdict } from "../../src/retrieval/reposts.ts";
import type { Classifier } from "../contenders/cam.ts";
import { contenders } from "../contenders/registry.ts";
import { augly, flowers, type ImageItem, imagededup, itemKey, museum, QUICK_SALT, sample } from "../lib/datasets.ts";
import type { FeatureCache } from "../lib/feature-cache.ts";
import { topK } from "../lib/ranking.ts";
import { fingerprints, runEngine } from "../repost/engine-run.ts";
import type { ContenderResult } from "../repost/evaluate.ts";
import { qualityInput } from "./input.ts";

export interface PeerQuery {
  readonly suite: "imagededup" | "augly";
  readonly name: string;
  /** Rejected by the intake (the corrupt file), with the error code. */
  readonly rejected?: string;
}

export interface PeerContender {
  readonly name: string;
  readonly shipped: boolean;
  /** Per query (rejected ones: undefined): first result right, and repost verdict naming it. */
  readonly outcomes: ({ top1: boolean; repost: boolean } | undefined)[];
}

export interface PeerResult {
  readonly queries: PeerQuery[];
  readonly engine: ({ verdict: Verdict; right: boolean } | undefined)[];
  readonly contenders: PeerContender[];
  readonly stored: number;
}

const shortName = (item: ImageItem) =>
  item.id
    .replace(/^.*\//, "")
    .replace(/\.jpg$/, "")
    .replace(/^test_/, "");

async function rejection(item: ImageItem): Promise<string | undefined> {
  try {
    await decodeImage(item.file);
    return undefined;
  } catch (error) {
    if (isLookalikeError(error)) return error.code;
    throw error; // anything else would be a crash: let the benchmark fail loudly
  }
}

export async function peerTests(
  cache: FeatureCache,
  classifier: Classifier,
  repostResults: readonly ContenderResult[],
  quick: boolean,
  log: (line: string) => void,
): Promise<PeerResult> {
  const dedup = await imagededup();
  const aug = await augly();
  // The quick slice: every imagededup copy but 12 of AugLy's 42 transforms, and 12 paintings and
  // 12 flowers as distractors instead of all 287 and 300.
  const augTransformed = quick ? sample(aug.transformed, 12, QUICK_SALT) : aug.transformed;
  const paintings = (await museum()).db;
  const distractors = quick
    ? [...sample(paintings, 12, QUICK_SALT), ...sample(await flowers(), 12, QUICK_SALT)]
    : [...paintings, ...sample(await flowers(), 300, "peer-tests")];
  const stored = [aug.original, ...aug.others, ...dedup.base, ...distractors];
  const expectedOf = (item: ImageItem) => (item.dataset === "augly" ? itemKey(aug.original) : `imagededup:base_images/${item.label}.jpg`);
  const all = [
    ...dedup.mixed.map((item) => ({ item, suite: "imagededup" as const })),
    ...augTransformed.map((item) => ({ item, suite: "augly" as const })),
  ];
  const rejected = await Promise.all(all.map(({ item }) => rejection(item)));
  const readable = all.filter((_, i) => !rejected[i]);
  const queries: PeerQuery[] = all.map(({ item, suite }, i) => ({ suite, name: shortName(item), rejected: rejected[i] }));

  const { input } = await qualityInput(cache, classifier, { stored, queries: readable.map((q) => q.item), compareModes: false, quick });
  const row = new Map(stored.map((item, i) => [itemKey(item), i]));
  const expectedRows = readable.map(({ item }) => row.get(expectedOf(item))!);
  const thresholdOf = new Map(repostResults.map((r) => [r.name, r.thresholds.balanced]));
  // Maps readable-query positions back to positions in `all` (the corrupt file has no row).
  const positions = all.map((_, i) => i).filter((i) => !rejected[i]);
  const spread = <T>(values: T[]): (T | undefined)[] => {
    const out: (T | undefined)[] = all.map(() => undefined);
    positions.forEach((p, k) => {
      out[p] = values[k];
    });
    return out;
  };

  const results: PeerContender[] = [];
  for (const c of contenders(input)) {
    if (c.family === "learned") continue; // trained per collection: this index is a fixture, not a collection
    const threshold = thresholdOf.get(c.name) ?? Infinity;
    const outcomes: { top1: boolean; repost: boolean }[] = [];
    await (await c.make()).visit((sim, first) => {
      for (let r = 0; r < sim.rows; r++) {
        const best = topK(sim, r, 1)[0]!;
        const top1 = best.index === expectedRows[first + r];
        outcomes.push({ top1, repost: top1 && best.score > threshold });
      }
    });
    results.push({ name: c.name, shipped: c.shipped === true, outcomes: spread(outcomes) });
  }

  const shipped = input.described.get(input.shippedMode)!;
  // The queries go through engine.analyze (all its views), the stored images come from the cache.
  const run = await runEngine(
    fingerprints(stored, input.storedSignals, { vector: shipped.stored.matrices.get(DEFAULT_POOLING)! }),
    fingerprints(
      readable.map((q) => q.item),
      input.querySignals,
      { vector: shipped.queries.matrices.get(DEFAULT_POOLING)! },
    ).map((f) => ({ ...f, excluded: [] })),
    { log, analyzeQueries: true },
  );
  const engine = spread(
    run.verdicts.map((v, k) => ({ verdict: v.verdict, right: v.match !== null && row.get(v.match.id) === expectedRows[k] })),
  );
  log(`  peer tests: ${all.length} queries (${rejected.filter(Boolean).length} rejected by the intake)`);
  return { queries, engine, contenders: results, stored: stored.length };
}
