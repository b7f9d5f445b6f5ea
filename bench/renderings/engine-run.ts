/**
 * The corpus through the real engine, the way a user's CLI run goes: `lookalike index` of the
 * stored images (analyze as index does, add in batches, then maintain — which learns the
 * whitening — and compact), then per query `lookalike check` (checkRepost) and `lookalike search`
 * (findSimilar, k = 5), each analysing the file with that command's options. Default policies,
 * nothing excluded. Only engine.analyze's result may come from the on-disk cache (keyed by the
 * engine's code), and a few cached results are re-computed and compared at the end.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { INDEX_ANALYSIS } from "../../src/cli/index-files.ts";
import { CHECK_ANALYSIS, SEARCH_ANALYSIS } from "../../src/cli/query-commands.ts";
import { errorPayload } from "../../src/cli/report.ts";
import { LookalikeEngine } from "../../src/retrieval/engine.ts";
import { type DecisionSpace, decide, type WeighedCandidate } from "../../src/retrieval/reposts.ts";
import { DEFAULT_REPOST_THRESHOLDS } from "../../src/retrieval/thresholds.ts";
import { DEFAULT_WHITENING_POLICY } from "../../src/retrieval/whitening/maintainer.ts";
import { mapLimit } from "../lib/concurrency.ts";
import { type ImageItem, itemKey } from "../lib/datasets.ts";
import { modelsDir } from "../lib/paths.ts";
import { AnalysisCache, analysisDifference } from "./analysis-cache.ts";
import type { Query } from "./corpus.ts";
import type { QueryOutcome } from "./evidence.ts";
import { fingerprintVersion } from "./versions.ts";

/** The analyze options of `lookalike index`, `check` and `search`: the CLI's own constants. */
export const CLI_ANALYSIS = { index: INDEX_ANALYSIS, check: CHECK_ANALYSIS, search: SEARCH_ANALYSIS } as const;

/** As the CLI: images in flight while indexing and querying, and rows per write. */
const INDEX_IN_FLIGHT = 32;
const QUERY_IN_FLIGHT = 16;
const WRITE_BATCH = 128;
const COLLECTION = "renderings";

/** A query's weighed candidates (vectors left out), or undefined when it could not be analysed. */
export type Weighing = { readonly space: DecisionSpace; readonly weighed: WeighedCandidate[] } | undefined;

export interface EngineRun {
  readonly weighings: readonly Weighing[];
  readonly outcomes: QueryOutcome[];
  /** src/retrieval changed while the run went on: main thread and worker threads may have run different code. */
  readonly codeChanged: boolean;
  readonly stored: number;
  readonly skipped: string[];
  readonly whitening: string;
  readonly seconds: { readonly index: number; readonly queries: number };
  readonly cache: { readonly hits: number; readonly misses: number; readonly uncacheable: number; readonly check: string };
}

const elapsed = (since: number) => Math.round((Date.now() - since) / 100) / 10;

/**
 * The version of src/retrieval this process loaded (hashed as the engine's modules are imported).
 * The engine's worker threads load their modules later, when it opens: the cache is only trusted
 * when the code is still the same then and at the end of the run.
 */
const loadedVersion = fingerprintVersion();

export async function runThroughEngine(
  stored: readonly ImageItem[],
  queries: readonly Query[],
  log: (line: string) => void,
): Promise<EngineRun> {
  const version = await loadedVersion;
  const cache = await AnalysisCache.open(version);
  const db = await mkdtemp(path.join(tmpdir(), "lookalike-renderings-"));
  const engine = await LookalikeEngine.open({ db, modelsDir, download: false });
  const changed = async () => (await fingerprintVersion()) !== version;
  let codeChanged = await changed();
  if (codeChanged) await cache.forgetThisRun();
  try {
    let started = Date.now();
    const { skipped, whitening } = await indexStored(engine, stored, cache);
    const indexSeconds = elapsed(started);
    log(`  engine: stored ${stored.length - skipped.length} images in ${indexSeconds} s (whitening: ${whitening})`);

    started = Date.now();
    const outcomes: QueryOutcome[] = new Array(queries.length);
    const weighings: Weighing[] = new Array(queries.length);
    let done = 0;
    let failed = 0;
    await mapLimit(queries, QUERY_IN_FLIGHT, async (query, i) => {
      try {
        const weighing = await weighQuery(engine, cache, query);
        weighings[i] = weighing;
        const verdict = decide(weighing.weighed, DEFAULT_REPOST_THRESHOLDS[weighing.space], weighing.space);
        const asSearched = await cache.analyze(engine, query.file, CLI_ANALYSIS.search);
        const similar = await engine.findSimilar(asSearched, { collection: COLLECTION, k: 5 });
        outcomes[i] = { verdict, similar };
      } catch (error) {
        const { code, message } = errorPayload(error);
        outcomes[i] = { error: `${code}: ${message}` };
        if (++failed <= 3) log(`  engine: ${query.id} failed: ${code}: ${message}`);
      }
      if (++done % 500 === 0) log(`  engine: ${done}/${queries.length} queries`);
    });
    const querySeconds = elapsed(started);
    log(`  engine: ${queries.length} queries (check + search) in ${querySeconds} s`);
    const check = await spotCheck(engine, cache);
    if (!codeChanged && (await changed())) {
      codeChanged = true;
      await cache.forgetThisRun();
    }
    if (codeChanged) log("  engine: src/retrieval changed while this ran: its analyses are not kept");
    return {
      codeChanged,
      outcomes,
      weighings,
      stored: stored.length - skipped.length,
      skipped,
      whitening,
      seconds: { index: indexSeconds, queries: querySeconds },
      cache: { hits: cache.hits, misses: cache.misses, uncacheable: cache.uncacheable, check },
    };
  } finally {
    await engine.close();
    await rm(db, { recursive: true, force: true });
  }
}

/**
 * The same corpus weighed by an engine that never learns a whitening, as a server with fewer
 * images than `whiteningMinRows` has it: its verdicts are decided in plain cosine, a space with
 * its own thresholds. Only the repost checks (search does not depend on the space). Run after
 * `runThroughEngine`, so every analysis comes from the cache it filled.
 */
export async function weighInPlainSpace(
  stored: readonly ImageItem[],
  queries: readonly Query[],
  log: (line: string) => void,
): Promise<{ weighings: Weighing[]; seconds: number }> {
  const cache = await AnalysisCache.open(await loadedVersion);
  const db = await mkdtemp(path.join(tmpdir(), "lookalike-renderings-plain-"));
  const whiteningPolicy = { ...DEFAULT_WHITENING_POLICY, minRows: Number.MAX_SAFE_INTEGER };
  const engine = await LookalikeEngine.open({ db, modelsDir, download: false, whiteningPolicy });
  const started = Date.now();
  try {
    await indexStored(engine, stored, cache);
    const weighings: Weighing[] = new Array(queries.length);
    await mapLimit(queries, QUERY_IN_FLIGHT, async (query, i) => {
      weighings[i] = await weighQuery(engine, cache, query).catch(() => undefined);
    });
    const seconds = elapsed(started);
    log(`  engine, plain cosine (no whitening): ${queries.length} repost checks in ${seconds} s`);
    return { weighings, seconds };
  } finally {
    await engine.close();
    await rm(db, { recursive: true, force: true });
  }
}

/** As `lookalike index`: analyse, add in batches, then maintain (whitening, index) and compact. */
async function indexStored(
  engine: LookalikeEngine,
  stored: readonly ImageItem[],
  cache: AnalysisCache,
): Promise<{ skipped: string[]; whitening: string }> {
  const skipped: string[] = [];
  for (let i = 0; i < stored.length; i += WRITE_BATCH) {
    const batch = stored.slice(i, i + WRITE_BATCH);
    const analysed = new Array<Awaited<ReturnType<LookalikeEngine["analyze"]>> | undefined>(batch.length);
    await mapLimit(batch, INDEX_IN_FLIGHT, async (item, j) => {
      analysed[j] = await cache.analyze(engine, item.file, CLI_ANALYSIS.index).catch((error: unknown) => {
        skipped.push(`${itemKey(item)}: ${errorPayload(error).code}`);
        return undefined;
      });
    });
    await engine.add(
      COLLECTION,
      batch.flatMap((item, j) => (analysed[j] ? [{ image: analysed[j]!, meta: { id: itemKey(item), source: item.file } }] : [])),
    );
  }
  const maintenance = await engine.maintain(COLLECTION);
  if (maintenance.index === "none") await engine.compact(COLLECTION);
  return { skipped, whitening: `${maintenance.whitening}, index: ${maintenance.index}` };
}

/** `lookalike check`'s weighing of a query (checkRepost is weighRepost + decide), vectors left out. */
async function weighQuery(engine: LookalikeEngine, cache: AnalysisCache, query: Query): Promise<NonNullable<Weighing>> {
  const asChecked = await cache.analyze(engine, query.file, CLI_ANALYSIS.check);
  const { space, weighed } = await engine.weighRepost(asChecked, { collection: COLLECTION });
  return { space, weighed: weighed.map(({ candidate: { vector: _vector, ...candidate }, evidence }) => ({ candidate, evidence })) };
}

/** Re-analyses a few files whose analysis came from the cache: a stale cache fails the run. */
async function spotCheck(engine: LookalikeEngine, cache: AnalysisCache): Promise<string> {
  const used = cache.cachedFiles.slice(0, 3);
  if (used.length === 0) return "none was cached";
  let worst = 0;
  for (const { file, options } of used) {
    worst = Math.max(worst, analysisDifference(await engine.analyze(file, options), await cache.analyze(engine, file, options)));
  }
  if (worst > 1e-5) {
    throw new Error(`cached analyses differ from engine.analyze by ${worst}: the cache key misses something the fingerprint depends on`);
  }
  return `${used.length} cached ones re-computed: max |Δ| = ${worst.toExponential(1)}`;
}
