/** `lookalike search` and `lookalike check`: one result line per query image, in input order. */
import type { AnalyzedImage, AnalyzeOptions, LookalikeEngine, SimilarMatch } from "../retrieval/engine.ts";
import { describeRegion, regionField } from "../retrieval/regions/describe.ts";
import type { RepostVerdict } from "../retrieval/reposts.ts";
import { mapOrdered } from "./concurrency.ts";
import { expandPaths } from "./files.ts";
import type { CliOptions } from "./options.ts";
import { ProgressBar } from "./progress.ts";
import { errorPayload, type Output, round } from "./report.ts";

const IN_FLIGHT = 16;

/**
 * What each command computes for a query (the benchmark runs the same): mirrored, content box and
 * tiles, parts; a repost check also the centre square.
 */
export const SEARCH_ANALYSIS = { flipped: true, regions: true, parts: true } as const satisfies AnalyzeOptions;
export const CHECK_ANALYSIS = { ...SEARCH_ANALYSIS, centre: true } as const satisfies AnalyzeOptions;

type Outcome<T> = { result: T } | { error: unknown };

async function runQueries<T>(
  engine: LookalikeEngine,
  options: CliOptions,
  io: Output,
  analysis: AnalyzeOptions,
  ask: (image: AnalyzedImage, query: string) => Promise<T>,
  print: (query: string, result: T) => string,
): Promise<void> {
  const queries = await expandPaths(options.paths);
  await engine.collection(options.collection); // refuse a mismatched collection before any work
  const progress = new ProgressBar("querying", queries.length);
  await mapOrdered(
    queries,
    IN_FLIGHT,
    async (query): Promise<Outcome<T>> => {
      try {
        const image = await engine.analyze(query, analysis);
        return { result: await ask(image, query) };
      } catch (error) {
        return { error };
      }
    },
    (outcome, query, index) => {
      if ("error" in outcome) {
        const error = errorPayload(outcome.error);
        io.out(options.json ? JSON.stringify({ query, error }) : `${query}: error: ${error.message} (${error.code})`);
      } else {
        io.out(print(query, outcome.result));
      }
      progress.update(index + 1);
    },
  );
  progress.finish();
}

export function runSearch(engine: LookalikeEngine, options: CliOptions, io: Output): Promise<void> {
  return runQueries(
    engine,
    options,
    io,
    SEARCH_ANALYSIS,
    // A stored image never matches itself: querying with an indexed file looks at everything else.
    (image, query) => engine.findSimilar(image, { collection: options.collection, k: options.k, excludeIds: [query] }),
    (query, matches: SimilarMatch[]) =>
      options.json
        ? JSON.stringify({ query, matches: matches.map((m) => ({ id: m.id, score: round(m.score), ...regionField(m.region) })) })
        : [
            `${query}:`,
            ...matches.map(
              (m, i) =>
                `  ${String(i + 1).padStart(2)}. ${m.score.toFixed(4)}  ${m.id}${m.region ? `  (${describeRegion(m.region)})` : ""}`,
            ),
          ].join("\n"),
  );
}

export function runCheck(engine: LookalikeEngine, options: CliOptions, io: Output): Promise<void> {
  return runQueries(
    engine,
    options,
    io,
    CHECK_ANALYSIS,
    (image, query) => engine.checkRepost(image, { collection: options.collection, excludeIds: [query] }),
    (query, { verdict, match, space }: RepostVerdict) => {
      // The JSON keeps exactly the contract's fields; the text also names the decision space.
      if (options.json) {
        return JSON.stringify({
          query,
          verdict,
          match: match && { id: match.id, score: round(match.score), hamming: match.hamming, ...regionField(match.region) },
        });
      }
      if (!match) return `${query}: ${verdict} (the collection is empty)`;
      const about = verdict === "new" ? "closest" : "of";
      const whitened = space === "whitened" ? `, whitened cosine ${match.decisionScore.toFixed(3)}` : "";
      const where = match.region ? `, ${describeRegion(match.region)}` : "";
      const evidence = `cosine ${match.score.toFixed(3)}${whitened}, pHash distance ${match.hamming}${match.flipped ? ", mirrored" : ""}${where}`;
      return `${query}: ${verdict} ${about} ${match.id} (${evidence})`;
    },
  );
}
