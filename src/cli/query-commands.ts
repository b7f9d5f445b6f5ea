/** `lookalike search` and `lookalike check`: one result line per query image, in input order. */
import type { AnalyzedImage, AnalyzeOptions, LookalikeEngine } from "../retrieval/engine.ts";
import type { RepostVerdict } from "../retrieval/reposts.ts";
import type { Match } from "../retrieval/store/schema.ts";
import { mapOrdered } from "./concurrency.ts";
import { expandPaths } from "./files.ts";
import type { CliOptions } from "./options.ts";
import { ProgressBar } from "./progress.ts";
import { errorPayload, type Output, round } from "./report.ts";

const IN_FLIGHT = 16;

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
    { flipped: true },
    // A stored image never matches itself: querying with an indexed file looks at everything else.
    (image, query) => engine.findSimilar(image, { collection: options.collection, k: options.k, excludeIds: [query] }),
    (query, matches: Match[]) =>
      options.json
        ? JSON.stringify({ query, matches: matches.map((m) => ({ id: m.id, score: round(m.score) })) })
        : [`${query}:`, ...matches.map((m, i) => `  ${String(i + 1).padStart(2)}. ${m.score.toFixed(4)}  ${m.id}`)].join("\n"),
  );
}

export function runCheck(engine: LookalikeEngine, options: CliOptions, io: Output): Promise<void> {
  return runQueries(
    engine,
    options,
    io,
    { flipped: true, centre: true },
    (image, query) => engine.checkRepost(image, { collection: options.collection, excludeIds: [query] }),
    (query, { verdict, match, space }: RepostVerdict) => {
      // The JSON keeps exactly the contract's fields; the text also names the decision space.
      if (options.json) {
        return JSON.stringify({
          query,
          verdict,
          match: match && { id: match.id, score: round(match.score), hamming: match.hamming },
        });
      }
      if (!match) return `${query}: ${verdict} (the collection is empty)`;
      const about = verdict === "new" ? "closest" : "of";
      const whitened = space === "whitened" ? `, whitened cosine ${match.decisionScore.toFixed(3)}` : "";
      const evidence = `cosine ${match.score.toFixed(3)}${whitened}, pHash distance ${match.hamming}${match.flipped ? ", mirrored" : ""}`;
      return `${query}: ${verdict} ${about} ${match.id} (${evidence})`;
    },
  );
}
