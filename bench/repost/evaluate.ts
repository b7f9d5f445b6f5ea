/**
 * The repost benchmark in memory: every contender's best match per query, its threshold at each
 * sensitivity level (chosen on the calibration half), its outcome on both halves; and the fused
 * verdict's evidence and calibrated thresholds. Memoised per process, because the quality
 * section's peer tests reuse the operating points.
 */
import { DEFAULT_POOLING } from "../../src/retrieval/descriptor.ts";
import { DEFAULT_MODEL_ID, getModel } from "../../src/retrieval/models.ts";
import type { RepostThresholds } from "../../src/retrieval/reposts.ts";
import { loadClassifier } from "../contenders/cam.ts";
import { learnProjection } from "../contenders/learned.ts";
import { contenders, type Family } from "../contenders/registry.ts";
import { describeCollection, type DescribedCollection } from "../lib/collection.ts";
import { LIBRARY_POOLINGS } from "../lib/descriptors.ts";
import { itemKey } from "../lib/datasets.ts";
import { FeatureCache, RESIZE_MODES, type ResizeMode } from "../lib/feature-cache.ts";
import { modelsDir } from "../lib/paths.ts";
import { topK, type Ranked } from "../lib/ranking.ts";
import { isRefusal, signalsOf, type Signals } from "../lib/signals.ts";
import { calibrateExact, calibrateNear, ceil3, judgeEvidence, isRepost, scoreThreshold, SAME_PICTURE } from "./calibrate.ts";
import { buildCorpus, type RepostCorpus } from "./corpus.ts";
import { gatherEvidence, type Candidate } from "./evidence.ts";
import { BUDGET, LEVELS, summarize, type Level, type Outcome } from "./outcomes.ts";

export interface ContenderResult {
  readonly name: string;
  readonly family: Family;
  readonly shipped: boolean;
  /** Per level: flag "score > threshold" (for hashes the score is −distance). */
  readonly thresholds: Record<Level, number>;
  readonly test: Outcome;
  readonly calibration: Outcome;
  readonly seconds: number;
}

export interface FusedLevel {
  readonly thresholds: RepostThresholds;
  readonly test: Outcome;
  readonly calibration: Outcome;
}

export interface RepostEvaluation {
  readonly corpus: RepostCorpus;
  readonly storedSignals: Signals[];
  readonly querySignals: Signals[];
  readonly expectedRows: (number | null)[];
  readonly skip: Set<number>[];
  readonly shippedMode: ResizeMode;
  readonly shipped: DescribedCollection;
  readonly results: ContenderResult[];
  readonly fused: Record<Level, FusedLevel>;
  readonly evidence: Candidate[][];
  readonly learnedNote: string;
}

const memo = new Map<boolean, Promise<RepostEvaluation>>();

export function evaluateReposts(quick: boolean, log: (line: string) => void): Promise<RepostEvaluation> {
  let result = memo.get(quick);
  if (!result) memo.set(quick, (result = run(quick, log)));
  return result;
}

function signalsOrThrow(results: Awaited<ReturnType<typeof signalsOf>>, what: string): Signals[] {
  return results.map((s, i) => {
    if (isRefusal(s)) throw new Error(`${what} ${i} could not be read: ${s.error}`);
    return s;
  });
}

async function run(quick: boolean, log: (line: string) => void): Promise<RepostEvaluation> {
  const corpus = await buildCorpus(quick, log);
  const { indexed, queries } = corpus;
  log(`  repost corpus: ${Object.entries(corpus.counts).map(([k, v]) => `${v} ${k}`).join(", ")}`);
  const storedSignals = signalsOrThrow(await signalsOf(indexed), "indexed image");
  const querySignals = signalsOrThrow(await signalsOf(queries.map((q) => q.item)), "query");
  const row = new Map(indexed.map((item, i) => [itemKey(item), i]));
  const expectedRows = queries.map((q) => (q.expected === null ? null : row.get(q.expected)!));
  const skip = queries.map((q) => new Set(q.excluded.map((k) => row.get(k)).filter((r): r is number => r !== undefined)));
  const self = queries.map((q) => (q.kind === "non-repost" ? row.get(itemKey(q.item)) : undefined));

  const cache = new FeatureCache(log);
  const model = getModel(DEFAULT_MODEL_ID);
  const shippedMode = model.input.resize;
  const classifier = loadClassifier(model, modelsDir);
  const described = new Map<ResizeMode, DescribedCollection>();
  for (const mode of [shippedMode, ...RESIZE_MODES.filter((m) => m !== shippedMode)]) {
    log(`  descriptors, resize "${mode}"`);
    described.set(
      mode,
      await describeCollection(cache, classifier, {
        stored: indexed,
        queries: queries.map((q) => q.item),
        mode,
        flip: true,
        descriptors: mode === shippedMode ? undefined : LIBRARY_POOLINGS,
      }),
    );
  }
  const shipped = described.get(shippedMode)!;
  let learnedNote = "";
  const learned = async () => {
    const projection = await learnProjection(cache, indexed, shipped.stored.matrices.get(DEFAULT_POOLING)!, shippedMode, quick);
    learnedNote = `trained on ${projection.pairs} pairs of indexed images and their augmented views; triplet loss ${projection.lossFirst.toFixed(3)} → ${projection.lossLast.toFixed(3)}`;
    return projection;
  };
  let learnedOnce: ReturnType<typeof learned> | undefined;

  const results: ContenderResult[] = [];
  const list = contenders({
    storedSignals,
    querySignals,
    described,
    shippedMode,
    self,
    skip,
    learned: () => (learnedOnce ??= learned()),
  });
  for (const contender of list) {
    const started = Date.now();
    const scorer = await contender.make();
    const best: Ranked[] = new Array(queries.length);
    await scorer.visit((sim, first) => {
      for (let r = 0; r < sim.rows; r++) best[first + r] = topK(sim, r, 1, (j) => skip[first + r]!.has(j))[0] ?? { index: -1, score: -Infinity };
    });
    const negatives = (half: "calibration") =>
      queries.flatMap((q, i) => (q.expected === null && q.half === half ? [best[i]!.score] : []));
    const calibrationNegatives = negatives("calibration");
    const thresholds = Object.fromEntries(
      LEVELS.map((level) => [level, scoreThreshold(calibrationNegatives, BUDGET[level].calibration)]),
    ) as Record<Level, number>;
    const decisions = best.map((b) => ({ repost: b.score > thresholds.balanced, index: b.index }));
    results.push({
      name: contender.name,
      family: contender.family,
      shipped: contender.shipped === true,
      thresholds,
      test: summarize(queries, expectedRows, decisions, "test"),
      calibration: summarize(queries, expectedRows, decisions, "calibration"),
      seconds: (Date.now() - started) / 1000,
    });
    log(`  ${contender.name}: mild ${results.at(-1)!.test.recall.mild.toFixed(3)}, strong ${results.at(-1)!.test.recall.strong.toFixed(3)} (${results.at(-1)!.seconds.toFixed(1)} s)`);
  }
  await cache.close();

  log("  fused verdict: gathering evidence and calibrating");
  const evidence = await gatherEvidence(
    shipped.stored.matrices.get(DEFAULT_POOLING)!,
    storedSignals,
    shipped.queries.matrices.get(DEFAULT_POOLING)!,
    shipped.mirrored!.matrices.get(DEFAULT_POOLING)!,
    querySignals,
    skip,
  );
  const fused = calibrateFused(corpus, evidence, expectedRows);
  return { corpus, storedSignals, querySignals, expectedRows, skip, shippedMode, shipped, results, fused, evidence, learnedNote };
}

function calibrateFused(corpus: RepostCorpus, evidence: Candidate[][], expectedRows: (number | null)[]): Record<Level, FusedLevel> {
  const { queries } = corpus;
  const calibrationIndices = queries.map((_, i) => i).filter((i) => queries[i]!.half === "calibration");
  const labelled = calibrationIndices.map((i) => ({ expected: expectedRows[i]!, transform: queries[i]!.transform }));
  const calibrationEvidence = calibrationIndices.map((i) => evidence[i]!);
  const exact = calibrateExact(calibrationEvidence, labelled);
  // "similar" is a hint, not an alarm: the cosine that one in ten new, unrelated posts reaches.
  const negativeBest = calibrationIndices
    .filter((i) => queries[i]!.expected === null)
    .map((i) => Math.max(-1, ...evidence[i]!.map((c) => c.score)));
  const similarMinCosine = ceil3(scoreThreshold(negativeBest, 0.1));
  return Object.fromEntries(
    LEVELS.map((level) => {
      const thresholds = calibrateNear(calibrationEvidence, labelled, exact, BUDGET[level].calibration, similarMinCosine);
      return [level, { thresholds, ...fusedOutcomes(corpus, evidence, expectedRows, thresholds) }];
    }),
  ) as Record<Level, FusedLevel>;
}

/** The fused verdict's outcome on both halves for given thresholds (in memory, = the engine's judge). */
export function fusedOutcomes(corpus: RepostCorpus, evidence: Candidate[][], expectedRows: (number | null)[], thresholds: RepostThresholds) {
  const decisions = evidence.map((candidates) => {
    const { verdict, index } = judgeEvidence(candidates, thresholds);
    return { repost: isRepost(verdict), index, exact: verdict === "exact" };
  });
  return {
    test: summarize(corpus.queries, expectedRows, decisions, "test", SAME_PICTURE),
    calibration: summarize(corpus.queries, expectedRows, decisions, "calibration", SAME_PICTURE),
  };
}
