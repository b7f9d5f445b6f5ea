/**
 * The shipped `/similar` on the quality sets: `engine.findSimilar` as `lookalike search` runs it
 * (images stored as `lookalike index` analyses them, with their parts; queries as `lookalike search`
 * analyses them; each candidate ranked as `/similar` ranks it, `rankingPair` in
 * src/retrieval/regions/evidence.ts), where the contenders' table ranks whole images by one cached
 * descriptor. It says whether searching by parts costs the whole-image ranking anything: a
 * painting's re-photograph must still come first, a tulip's nearest must still be tulips.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { INDEX_ANALYSIS } from "../../src/cli/index-files.ts";
import { SEARCH_ANALYSIS } from "../../src/cli/query-commands.ts";
import { type AnalyzedImage, type AnalyzeOptions, LookalikeEngine } from "../../src/retrieval/engine.ts";
import { mapLimit } from "../lib/concurrency.ts";
import { type ImageItem, itemKey, QUICK_SALT, sample } from "../lib/datasets.ts";
import { mean } from "../lib/metrics.ts";
import { modelsDir } from "../lib/paths.ts";
import { categorySet, museumSets } from "./retrieval.ts";

/** Results asked per query: P@10 needs ten. */
const K = 10;
/** Images analysed at once, as the CLI keeps them in flight. */
const IN_FLIGHT = 16;
/**
 * CIFAR queries (every image is stored, these ask): leave-one-out over all 5,000 would take the
 * engine about ten minutes here for a number a thousand queries already pin down.
 */
const CIFAR_QUERIES = 1_000;

export interface EngineRetrieval {
  readonly museum: { readonly queries: number; readonly stored: number; readonly top1: number; readonly top5: number };
  readonly flowers: { readonly queries: number; readonly stored: number; readonly p10: number };
  readonly cifar: { readonly queries: number; readonly stored: number; readonly p10: number };
  readonly seconds: number;
}

type Log = (line: string) => void;

async function analyseAll(engine: LookalikeEngine, items: readonly ImageItem[], options: AnalyzeOptions) {
  const analysed: AnalyzedImage[] = new Array(items.length);
  await mapLimit(items, IN_FLIGHT, async (item, i) => {
    analysed[i] = await engine.analyze(item.file, options);
  });
  return analysed;
}

async function store(engine: LookalikeEngine, collection: string, items: readonly ImageItem[]): Promise<void> {
  const analysed = await analyseAll(engine, items, INDEX_ANALYSIS);
  await engine.add(
    collection,
    items.map((item, i) => ({ image: analysed[i]!, meta: { id: itemKey(item), source: item.file } })),
  );
  await engine.maintain(collection);
}

/** Each query's results (ids), as `lookalike search --json` lists them; a query never finds itself. */
async function search(engine: LookalikeEngine, collection: string, queries: readonly ImageItem[]): Promise<string[][]> {
  const analysed = await analyseAll(engine, queries, SEARCH_ANALYSIS);
  const results: string[][] = new Array(queries.length);
  await mapLimit(queries, IN_FLIGHT, async (query, i) => {
    const matches = await engine.findSimilar(analysed[i]!, { collection, k: K, excludeIds: [itemKey(query)] });
    results[i] = matches.map((match) => match.id);
  });
  return results;
}

/** Leave-one-out precision at 10: every stored image of the set, or `queries` of them, asks for the others. */
async function categoryP10(engine: LookalikeEngine, which: "flowers" | "cifar", quick: boolean, queries?: number) {
  const stored = await categorySet(which, quick);
  const asking = queries !== undefined && queries < stored.length ? sample(stored, queries, QUICK_SALT) : stored;
  await store(engine, which, stored);
  const labels = new Map(stored.map((item) => [itemKey(item), item.label]));
  const results = await search(engine, which, asking);
  const p10 = mean(results.map((ids, i) => ids.filter((id) => labels.get(id) === asking[i]!.label).length / K));
  return { queries: asking.length, stored: stored.length, p10 };
}

export async function engineRetrieval(quick: boolean, log: Log): Promise<EngineRetrieval> {
  const started = Date.now();
  const db = await mkdtemp(path.join(tmpdir(), "lookalike-quality-engine-"));
  const engine = await LookalikeEngine.open({ db, modelsDir, download: false });
  try {
    const { queries, db: paintings } = await museumSets(quick);
    await store(engine, "museum", paintings);
    const results = await search(engine, "museum", queries);
    // Where each query's one relevant painting came (-1: not in the ten results).
    const ranks = results.map((ids, i) => ids.indexOf(itemKey({ dataset: "museum", id: queries[i]!.label! })));
    const museum = {
      queries: queries.length,
      stored: paintings.length,
      top1: mean(ranks.map((rank) => (rank === 0 ? 1 : 0))),
      top5: mean(ranks.map((rank) => (rank >= 0 && rank < 5 ? 1 : 0))),
    };
    log(`  engine: museum top-1 ${museum.top1.toFixed(3)}`);
    const flowers = await categoryP10(engine, "flowers", quick);
    log(`  engine: flowers P@10 ${flowers.p10.toFixed(3)}`);
    const cifar = await categoryP10(engine, "cifar", quick, quick ? undefined : CIFAR_QUERIES);
    log(`  engine: CIFAR P@10 ${cifar.p10.toFixed(3)} (${cifar.queries} queries)`);
    return { museum, flowers, cifar, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    await engine.close();
    await rm(db, { recursive: true, force: true });
  }
}
