/**
 * `npm run bench -- --only repost`: repost detection on generated transforms of real photos,
 * every contender at a calibrated false-repost budget, and the shipped verdict through the engine.
 */
import { DEFAULT_POOLING } from "../../src/retrieval/descriptor.ts";
import type { DecisionSpace, RepostThresholds } from "../../src/retrieval/reposts.ts";
import { DEFAULT_REPOST_THRESHOLDS, SENSITIVITY_LEVELS } from "../../src/retrieval/thresholds.ts";
import { DEFAULT_WHITENING_POLICY } from "../../src/retrieval/whitening/maintainer.ts";
import { DESCRIPTOR_LABEL } from "../contenders/registry.ts";
import { poolingModeTable } from "../lib/grid.ts";
import { timedLog } from "../lib/log.ts";
import { bold, fixed, pct, ratio, table } from "../lib/markdown.ts";
import type { BenchContext, BenchSection, SectionResult } from "../lib/section.ts";
import { isRepost, SAME_PICTURE } from "./calibrate.ts";
import { defaultsChosen } from "./defaults.ts";
import { fingerprints, runEngine } from "./engine-run.ts";
import { evaluateReposts, fusedOutcomes, type RepostEvaluation } from "./evaluate.ts";
import { KNOWN_DUPLICATES } from "./known-duplicates.ts";
import { BUDGET, LEVELS, type Outcome, summarize } from "./outcomes.ts";
import { TRANSFORMS } from "./transforms.ts";

const rate = (o: Outcome) => `${pct(o.falseRate, 2)} (${o.falseReposts}/${o.negatives})`;

async function shippedThroughEngine(e: RepostEvaluation, log: (line: string) => void) {
  const { corpus, shipped } = e;
  const stored = fingerprints(corpus.indexed, e.storedSignals, { vector: shipped.stored.matrices.get(DEFAULT_POOLING)! });
  const all = fingerprints(
    corpus.queries.map((q) => q.item),
    e.querySignals,
    e.queryViews,
  );
  // The test half only: it is what the tables report, and it halves the engine's time.
  const picked = corpus.queries.map((_q, i) => i).filter((i) => corpus.queries[i]!.half === "test");
  const run = await runEngine(
    stored,
    picked.map((i) => ({ ...all[i]!, excluded: corpus.queries[i]!.excluded })),
    { log },
  );
  const rowOf = new Map(corpus.indexed.map((item, i) => [`${item.dataset}:${item.id}`, i]));
  const decisions = corpus.queries.map(() => ({ repost: false, index: -1, exact: false }));
  picked.forEach((q, k) => {
    const v = run.verdicts[k]!;
    decisions[q] = { repost: isRepost(v.verdict), index: v.match ? rowOf.get(v.match.id)! : -1, exact: v.verdict === "exact" };
  });
  return { run, test: summarize(corpus.queries, e.expectedRows, decisions, "test", SAME_PICTURE) };
}

function describeThresholds(t: RepostThresholds): string {
  return (
    `exact: pHash ≤ ${t.exactMaxPhash}, dHash ≤ ${t.exactMaxDhash}, cosine ≥ ${t.exactMinCosine}; ` +
    `near-duplicate: cosine ≥ ${t.nearMinCosine}` +
    (t.hashNearMaxPhash >= 0 ? `, or pHash ≤ ${t.hashNearMaxPhash} and cosine ≥ ${t.hashNearMinCosine}` : "") +
    `; similar: cosine ≥ ${t.similarMinCosine}`
  );
}

const SPACES: readonly DecisionSpace[] = ["whitened", "raw"];

const sameThresholds = (a: RepostThresholds, b: RepostThresholds) =>
  (Object.keys(a) as (keyof RepostThresholds)[]).every(
    (k) => a[k] === b[k] || Math.abs((a[k] ?? Number.NaN) - (b[k] ?? Number.NaN)) < 1e-9,
  );

export const repostSection: BenchSection = {
  async run(given: BenchContext): Promise<SectionResult> {
    const context = { ...given, log: timedLog(given.log) };
    const e = await evaluateReposts(context.quick, context.log);
    const { corpus, results, fused } = e;
    const engine = await shippedThroughEngine(e, context.log);
    const space = engine.run.space;
    const inMemoryDefault = fusedOutcomes(corpus, e.evidence[space], e.expectedRows, DEFAULT_REPOST_THRESHOLDS[space]);
    const agree = JSON.stringify(inMemoryDefault.test) === JSON.stringify(engine.test);
    const reference = engine.test;
    const calibratedMatches = SPACES.every((sp) => sameThresholds(fused[sp].balanced.thresholds, DEFAULT_REPOST_THRESHOLDS[sp]));
    const levelsMatch = LEVELS.every((level) =>
      SPACES.every((sp) => sameThresholds(fused[sp][level].thresholds, SENSITIVITY_LEVELS[level][sp])),
    );
    const fusedRow = (sp: DecisionSpace, name: string) => [
      name,
      "see below",
      rate(fused[sp].balanced.test),
      rate(fused[sp].balanced.calibration),
      pct(fused[sp].balanced.test.recall.mild),
      pct(fused[sp].balanced.test.recall.strong),
      pct(fused[sp].balanced.test.recall["re-photo"]),
      ratio(fused[sp].balanced.test.recall.mild, reference.recall.mild),
      ratio(fused[sp].balanced.test.recall.strong, reference.recall.strong),
    ];

    const headers = [
      "contender",
      "threshold",
      "false reposts (test)",
      "false reposts (calibration)",
      "mild",
      "strong",
      "re-photo",
      "mild vs shipped",
      "strong vs shipped",
    ];
    const rows = [
      [
        `**shipped: engine.checkRepost, fused verdict (DEFAULT_REPOST_THRESHOLDS.${space})**`,
        "thresholds.ts",
        rate(engine.test),
        "(test half only)",
        pct(reference.recall.mild),
        pct(reference.recall.strong),
        pct(reference.recall["re-photo"]),
        "×1.00",
        "×1.00",
      ],
      fusedRow(
        "whitened",
        `fused verdict, whitened cosine, thresholds calibrated by this run (collections from ${DEFAULT_WHITENING_POLICY.minRows} images)`,
      ),
      fusedRow(
        "raw",
        `fused verdict, plain cosine, thresholds calibrated by this run (collections under ${DEFAULT_WHITENING_POLICY.minRows} images)`,
      ),
      ...results.map((r) => [
        bold(r.name, r.shipped),
        r.family === "hash" ? `distance ≤ ${-r.thresholds.balanced - 1}` : `> ${fixed(r.thresholds.balanced, 4)}`,
        rate(r.test),
        rate(r.calibration),
        pct(r.test.recall.mild),
        pct(r.test.recall.strong),
        pct(r.test.recall["re-photo"]),
        ratio(r.test.recall.mild, reference.recall.mild),
        ratio(r.test.recall.strong, reference.recall.strong),
      ]),
    ];

    const label = DESCRIPTOR_LABEL[DEFAULT_POOLING];
    const strongest = [...results].sort((a, b) => b.test.recall.mild + b.test.recall.strong - a.test.recall.mild - a.test.recall.strong)[0]!
      .name;
    const keyNames = [
      ...new Set([
        label,
        `${label} + PCAw`,
        strongest,
        "pHash 64 (ours)",
        "blockhash 256 (imghash → blockhash-core)",
        "seed demo: RGB histograms 3×256, Pearson",
      ]),
    ];
    const keyRows = [
      { name: "shipped (engine)", outcome: engine.test },
      { name: "fused, whitened", outcome: fused.whitened.balanced.test },
      { name: "fused, plain cosine", outcome: fused.raw.balanced.test },
      ...keyNames.flatMap((name) => {
        const r = results.find((x) => x.name === name);
        return r ? [{ name, outcome: r.test }] : [];
      }),
    ];
    const transformRows = [...TRANSFORMS.map((t) => [t.name, t.group] as const), ["re-photo", "re-photo"] as const].map(([name, group]) => [
      name,
      group,
      ...keyRows.map((k) => pct(k.outcome.byTransform[name] ?? NaN, 0)),
    ]);

    const levelRows = SPACES.flatMap((sp) =>
      LEVELS.map((level) => [
        `${level}, ${sp === "raw" ? "plain cosine" : "whitened"}`,
        `${pct(BUDGET[level].calibration, 2)} → ${pct(BUDGET[level].target, 1)}`,
        describeThresholds(fused[sp][level].thresholds),
        rate(fused[sp][level].test),
        rate(fused[sp][level].calibration),
        pct(fused[sp][level].test.recall.mild),
        pct(fused[sp][level].test.recall.strong),
        pct(fused[sp][level].test.recall["re-photo"]),
      ]),
    );
    const minRows = DEFAULT_WHITENING_POLICY.minRows;
    const smallRows = e.smallFits.map((f) => [
      bold(String(f.rows), f.rows === minRows),
      rate(f.test),
      rate(f.calibration),
      pct(f.test.recall.mild),
      pct(f.test.recall.strong),
      f.test.falseRate <= BUDGET.balanced.target && f.calibration.falseRate <= BUDGET.balanced.target ? "yes" : "**no**",
    ]);

    const best = (key: "mild" | "strong") => [...results].sort((a, b) => b.test.recall[key] - a.test.recall[key])[0]!;
    const met = (x: number, target: number) => (x >= target ? "met" : "**not met**");
    const markdown = [
      "## Repost detection",
      "",
      `Corpus (${context.quick ? "quick slice" : "full"}): ${Object.entries(corpus.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(", ")}. ` +
        "Every transform of an original is a repost query (correct = a repost verdict naming that original); every indexed image queried " +
        "with itself excluded (leave-one-out: other paintings, same-class flowers, CIFAR, other photos) and every framed copy of a distractor " +
        "with its source excluded (someone else's meme, screenshot, collage…) is a non-repost query. Originals and non-repost queries are split " +
        "in two halves by a hash of their id: **thresholds are chosen on the calibration half at half the target budget (0.25 % for the 0.5 % " +
        "target, a 2× margin) and reported on the test half**. " +
        `${KNOWN_DUPLICATES.length} groups of pictures that the shared sets list twice (CIFAR copies, two photos of one painting, burst shots) ` +
        "count as one picture (bench/repost/known-duplicates.ts). Recall = share of reposts with a repost verdict (exact or near-duplicate) naming the right original.",
      "",
      "### Every contender at the balanced operating point",
      "",
      "Single-score contenders flag a repost when their best match's score passes one threshold chosen on the calibration half " +
        "(hashes: Hamming distance). The fused verdict combines the shipped descriptor's cosine with pHash and dHash (src/retrieval/reposts.ts).",
      "",
      table(headers, rows),
      "",
      `Engine check: ${engine.run.check}; every test-half query went through checkRepost on a LanceDB collection of all ${corpus.indexed.length} indexed images ` +
        `(after engine.maintain()${space === "whitened" ? ", which learned the collection's whitening" : ": too few images to learn a whitening"}; exact scan, no ANN index, so the candidates equal the in-memory ones). ` +
        `The in-memory fused verdict with the same thresholds ${agree ? "gives identical test-half numbers" : "**differs** from the engine (see results.json)"}.` +
        (e.learnedNote ? ` Learned projection: ${e.learnedNote}.` : ""),
      "",
      "### Recall per transform (test half)",
      "",
      table(["transform", "group", ...keyRows.map((k) => k.name)], transformRows),
      "",
      "### Sensitivity levels of the fused verdict",
      "",
      table(
        [
          "level, space",
          "budget (calibration → promised)",
          "thresholds",
          "false reposts (test)",
          "false reposts (calibration)",
          "mild",
          "strong",
          "re-photo",
        ],
        levelRows,
      ),
      "",
      `src/retrieval/thresholds.ts: DEFAULT_REPOST_THRESHOLDS ${calibratedMatches ? "is exactly the two balanced rows above" : "**differs from** the balanced rows calibrated by this run"}; ` +
        `SENSITIVITY_LEVELS ${levelsMatch ? "are exactly the three rows" : "**differ from** the rows calibrated by this run"}.` +
        (calibratedMatches && levelsMatch
          ? ""
          : " The near-duplicate cosine floors and the regional rules are fitted again by the held-out renderings section " +
            "(on its fit split, where queries are searched by their parts too and their cells are verified): " +
            "the shipped verdicts above are those thresholds'."),
      "",
      "### How many images a collection needs before it learns a whitening",
      "",
      "A smaller collection learns its whitening from fewer images. Here it is learned from an evenly spread subset of the indexed images " +
        "(the queries still search all of them) and judged with the shipped whitened thresholds, which were calibrated on the calibration " +
        `halves of every applicable fit pooled (all ${corpus.indexed.length} images, and each size from the policy's minimum up), so they hold across ` +
        `collection sizes. The policy (DEFAULT_WHITENING_POLICY.minRows = ${minRows}, **bold**) must keep the false-repost rate within the ` +
        `${pct(BUDGET.balanced.target, 1)} promise on both halves; smaller collections are judged on plain cosine.`,
      "",
      table(
        [
          "whitening learned from",
          "false reposts (test)",
          "false reposts (calibration)",
          "mild",
          "strong",
          `within ${pct(BUDGET.balanced.target, 1)}`,
        ],
        smallRows,
      ),
      "",
      "### Transforms",
      "",
      table(
        ["transform", "group", "steps (final file JPEG at the given quality)"],
        TRANSFORMS.map((t) => [t.name, t.group, `${t.steps.map((s) => s.label).join(" → ") || "re-encode"} · q${t.quality}`]),
      ),
      "",
      "Random parameters (crop position, rotation sign, caption, colours, sticker placement, collage cell) are drawn from a stream seeded by " +
        "(transform, source) and stored in bench/.cache/repost/manifest.json next to each image.",
      "",
      "### Pooling × resize mode (cosine only, balanced threshold per cell, test half)",
      "",
      poolingModeTable(e.shippedMode, ["mild", "strong"], (name) => {
        const r = results.find((x) => x.name === name);
        return r && [pct(r.test.recall.mild), pct(r.test.recall.strong)];
      }),
      "",
      defaultsChosen(e, engine.test, calibratedMatches),
      "",
      "### Targets",
      "",
      `- Mild recall ≥ 99 % at ≤ 0.5 % false reposts: shipped ${pct(reference.recall.mild)} at ${pct(engine.test.falseRate, 2)}: ${met(reference.recall.mild, 0.99)}; best contender ${best("mild").name} ${pct(best("mild").test.recall.mild)}.`,
      `- Strong recall ≥ 90 %: shipped ${pct(reference.recall.strong)}: ${met(reference.recall.strong, 0.9)}; best contender ${best("strong").name} ${pct(best("strong").test.recall.strong)}.`,
      `- False reposts ≤ 0.5 % (test half): shipped ${pct(engine.test.falseRate, 2)}: ${engine.test.falseRate <= 0.005 ? "met" : "**not met**"}.`,
    ].join("\n");

    return {
      markdown,
      json: {
        counts: corpus.counts,
        engine: { ...engine.test, check: engine.run.check, space, agreesWithInMemory: agree },
        fused,
        smallFits: e.smallFits,
        defaultThresholds: DEFAULT_REPOST_THRESHOLDS,
        contenders: results,
        transforms: TRANSFORMS.map((t) => ({ name: t.name, group: t.group, steps: t.steps.map((s) => s.label), quality: t.quality })),
      },
    };
  },
};
