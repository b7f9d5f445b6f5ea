/**
 * The repost benchmark in memory: every contender's best match per query, its threshold at each
 * sensitivity level (chosen on the calibration half), its outcome on both halves; and the fused
 * verdict's evidence and calibrated thresholds. Memoised per process, because the quality
 * section's peer tests reuse the operating points.
 */
import { DEFAULT_POOLING } from "../../src/retrieval/descriptor.ts";
import { DEFAULT_MODEL_ID, getModel } from "../../src/retrieval/models.ts";
import type { DecisionSpace, RepostThresholds } from "../../src/retrieval/reposts.ts";
import { DEFAULT_WHITENING_POLICY } from "../../src/retrieval/whitening/maintainer.ts";
import { loadClassifier } from "../contenders/cam.ts";
import { learnProjection } from "../contenders/learned.ts";
import { contenders, type Family } from "../contenders/registry.ts";
import { type DescribedCollection, describeCollection } from "../lib/collection.ts";
import { itemKey } from "../lib/datasets.ts";
import { LIBRARY_POOLINGS } from "../lib/descriptors.ts";
import { FeatureCache, RESIZE_MODES, type ResizeMode } from "../lib/feature-cache.ts";
import type { Matrix } from "../lib/matrix.ts";
import { modelsDir } from "../lib/paths.ts";
import { type Ranked, topK } from "../lib/ranking.ts";
import { isRefusal, type Signals, signalsOf } from "../lib/signals.ts";
import { fitWhiteningOn, whitenRows } from "../lib/vectors.ts";
import { calibrateExact, calibrateNear, ceil3, isRepost, judgeEvidence, SAME_PICTURE, scoreThreshold } from "./calibrate.ts";
import { buildCorpus, type RepostCorpus } from "./corpus.ts";
import { type Candidate, gatherEvidence, type QueryRows, type WhitenedRows } from "./evidence.ts";
import { BUDGET, LEVELS, type Level, type Outcome, summarize } from "./outcomes.ts";

export interface ContenderResult {
  readonly name: string;
  readonly family: Family;
  readonly shipped: boolean;
  /** Per level: flag "score > threshold" (for hashes the score is −distance). */
  readonly thresholds: Record<Level, number>;
  readonly test: Outcome;
  readonly calibration: Outcome;
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
  /** The fused verdict calibrated in each decision space (plain cosine; the collection's whitening). */
  readonly fused: Record<DecisionSpace, Record<Level, FusedLevel>>;
  readonly evidence: Record<DecisionSpace, Candidate[][]>;
  /** The queries' rows per view (as given, mirrored, centre square, centre mirrored), shipped pooling. */
  readonly queryViews: QueryRows;
  /**
   * The whitened balanced thresholds applied with a whitening learned from only `rows` of the stored
   * images (a smaller collection's fit): where the false-repost rate stays in budget decides the
   * policy's `minRows`.
   */
  readonly smallFits: readonly { readonly rows: number; readonly test: Outcome; readonly calibration: Outcome }[];
  readonly learnedNote: string;
}

const memo = new Map<boolean, Promise<RepostEvaluation>>();

export function evaluateReposts(quick: boolean, log: (line: string) => void): Promise<RepostEvaluation> {
  let result = memo.get(quick);
  if (!result) {
    result = run(quick, log);
    memo.set(quick, result);
  }
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
  log(
    `  repost corpus: ${Object.entries(corpus.counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")}`,
  );
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
  const results: ContenderResult[] = [];
  let learnedNote = "";
  // The cache's model workers would keep the process alive after an error: closed either way.
  try {
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
    const learned = async () => {
      const projection = await learnProjection(cache, indexed, shipped.stored.matrices.get(DEFAULT_POOLING)!, shippedMode, quick);
      learnedNote = `trained on ${projection.pairs} pairs of indexed images and their augmented views; triplet loss ${projection.lossFirst.toFixed(3)} → ${projection.lossLast.toFixed(3)}`;
      return projection;
    };
    let learnedOnce: ReturnType<typeof learned> | undefined;

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
        for (let r = 0; r < sim.rows; r++)
          best[first + r] = topK(sim, r, 1, (j) => skip[first + r]!.has(j))[0] ?? { index: -1, score: -Infinity };
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
      });
      // Timings go to the log only: the results stay identical from run to run.
      log(
        `  ${contender.name}: mild ${results.at(-1)!.test.recall.mild.toFixed(3)}, strong ${results.at(-1)!.test.recall.strong.toFixed(3)} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    }
  } finally {
    await cache.close();
  }
  const shipped = described.get(shippedMode)!;

  log("  fused verdict: gathering evidence and calibrating");
  const storedRows = shipped.stored.matrices.get(DEFAULT_POOLING)!;
  // The query views engine.checkRepost uses: as given and mirrored (the shipped resize mode), and
  // the centre square, i.e. the "cover" input, and its mirror (Fingerprinter, `centre`).
  const centre = described.get("cover")!;
  const queryRows: QueryRows = {
    vector: shipped.queries.matrices.get(DEFAULT_POOLING)!,
    flipped: shipped.mirrored!.matrices.get(DEFAULT_POOLING)!,
    centre: centre.queries.matrices.get(DEFAULT_POOLING)!,
    centreFlipped: centre.mirrored!.matrices.get(DEFAULT_POOLING)!,
  };
  const gather = (whitened?: WhitenedRows) => gatherEvidence(storedRows, storedSignals, queryRows, querySignals, skip, whitened);
  // As the engine: the whitening is learned from the collection's own vectors (all of them here,
  // fewer than the policy's sample cap), candidates are still found by plain cosine.
  const whitenedBy = async (fitted: Matrix): Promise<WhitenedRows> => {
    const w = await fitWhiteningOn(fitted, DEFAULT_WHITENING_POLICY.options);
    const whiten = async (m: Matrix | undefined) => m && (await whitenRows(w, m));
    return {
      stored: await whitenRows(w, storedRows),
      queries: {
        vector: await whitenRows(w, queryRows.vector),
        flipped: await whiten(queryRows.flipped),
        centre: await whiten(queryRows.centre),
        centreFlipped: await whiten(queryRows.centreFlipped),
      },
    };
  };
  const evidence = { raw: await gather(), whitened: await gather(await whitenedBy(storedRows)) };
  // Smaller collections learn from fewer images (an evenly spread subset here; queries still search
  // all of them). Whitened thresholds are calibrated over every fit a collection may have, from
  // the policy's minRows up; the smaller sizes show where that minimum has to be.
  const { minRows } = DEFAULT_WHITENING_POLICY;
  // The quick slice indexes fewer images than the smallest size: it fits on half of them, to run the step.
  const sizes = quick
    ? [Math.floor(storedRows.rows / 2)]
    : [...new Set([...SMALL_FIT_ROWS, minRows])].filter((n) => n < storedRows.rows).sort((a, b) => a - b);
  const fitEvidence = new Map<number, Candidate[][]>();
  for (const rows of sizes) fitEvidence.set(rows, await gather(await whitenedBy(spreadRows(storedRows, rows))));
  const applicable = sizes.filter((rows) => rows >= minRows).map((rows) => fitEvidence.get(rows)!);
  const fused = {
    raw: calibrateFused(corpus, [evidence.raw], expectedRows),
    whitened: calibrateFused(corpus, [evidence.whitened, ...applicable], expectedRows, evidence.whitened),
  };
  const smallFits = sizes.map((rows) => ({
    rows,
    ...fusedOutcomes(corpus, fitEvidence.get(rows)!, expectedRows, fused.whitened.balanced.thresholds),
  }));
  for (const f of smallFits)
    log(
      `  whitening from ${f.rows} rows: false reposts ${f.test.falseRate.toFixed(4)} (test), ${f.calibration.falseRate.toFixed(4)} (calibration)`,
    );
  return {
    corpus,
    storedSignals,
    querySignals,
    expectedRows,
    skip,
    shippedMode,
    shipped,
    results,
    fused,
    evidence,
    queryViews: queryRows,
    smallFits,
    learnedNote,
  };
}

const SMALL_FIT_ROWS = [500, 1000, 2000, 3000, 5000];

/** `count` rows spread evenly over the matrix (like the store's sample of a bigger table). */
function spreadRows(m: Matrix, count: number): Matrix {
  const data = new Float32Array(count * m.cols);
  for (let i = 0; i < count; i++) {
    const row = Math.floor((i * m.rows) / count);
    data.set(m.data.subarray(row * m.cols, (row + 1) * m.cols), i * m.cols);
  }
  return { rows: count, cols: m.cols, data };
}

/**
 * Calibrates the fused verdict on the calibration half of every evidence set at once (their
 * queries pooled, the budget a share of all their negatives) and reports it on `reportOn`. One set
 * for plain cosine; for the whitened space, one per whitening a collection may have learned (from
 * the policy's minRows up to all images), so the thresholds hold across collection sizes.
 */
function calibrateFused(
  corpus: RepostCorpus,
  evidenceSets: readonly Candidate[][][],
  expectedRows: (number | null)[],
  reportOn: Candidate[][] = evidenceSets[0]!,
): Record<Level, FusedLevel> {
  const { queries } = corpus;
  const calibrationIndices = queries.map((_, i) => i).filter((i) => queries[i]!.half === "calibration");
  const labelled = evidenceSets.flatMap(() =>
    calibrationIndices.map((i) => ({ expected: expectedRows[i]!, transform: queries[i]!.transform })),
  );
  const calibrationEvidence = evidenceSets.flatMap((evidence) => calibrationIndices.map((i) => evidence[i]!));
  const exact = calibrateExact(calibrationEvidence, labelled);
  // "similar" is a hint, not an alarm: the cosine that one in ten new, unrelated posts reaches.
  const negativeBest = calibrationEvidence
    .filter((_, k) => labelled[k]!.expected === null)
    .map((candidates) => Math.max(-1, ...candidates.map((c) => c.score)));
  const similarMinCosine = ceil3(scoreThreshold(negativeBest, 0.1));
  return Object.fromEntries(
    LEVELS.map((level) => {
      const thresholds = calibrateNear(calibrationEvidence, labelled, exact, BUDGET[level].calibration, similarMinCosine);
      return [level, { thresholds, ...fusedOutcomes(corpus, reportOn, expectedRows, thresholds) }];
    }),
  ) as Record<Level, FusedLevel>;
}

/** The fused verdict's outcome on both halves for given thresholds (in memory, = the engine's judge). */
export function fusedOutcomes(
  corpus: RepostCorpus,
  evidence: Candidate[][],
  expectedRows: (number | null)[],
  thresholds: RepostThresholds,
) {
  const decisions = evidence.map((candidates) => {
    const { verdict, index } = judgeEvidence(candidates, thresholds);
    return { repost: isRepost(verdict), index, exact: verdict === "exact" };
  });
  return {
    test: summarize(corpus.queries, expectedRows, decisions, "test", SAME_PICTURE),
    calibration: summarize(corpus.queries, expectedRows, decisions, "calibration", SAME_PICTURE),
  };
}
