/** The section's Markdown: found and top-1 per kind and split, false reposts with intervals, the split table. */
import { pct, table } from "../lib/markdown.ts";
import type { RenderingsCorpus } from "./corpus.ts";
import { NEGATIVE_CATEGORIES } from "./corpus.ts";
import type { EngineRun } from "./engine-run.ts";
import type { EvidenceRow, FalseRate, Rate, Summary } from "./evidence.ts";
import { KINDS, RENDERINGS, renderingsOf } from "./kinds/catalogue.ts";

const cells = (r: Rate | undefined) => (r ? [pct(r.found), pct(r.top1), String(r.n)] : ["–", "–", "0"]);

/** "0.31 % (3/964), 95 % CI 0.11–0.91 %" */
export const falseRateText = (f: FalseRate | undefined): string =>
  f ? `${pct(f.rate, 2)} (${f.flagged}/${f.n}), 95 % CI ${pct(f.ci.low, 2).replace(" %", "")}–${pct(f.ci.high, 2)}` : "–";

export interface ReportInput {
  readonly quick: boolean;
  readonly corpus: RenderingsCorpus;
  readonly run: EngineRun;
  readonly rows: readonly EvidenceRow[];
  readonly summary: Summary;
  readonly evidenceFile: string;
}

export function splitTable(): string {
  const list = (kind: string, split: "fit" | "test") =>
    renderingsOf(kind, split)
      .map((r) => `\`${r.id}\` ${r.description}`)
      .join("<br>");
  return table(
    ["kind", "group", "fit renderings", "test renderings"],
    KINDS.map((k) => [k.name, k.group, list(k.name, "fit"), list(k.name, "test")]),
  );
}

export function renderReport({ quick, corpus, run, rows, summary, evidenceFile }: ReportInput): string {
  const space = [...new Set(rows.flatMap((r) => (r.space ? [r.space] : [])))].join(", ") || "–";
  const kindRows = [
    ...KINDS.map((k) => [k.name, k.group, ...cells(summary.reposts[k.name]?.fit), ...cells(summary.reposts[k.name]?.test)]),
    ...(["mild", "strong"] as const).map((g) => [
      `**${g}, all kinds**`,
      g,
      ...cells(summary.reposts[g]?.fit),
      ...cells(summary.reposts[g]?.test),
    ]),
    [
      "museum re-photo (real phone photos)",
      "re-photo",
      ...cells(summary.reposts["re-photo"]?.fit),
      ...cells(summary.reposts["re-photo"]?.test),
    ],
  ];
  const negativeRows = [...Object.keys(NEGATIVE_CATEGORIES), "all"].map((c) => [
    c === "all" ? "**all negatives**" : `${c}: ${NEGATIVE_CATEGORIES[c as keyof typeof NEGATIVE_CATEGORIES]}`,
    falseRateText(summary.negatives[c]?.fit),
    falseRateText(summary.negatives[c]?.test),
    falseRateText(summary.negatives[c]?.both),
  ]);
  const renderingRows = RENDERINGS.flatMap((r) => {
    const rate = summary.renderings[r.id];
    return rate ? [[r.id, r.kind, r.split, String(rate.n), pct(rate.found), pct(rate.top1), pct(rate.top5)]] : [];
  });
  const flagged = rows.filter((r) => r.negative && (r.verdict === "exact" || r.verdict === "near-duplicate"));
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r.evidence)))].sort();
  const errors = rows.filter((r) => r.verdict === "error").length;
  const all = summary.negatives.all?.both;

  return [
    "## Held-out reposts, split by rendering",
    "",
    `Corpus (${quick ? "quick slice" : "full"}): ${Object.entries(corpus.counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(", ")}. ` +
      "Every kind of repost has several independent renderings (layouts, styles, encoders); each is either a **fit** rendering " +
      "(for choosing thresholds) or a **test** rendering (for reporting them), and every picture (original or negative) is in one split " +
      "by a hash of its id, so a test row shares neither its rendering nor its original with any fit row (table at the end). " +
      "Run through the engine as `lookalike index` then `lookalike check` / `lookalike search` run: analyse with each command's options, " +
      `add, \`engine.maintain\` (whitening: ${run.whitening}; verdicts decided in the ${space} space), then checkRepost and findSimilar(k = 5), nothing excluded. ` +
      "**found** = a repost verdict (exact or near-duplicate) naming the original; **top-1** = the original is findSimilar's first result.",
    "",
    "### Reposts found, per kind and split",
    "",
    table(["kind", "group", "fit: found", "fit: top-1", "fit: n", "test: found", "test: top-1", "test: n"], kindRows),
    "",
    "### False reposts on images that are not reposts (95 % Wilson interval)",
    "",
    table(["negatives", "fit split", "test split", "both splits"], negativeRows),
    "",
    all && all.n < 1000 ? `Only ${all.n} negatives (quick slice): the interval says how little that shows.` : "",
    "",
    "### Per rendering",
    "",
    table(["rendering", "kind", "split", "n", "found", "top-1", "top-5"], renderingRows),
    "",
    "### False reposts, for inspection",
    "",
    flagged.length === 0
      ? "None."
      : table(
          ["query", "split", "verdict", "matched", "score", "decision score", "pHash distance"],
          flagged
            .slice(0, 20)
            .map((r) => [
              r.query,
              r.split,
              r.verdict,
              r.match ?? "–",
              fmt(r.evidence.score),
              fmt(r.evidence.decisionScore),
              String(r.evidence.hamming ?? "–"),
            ]),
        ) + (flagged.length > 20 ? `\n\n(and ${flagged.length - 20} more in the evidence file)` : ""),
    "",
    "### Split by rendering",
    "",
    splitTable(),
    "",
    `Run: ${run.stored} images indexed in ${run.seconds.index} s, ${rows.length} queries (check + search) in ${run.seconds.queries} s` +
      `${run.skipped.length ? `; ${run.skipped.length} stored images refused (${run.skipped.slice(0, 3).join(", ")})` : ""}` +
      `${errors ? `; **${errors} queries failed** (see the evidence file)` : ""}. ` +
      (run.codeChanged
        ? "**src/retrieval changed while this ran**: the engine's worker threads may have run newer code than its main thread. "
        : "") +
      `Analyses: ${run.cache.misses} computed, ${run.cache.hits} from the on-disk cache keyed by src/retrieval's code (${run.cache.check}). ` +
      `Per-query evidence for threshold fitting: \`${evidenceFile}\` (${rows.length} rows: kind, rendering, split, expected original, negative flag, ` +
      `verdict, best candidate, findSimilar's top 5, and every numeric field of the verdict's match: ${fields.join(", ") || "none"}).`,
  ].join("\n");
}

const fmt = (x: number | undefined) => (x === undefined ? "–" : x.toFixed(3));
