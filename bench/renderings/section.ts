/**
 * `npm run bench -- --only renderings [--quick]`: the held-out repost benchmark, split by
 * rendering, through the real engine. Writes the per-query evidence next to the cache for
 * threshold fitting (evidence.ts says how to use it).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { timedLog } from "../lib/log.ts";
import type { BenchContext, BenchSection, SectionResult } from "../lib/section.ts";
import { buildCorpus } from "./corpus.ts";
import { runThroughEngine, weighInPlainSpace } from "./engine-run.ts";
import { evidenceFile, evidenceRow, summarise, weighingsFile } from "./evidence.ts";
import { KINDS, renderingsOf } from "./kinds/catalogue.ts";
import { fitAndReport, savedWeighings } from "./regional-report.ts";
import { renderReport } from "./report.ts";

export const renderingsSection: BenchSection = {
  async run(given: BenchContext): Promise<SectionResult> {
    const log = timedLog(given.log);
    const started = Date.now();
    const corpus = await buildCorpus(given.quick, log);
    const run = await runThroughEngine(corpus.stored, corpus.queries, log);
    const rows = corpus.queries.map((q, i) => evidenceRow(q, run.outcomes[i]!));
    const plain = await weighInPlainSpace(corpus.stored, corpus.queries, log);
    const regional = fitAndReport(corpus.queries, run, plain.weighings);
    const file = evidenceFile(given.quick);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ date: new Date().toISOString(), quick: given.quick, counts: corpus.counts, rows }));
    // The weighings too: fitting other rules on them needs no new engine run.
    const saved = [...savedWeighings(corpus.queries, run.weighings), ...savedWeighings(corpus.queries, plain.weighings)];
    await writeFile(
      weighingsFile(given.quick),
      JSON.stringify(saved, (_key, value) => (typeof value === "bigint" ? Number(value) : value)),
    );
    const summary = summarise(rows);
    const shownFile = path.relative(process.cwd(), file);
    const markdown = `${renderReport({ quick: given.quick, corpus, run, rows, summary, evidenceFile: shownFile })}\n\n${regional.markdown}`;
    log(`  done in ${Math.round((Date.now() - started) / 1000)} s`);
    return {
      markdown,
      json: {
        counts: corpus.counts,
        whitening: run.whitening,
        codeChanged: run.codeChanged,
        seconds: { ...run.seconds, plainSpace: plain.seconds, total: Math.round((Date.now() - started) / 1000) },
        cache: run.cache,
        skipped: run.skipped,
        summary,
        regional: regional.json,
        split: Object.fromEntries(
          KINDS.map((k) => [
            k.name,
            { fit: renderingsOf(k.name, "fit").map((r) => r.id), test: renderingsOf(k.name, "test").map((r) => r.id) },
          ]),
        ),
        falseReposts: rows
          .filter((r) => r.negative && (r.verdict === "exact" || r.verdict === "near-duplicate"))
          .map((r) => ({ query: r.query, split: r.split, verdict: r.verdict, match: r.match, evidence: r.evidence })),
        evidenceFile: shownFile,
      },
    };
  },
};
