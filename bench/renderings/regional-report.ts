/**
 * The regional rules fitted on the fit split and what they give on the test split, through the
 * same summaries as the shipped verdicts (the verdicts are re-decided with the engine's `decide`).
 */
import { decide } from "../../src/retrieval/reposts.ts";
import { DEFAULT_REPOST_THRESHOLDS } from "../../src/retrieval/thresholds.ts";
import { pct, table } from "../lib/markdown.ts";
import type { Query } from "./corpus.ts";
import type { EngineRun } from "./engine-run.ts";
import { evidenceRow, type Rate, summarise } from "./evidence.ts";
import { KINDS } from "./kinds/catalogue.ts";
import { describeRules, fitRegionalRules, type RegionalRules, type WeighedQuery } from "./regional-fit.ts";
import { falseRateText } from "./report.ts";
import { canonical } from "./split.ts";

function weighedQueries(queries: readonly Query[], run: EngineRun): (WeighedQuery | undefined)[] {
  return queries.map((query, i) => {
    const weighing = run.weighings[i];
    if (!weighing) return undefined;
    return {
      kind: query.kind,
      group: query.group,
      split: query.split,
      expected: query.expected,
      space: weighing.space,
      weighed: weighing.weighed,
      isExpected: (id: string) => query.expected !== null && canonical(id) === query.expected,
    };
  });
}

/** The run's outcomes with every verdict re-decided under `rules`. */
function outcomesWith(run: EngineRun, rules: RegionalRules) {
  return run.outcomes.map((outcome, i) => {
    const weighing = run.weighings[i];
    if (!weighing) return outcome;
    return { ...outcome, verdict: decide(weighing.weighed, { ...DEFAULT_REPOST_THRESHOLDS[weighing.space], ...rules }, weighing.space) };
  });
}

const found = (r: Rate | undefined) => (r ? `${pct(r.found)} (n ${r.n})` : "–");

export function fitAndReport(queries: readonly Query[], run: EngineRun): { markdown: string; json: unknown } {
  const weighed = weighedQueries(queries, run);
  const fit = weighed.filter((q): q is WeighedQuery => q !== undefined && q.split === "fit");
  const { rules } = fitRegionalRules(fit);
  const outcomes = outcomesWith(run, rules);
  const summary = summarise(queries.map((q, i) => evidenceRow(q, outcomes[i]!)));
  const kindRows = [...KINDS.map((k) => k.name), "mild", "strong", "re-photo"].map((name) => [
    name,
    found(summary.reposts[name]?.fit),
    found(summary.reposts[name]?.test),
  ]);
  const markdown = [
    "### Regional rules fitted on the fit split",
    "",
    `Fitted (most reposts found on the fit split with at most half the promised 0.5 % false reposts there): ${describeRules(rules)}.`,
    "Every verdict below is re-decided with these rules by the engine's own `decide` over the same weighed candidates.",
    "",
    table(["kind", "found, fit split", "found, test split"], kindRows),
    "",
    `False reposts with these rules: fit ${falseRateText(summary.negatives.all?.fit)}; test ${falseRateText(summary.negatives.all?.test)}; both ${falseRateText(summary.negatives.all?.both)}.`,
  ].join("\n");
  return { markdown, json: { rules, summary } };
}
