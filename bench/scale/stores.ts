/**
 * Search latency on object storage against a local folder: the same generated rows written to a
 * local folder and to `s3://bucket/prefix` on s3rver (the fake S3 the tests use, started here on
 * 127.0.0.1, in this process), each indexed by the shipped policy's `maintain()`, then searched with
 * the same queries through `CollectionTable.search` (bench/speed/search-latency.ts).
 *
 * s3rver is a Node server on loopback, not S3: its requests cost CPU time on this machine but no
 * network round trip, so the ratio says what going through an object store's API costs LanceDB
 * here, not what a real bucket's latency would add.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ImageStore } from "../../src/retrieval/store/image-store.ts";
import { DEFAULT_INDEX_POLICY } from "../../src/retrieval/store/index-policy.ts";
import type { VectorSpace } from "../../src/retrieval/store/schema.ts";
import { useFakeS3 } from "../../test/support/object-store.ts";
import { ExactTopK, recallAtK } from "../speed/exact.ts";
import { benchSpace, createCollection, populate } from "../speed/populate.ts";
import { FILTERS, K, measureSearch } from "../speed/search-latency.ts";
import { load, round } from "../speed/stats.ts";
import { NearDuplicateGenerator } from "../speed/synthetic.ts";

const COLLECTION = "scale";
/** The generator's seed: the same rows on both stores. */
const ROWS_SEED = 11;
/** Each query list is timed this many times over (more samples for the p95, same queries). */
const PASSES = 2;

export interface StorePlan {
  readonly rows: number;
  readonly centres: readonly Float32Array[];
  readonly queries: readonly Float32Array[];
  /** Fresh connections whose first search is timed (a bot after a restart). */
  readonly coldOpens: number;
  readonly log: (line: string) => void;
}

export interface FilterLatency {
  readonly label: string;
  readonly searches: number;
  readonly p50: number;
  readonly p95: number;
  readonly mean: number;
  /** Against the exact top 10 (JS scan of the generated rows). */
  readonly recall: number;
  readonly load: number;
}

export interface StoreRun {
  readonly store: "local" | "s3rver";
  readonly location: string;
  readonly populateSeconds: number;
  readonly index: { readonly outcome: string; readonly seconds: number };
  readonly filters: FilterLatency[];
  /** The first search on a newly opened connection, ms, one per open (different queries). */
  readonly cold: readonly number[];
}

export interface StoreComparison {
  readonly rows: number;
  readonly dimension: number;
  readonly queries: number;
  readonly local: StoreRun;
  readonly s3: StoreRun;
  /** Share of the local top 10 that s3rver's search returned too, per filter (same rows, separately trained indexes). */
  readonly agreement: Record<string, number>;
  readonly loadAtStart: number;
  readonly loadAtEnd: number;
}

/**
 * `maintain()` under the shipped index policy, as the bot and the CLI call it after writes: builds
 * the shipped ANN index (and the filter columns' bitmap indexes) once the table is large enough.
 */
export async function maintainShipped(
  location: string,
  space: VectorSpace,
  collection: string,
): Promise<{ outcome: string; seconds: number }> {
  const store = await ImageStore.open(location, space, DEFAULT_INDEX_POLICY);
  try {
    const table = await store.collection(collection);
    const started = performance.now();
    const outcome = await table.maintain();
    return { outcome, seconds: round((performance.now() - started) / 1000, 2) };
  } finally {
    store.close();
  }
}

async function build(location: string, plan: StorePlan, onChunk?: (first: number, vectors: Float32Array, count: number) => void) {
  const dimension = plan.centres[0]!.length;
  await createCollection(location, COLLECTION, dimension);
  const populated = await populate(location, COLLECTION, new NearDuplicateGenerator(plan.centres, ROWS_SEED), plan.rows, { onChunk });
  const index = await maintainShipped(location, benchSpace(dimension), COLLECTION);
  if (index.outcome !== "indexed") throw new Error(`maintain() at ${plan.rows} rows did "${index.outcome}", expected a new index`);
  return { populateSeconds: round(populated.seconds, 2), index };
}

export async function compareStores(plan: StorePlan): Promise<StoreComparison> {
  const loadAtStart = load();
  const dimension = plan.centres[0]!.length;
  const exact = FILTERS.map((filter) => new ExactTopK(plan.queries, K, filter.keeps));
  const localDir = await mkdtemp(path.join(os.tmpdir(), "lookalike-bench-scale-local-"));
  const s3 = await useFakeS3("lookalike-bench");
  const uri = s3.freshUri("scale");
  try {
    plan.log(`scale: ${plan.rows} rows into a local folder (with the exact top ${K} for recall)`);
    const localBuild = await build(localDir, plan, (first, vectors, count) => exact.forEach((e) => e.add(first, vectors, count)));
    plan.log(`scale: the same ${plan.rows} rows into ${uri} on s3rver (${s3.endpoint})`);
    const s3Build = await build(uri, plan);

    const timed = [...Array(PASSES)].flatMap(() => plan.queries);
    const measured: Record<StoreRun["store"], FilterLatency[]> = { local: [], s3rver: [] };
    const answers: Record<StoreRun["store"], number[][][]> = { local: [], s3rver: [] };
    // Filter by filter, local then s3rver, so drifting load from other work hits both alike.
    for (const [i, filter] of FILTERS.entries()) {
      const truth = exact[i]!.results();
      for (const [store, location] of [
        ["local", localDir],
        ["s3rver", uri],
      ] as const) {
        plan.log(`scale: ${store}, filter ${filter.label}: ${timed.length} searches`);
        const run = await measureSearch(location, COLLECTION, dimension, timed, { filter: filter.filter });
        const rows = run.rows.slice(0, plan.queries.length);
        answers[store].push(rows);
        measured[store].push({
          label: filter.label,
          searches: timed.length,
          p50: round(run.p50, 2),
          p95: round(run.p95, 2),
          mean: round(run.mean, 2),
          recall: round(recallAtK(rows, truth), 3),
          load: load(),
        });
      }
    }
    const cold = async (location: string) => {
      const samples: number[] = [];
      for (const query of plan.queries.slice(0, plan.coldOpens)) {
        samples.push(round((await measureSearch(location, COLLECTION, dimension, [query], { warmup: 0 })).p50, 2));
      }
      return samples;
    };
    plan.log(`scale: first search on ${plan.coldOpens} new connections to each store`);
    const coldLocal = await cold(localDir);
    const coldS3 = await cold(uri);
    const agreement = Object.fromEntries(
      FILTERS.map((filter, i) => [filter.label, round(recallAtK(answers.s3rver[i]!, answers.local[i]!), 3)]),
    );
    return {
      rows: plan.rows,
      dimension,
      queries: plan.queries.length,
      local: { store: "local", location: "a temp folder", ...localBuild, filters: measured.local, cold: coldLocal },
      s3: { store: "s3rver", location: uri, ...s3Build, filters: measured.s3rver, cold: coldS3 },
      agreement,
      loadAtStart,
      loadAtEnd: load(),
    };
  } finally {
    await s3.stop();
    // s3rver's objects would otherwise stay until this process exits (test/support/temp.ts).
    await rm(s3.directory, { recursive: true, force: true });
    await rm(localDir, { recursive: true, force: true });
  }
}
