/**
 * The "Defaults chosen" paragraph of the repost section: which values src/retrieval/ ships and
 * the measurements behind each, written from this run's numbers (so it can never go stale).
 */
import { DEFAULT_POOLING } from "../../src/retrieval/descriptor.ts";
import type { RepostThresholds } from "../../src/retrieval/reposts.ts";
import { DEFAULT_REPOST_THRESHOLDS } from "../../src/retrieval/thresholds.ts";
import { DEFAULT_WHITENING_POLICY } from "../../src/retrieval/whitening/maintainer.ts";
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
  const t = DEFAULT_REPOST_THRESHOLDS.whitened;
  const r = DEFAULT_REPOST_THRESHOLDS.raw;
  const bestUnrelated = (space: "raw" | "whitened") => {
    const scores = e.corpus.queries
      .flatMap((q, i) => (q.expected === null ? [Math.max(-1, ...e.evidence[space][i]!.map((c) => c.score))] : []))
      .sort((a, b) => a - b);
    return scores[Math.floor(scores.length / 2)]!;
  };
  const rule = (x: RepostThresholds) =>
    `near-duplicate = cosine ≥ ${x.nearMinCosine}` +
    (x.hashNearMaxPhash >= 0 ? `, or pHash ≤ ${x.hashNearMaxPhash} with cosine ≥ ${x.hashNearMinCosine}` : "") +
    `; exact = pHash ≤ ${x.exactMaxPhash}, dHash ≤ ${x.exactMaxDhash}, cosine ≥ ${x.exactMinCosine}; similar = cosine ≥ ${x.similarMinCosine}`;
  const lines = [
    "### Defaults chosen",
    "",
    `- **Pooling and resize** (DEFAULT_POOLING = "${DEFAULT_POOLING}", input.resize = "${e.shippedMode}"): on the raw cosine, the best cell of the grid ` +
      `above is ${DESCRIPTOR_LABEL[best.pooling]} with "${best.mode}" (mild + strong recall ${pct(best.score / 2)} on average); the shipped pair gets ` +
      `mild ${pct(shipped.test.recall.mild)}, strong ${pct(shipped.test.recall.strong)}. Max pooling keeps each channel's strongest response wherever it is, ` +
      'so crops, borders and captions that change the average barely change it; letterboxing ("contain") shows the model the whole picture ' +
      'undistorted. One embedding serves both jobs, and the quality section shows "contain" is also the best mode for /similar.',
    `- **Whitening for repost verdicts** (engine.checkRepost, src/retrieval/whitening/): each collection learns its own PCA-whitening once it holds ` +
      `${DEFAULT_WHITENING_POLICY.minRows} images (refitted each time it doubles); candidates are still the nearest images by plain cosine, but the thresholds apply to the ` +
      `whitened cosine. Single-score, ${whitened.name} reaches mild ${pct(whitened.test.recall.mild)}, strong ${pct(whitened.test.recall.strong)} against ` +
      `${shipped.name}'s ${pct(shipped.test.recall.mild)} / ${pct(shipped.test.recall.strong)} at the same budget. Whitening centres away what all ` +
      `photos share: on plain cosine half of all non-repost queries already have a stored image at ≥ ${bestUnrelated("raw").toFixed(2)}, which forces ` +
      `the repost threshold up to ${r.nearMinCosine}; whitened, the median is ${bestUnrelated("whitened").toFixed(2)} and the threshold ${t.nearMinCosine}. ` +
      "It is not used for /similar's ranking: the quality section shows it hurts category look-alikes (same-class flowers).",
    "- **Query views** (Fingerprinter `centre`, engine.checkRepost): a repost query is embedded four ways — as given and mirrored " +
      '(letterboxed, the stored images\' mode), and its centre square and that mirrored ("cover"); candidates come from all four and the ' +
      "closest view decides. The centre square sees through what people put around a picture they repost: the dark canvas of a phone " +
      "screenshot, caption bars, borders (per-transform table: phone-screenshot, meme-caption). Stored images keep one vector; the bot " +
      "pays three extra model runs per new post, and backfill and the CLI's index none.",
    `- **Thresholds** (DEFAULT_REPOST_THRESHOLDS, one set per space = the balanced rows): ${calibratedMatches ? "exactly" : "**not**"} the values ` +
      `calibrated by this run on the calibration half at ${pct(BUDGET.balanced.calibration, 2)} false reposts, half the ${pct(BUDGET.balanced.target, 1)} target. ` +
      `Through the engine on the test half: ${pct(engine.falseRate, 2)} false reposts, mild ${pct(engine.recall.mild)}, strong ${pct(engine.recall.strong)}, ` +
      `real re-photos ${pct(engine.recall["re-photo"])}. Whitened: ${rule(t)}. Plain cosine (collections under ${DEFAULT_WHITENING_POLICY.minRows} images): ${rule(r)}. ` +
      `exact is the widest hash/cosine box that gave no calibration non-repost an exact verdict (whitened, it calls ` +
      `${pct(fused.whitened.balanced.test.exactRate ?? NaN)} of re-encoded/resized copies exact); similar is the cosine that 10 % of unrelated new ` +
      "posts reach (a hint, never an alert).",
    `- **Sensitivity levels** (SENSITIVITY_LEVELS): strict, balanced, loose = calibrated at ${pct(BUDGET.strict.calibration, 2)}, ` +
      `${pct(BUDGET.balanced.calibration, 2)}, ${pct(BUDGET.loose.calibration, 2)} on the calibration half, promised ≤ ${pct(BUDGET.strict.target, 1)}, ` +
      `${pct(BUDGET.balanced.target, 1)}, ${pct(BUDGET.loose.target, 1)}; test-half rates in the table above.`,
    `- **Fusion rules** (classify): searched per level and space: plain cosine, plus the pHash rule at every distance 0–20 and cosine floor ` +
      "0–1. Hashes alone lose to the cosine on every geometric edit (crops, rotation, borders, captions) but keep heavy blur, " +
      "greyscale and small downscales that the cosine lets slip (per-transform table).",
    `- **Not shipped**: the best single score of all is ${bestOverall.name} (mild ${pct(bestOverall.test.recall.mild)}, strong ` +
      `${pct(bestOverall.test.recall.strong)}). Where it is a resize mode other than "${e.shippedMode}", shipping it would mean a second model run per ` +
      "image (ingest is CPU-bound, speed section) or a worse /similar ranking (quality section, pooling × resize table). Re-ranking (αQE, DBA) does not " +
      "help repost verdicts: it pulls a query towards whatever it already resembles, false matches included.",
  ];
  return lines.join("\n");
}
