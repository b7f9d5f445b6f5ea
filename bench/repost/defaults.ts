/**
 * The "Defaults chosen" paragraph of the repost section: which values src/retrieval/ ships and
 * the measurements behind each, written from this run's numbers (so it can never go stale).
 */
import { DEFAULT_POOLING } from "../../src/retrieval/descriptor.ts";
import { DEFAULT_REPOST_THRESHOLDS } from "../../src/retrieval/thresholds.ts";
import { DESCRIPTOR_LABEL } from "../contenders/registry.ts";
import { bestPoolingMode } from "../lib/grid.ts";
import { pct } from "../lib/markdown.ts";
import type { RepostEvaluation } from "./evaluate.ts";
import { BUDGET, type Outcome } from "./outcomes.ts";

const both = (o: Outcome) => o.recall.mild + o.recall.strong;

export function defaultsChosen(e: RepostEvaluation, engine: Outcome, calibratedMatches: boolean): string {
  const { results, fused } = e;
  const byName = new Map(results.map((r) => [r.name, r]));
  const best = bestPoolingMode(e.shippedMode, (name) => {
    const r = byName.get(name);
    return r ? both(r.test) : -Infinity;
  });
  const shippedName = DESCRIPTOR_LABEL[DEFAULT_POOLING];
  const shipped = byName.get(shippedName)!;
  const whitened = byName.get(`${shippedName} + PCAw`)!;
  const bestOverall = [...results].sort((a, b) => both(b.test) - both(a.test))[0]!;
  const t = DEFAULT_REPOST_THRESHOLDS;
  const unrelated = e.corpus.queries
    .flatMap((q, i) => (q.expected === null ? [Math.max(-1, ...e.evidence[i]!.map((c) => c.score))] : []))
    .sort((a, b) => a - b);
  const medianUnrelated = unrelated[Math.floor(unrelated.length / 2)]!;
  const lines = [
    "### Defaults chosen",
    "",
    `- **Pooling and resize** (DEFAULT_POOLING = "${DEFAULT_POOLING}", input.resize = "${e.shippedMode}"): on the raw cosine that the ` +
      `shipped verdict uses, the best cell of the grid above is ${DESCRIPTOR_LABEL[best.pooling]} with "${best.mode}" ` +
      `(mild + strong recall ${pct(best.score / 2)} on average); the shipped pair gets mild ${pct(shipped.test.recall.mild)}, strong ` +
      `${pct(shipped.test.recall.strong)}. Max pooling keeps each channel's strongest response wherever it is, so crops, borders and ` +
      "captions that change the average barely change it; letterboxing (\"contain\") shows the model the whole picture undistorted, which is what " +
      "a re-encoded, resized or re-photographed copy also shows. The quality section checks that it costs nothing there.",
    `- **Thresholds** (DEFAULT_REPOST_THRESHOLDS = the balanced level): ${calibratedMatches ? "exactly" : "**not**"} the values calibrated by ` +
      `this run on the calibration half at ${pct(BUDGET.balanced.calibration, 2)} false reposts, half the ${pct(BUDGET.balanced.target, 1)} target. ` +
      `Through the engine on the test half: ${pct(engine.falseRate, 2)} false reposts, mild ${pct(engine.recall.mild)}, strong ${pct(engine.recall.strong)}, ` +
      `real re-photos ${pct(engine.recall["re-photo"])}. near-duplicate = cosine ≥ ${t.nearMinCosine}` +
      (t.hashNearMaxPhash >= 0 ? `, or pHash ≤ ${t.hashNearMaxPhash} with cosine ≥ ${t.hashNearMinCosine} (the hash rule rescues heavy re-encodes, downscales and greyscale copies whose cosine drops)` : "") +
      `. exact = pHash ≤ ${t.exactMaxPhash}, dHash ≤ ${t.exactMaxDhash}, cosine ≥ ${t.exactMinCosine}: the widest box that gave no calibration ` +
      `non-repost an exact verdict; it calls ${pct(fused.balanced.test.exactRate ?? NaN)} of re-encoded/resized copies exact. similar = cosine ≥ ${t.similarMinCosine} ` +
      "(reached by 10 % of unrelated new posts: a hint, never an alert).",
    `- **Sensitivity levels** (SENSITIVITY_LEVELS): strict, balanced, loose = calibrated at ${pct(BUDGET.strict.calibration, 2)}, ` +
      `${pct(BUDGET.balanced.calibration, 2)}, ${pct(BUDGET.loose.calibration, 2)} on the calibration half, promised ≤ ${pct(BUDGET.strict.target, 1)}, ` +
      `${pct(BUDGET.balanced.target, 1)}, ${pct(BUDGET.loose.target, 1)}; test-half rates in the table above.`,
    `- **Fusion rules** (classify): unchanged. Searched per level: plain cosine, plus the pHash rule at every distance 0–20 and cosine floor ` +
      "0.30–1.00. Hashes alone lose to the cosine on every geometric edit (crops, rotation, borders, captions) but keep heavy blur, " +
      "greyscale and small downscales that the cosine lets slip (per-transform table): the calibrated pHash rule is exactly that rescue.",
    `- **Not shipped, but better**: ${whitened.name} reaches mild ${pct(whitened.test.recall.mild)}, strong ${pct(whitened.test.recall.strong)} ` +
      `at the same budget (best of all: ${bestOverall.name}, mild ${pct(bestOverall.test.recall.mild)}, strong ${pct(bestOverall.test.recall.strong)}). ` +
      `PCA-whitening centres away what all photos share: raw, half of all non-repost queries already have a stored image at cosine ≥ ${medianUnrelated.toFixed(2)}, ` +
      `which forces the repost threshold up to ${t.nearMinCosine}. It needs the engine to fit a whitening on each collection (src/retrieval/whitening.ts) and store ` +
      "whitened vectors for the repost check (not for /similar: the quality section shows it hurts category look-alikes) — an engine/store " +
      "change outside this benchmark, recommended as the next step. Re-ranking (αQE, DBA) does not help " +
      "repost verdicts: it pulls a query towards whatever it already resembles, false matches included.",
  ];
  return lines.join("\n");
}
