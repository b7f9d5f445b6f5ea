/**
 * The regional rules fitted on the fit split and what they give on the test split, through the
 * same summaries as the shipped verdicts (the verdicts are re-decided with the engine's `decide`).
 */
import { decide } from "../../src/retrieval/reposts.ts";
import { DEFAULT_REPOST_THRESHOLDS } from "../../src/retrieval/thresholds.ts";
import { pct, table } from "../lib/markdown.ts";
import type { Query } from "./corpus.ts";
import type { EngineRun, Weighing } from "./engine-run.ts";
import { evidenceRow, falseRateOf, type Rate, summarise } from "./evidence.ts";
import { KINDS } from "./kinds/catalogue.ts";
import { describeRules, fitRegionalRules, type Outcome, outcome, type RegionalRules, type WeighedQuery } from "./regional-fit.ts";
import { falseRateText } from "./report.ts";
import { canonical } from "./split.ts";

function weighedQueries(queries: readonly Query[], weighings: readonly Weighing[]): (WeighedQuery | undefined)[] {
  return queries.map((query, i) => {
    const weighing = weighings[i];
    if (!weighing) return undefined;
    return weighedQuery({ ...query, ...weighing });
  });
}

/** A query's weighing as the fit reads it (also from a saved `weighingsFile`). */
export function weighedQuery(saved: SavedWeighing): WeighedQuery {
  return {
    ...saved,
    isExpected: (id: string) => saved.expected !== null && canonical(id) === saved.expected,
  };
}

/** What the fit needs of a query, as saved to `weighingsFile` (JSON). */
export type SavedWeighing = Omit<WeighedQuery, "isExpected">;

/** Every weighed query of a run, for fitting again without re-running the engine. */
export function savedWeighings(queries: readonly Query[], weighings: readonly Weighing[]): SavedWeighing[] {
  return weighedQueries(queries, weighings).flatMap((q) =>
    q ? [{ kind: q.kind, group: q.group, split: q.split, expected: q.expected, space: q.space, weighed: q.weighed }] : [],
  );
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

export function fitAndReport(queries: readonly Query[], run: EngineRun, plain: readonly Weighing[]): { markdown: string; json: unknown } {
  const weighed = weighedQueries(queries, run.weighings);
  const fit = weighed.filter((q): q is WeighedQuery => q !== undefined && q.split === "fit");
  const { rules } = fitRegionalRules(fit);
  const outcomes = outcomesWith(run, rules);
  const summary = summarise(queries.map((q, i) => evidenceRow(q, outcomes[i]!)));
  const kindRows = [...KINDS.map((k) => k.name), "mild", "strong", "re-photo"].map((name) => [
    name,
    found(summary.reposts[name]?.fit),
    found(summary.reposts[name]?.test),
  ]);
  const plainFit = fitInPlainSpace(queries, plain);
  const markdown = [
    "### Regional rules fitted on the fit split",
    "",
    `Fitted (most reposts found on the fit split with at most half the promised 0.5 % false reposts there): ${describeRules(rules)}.`,
    "Every verdict below is re-decided with these rules by the engine's own `decide` over the same weighed candidates.",
    "",
    table(["kind", "found, fit split", "found, test split"], kindRows),
    "",
    `False reposts with these rules: fit ${falseRateText(summary.negatives.all?.fit)}; test ${falseRateText(summary.negatives.all?.test)}; both ${falseRateText(summary.negatives.all?.both)}.`,
    "",
    plainFit.markdown,
  ].join("\n");
  return { markdown, json: { rules, summary, plain: plainFit.json } };
}

/**
 * The same fit for a server too small to have learned a whitening (verdicts in plain cosine,
 * `weighInPlainSpace`), reported per kind on both splits.
 */
function fitInPlainSpace(queries: readonly Query[], plain: readonly Weighing[]): { markdown: string; json: unknown } {
  const weighed = weighedQueries(queries, plain).filter((q): q is WeighedQuery => q !== undefined);
  const fit = weighed.filter((q) => q.split === "fit");
  const test = weighed.filter((q) => q.split === "test");
  const { rules } = fitRegionalRules(fit);
  const before = { fit: outcome(fit, {}), test: outcome(test, {}) };
  const after = { fit: outcome(fit, rules), test: outcome(test, rules) };
  const rate = (o: Outcome, kind?: string) => {
    const entry = kind ? o.byKind.get(kind) : { found: o.found, asked: o.asked };
    return entry && entry.asked > 0 ? `${pct(entry.found / entry.asked)} (n ${entry.asked})` : "–";
  };
  const falseText = (o: Outcome) => falseRateText(o.negatives > 0 ? falseRateOf(o.falseReposts, o.negatives) : undefined);
  const rows = [
    ...KINDS.map((k) => [k.name, rate(before.fit, k.name), rate(after.fit, k.name), rate(before.test, k.name), rate(after.test, k.name)]),
    ["**all reposts**", rate(before.fit), rate(after.fit), rate(before.test), rate(after.test)],
    ["**false reposts**", falseText(before.fit), falseText(after.fit), falseText(before.test), falseText(after.test)],
  ];
  const markdown = [
    "### Regional rules in plain cosine (a server that has not learned a whitening yet)",
    "",
    `The same corpus weighed by an engine that never learns a whitening (as a server with fewer images than the whitening needs), fitted the same way: ${describeRules(rules)}.`,
    "",
    table(
      [
        "kind",
        "fit: found, shipped thresholds",
        "fit: found, with these rules",
        "test: found, shipped thresholds",
        "test: found, with these rules",
      ],
      rows,
    ),
  ].join("\n");
  const plainJson = (o: Outcome) => ({ ...o, byKind: Object.fromEntries(o.byKind) });
  return {
    markdown,
    json: {
      rules,
      before: { fit: plainJson(before.fit), test: plainJson(before.test) },
      fit: plainJson(after.fit),
      test: plainJson(after.test),
    },
  };
}
