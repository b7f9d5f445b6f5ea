/**
 * One collection size: flat search, the shipped ANN index (build time through `maintain()`, a
 * grid of search parameters), alternative index types, and the index's life as rows arrive.
 * Rows are near-duplicates of real embeddings (synthetic.ts); ground truth is an exact JS scan
 * computed while the rows are generated.
 */

import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import * as lancedb from "@lancedb/lancedb";
import { ImageStore } from "../../src/retrieval/store/image-store.ts";
import {
  DEFAULT_INDEX_POLICY,
  DEFAULT_VECTOR_INDEX,
  type IndexPolicy,
  partitionCount,
  type VectorIndexSpec,
} from "../../src/retrieval/store/index-policy.ts";
import { ExactTopK, recallAtK } from "./exact.ts";
import { benchSpace, createCollection, populate, TABLE_PREFIX } from "./populate.ts";
import { type MaintainProcessResult, maintainProcess, type SearchProcessResult, searchProcess } from "./rss.ts";
import { buildThroughMaintain, describeSpec, dropVectorIndexes, type FilterCase, K, measureSearch } from "./search-latency.ts";
import { median } from "./stats.ts";
import { NearDuplicateGenerator } from "./synthetic.ts";

export type SearchParams = Required<Pick<IndexPolicy, "nprobes" | "probeFraction" | "refineFactor" | "ef">>;

export const shippedParams = (): SearchParams => ({
  nprobes: DEFAULT_INDEX_POLICY.nprobes ?? 20,
  probeFraction: DEFAULT_INDEX_POLICY.probeFraction ?? 0,
  refineFactor: DEFAULT_INDEX_POLICY.refineFactor,
  ef: DEFAULT_INDEX_POLICY.ef,
});

/** What `CollectionTable.search` probes with `params` on an index of `spec` trained on `rows`. */
export function probes(spec: VectorIndexSpec, rows: number, params: SearchParams): { partitions: number; nprobes: number } {
  const partitions = partitionCount(spec, rows);
  return { partitions, nprobes: Math.max(params.nprobes, Math.ceil(params.probeFraction * partitions)) };
}

export function describeParams(spec: VectorIndexSpec, rows: number, params: SearchParams): string {
  const { partitions, nprobes } = probes(spec, rows, params);
  return `${Math.round(params.probeFraction * 100)}% of ${partitions} partitions (nprobes ${Math.min(nprobes, partitions)}), refine ${params.refineFactor}`;
}

export interface Variant {
  readonly spec: VectorIndexSpec;
  readonly params: SearchParams;
}

export interface ScalePlan {
  readonly rows: number;
  readonly centres: readonly Float32Array[];
  readonly queries: readonly Float32Array[];
  readonly filters: readonly FilterCase[];
  /** Queries timed for the flat scan (slow at 1M). */
  readonly flatQueries: number;
  readonly grid: readonly SearchParams[];
  readonly variants: readonly Variant[];
  /** Train the shipped index on half the rows first, grow the table, and measure optimize() vs retraining. */
  readonly growth: boolean;
  /** Build the shipped index in a child process (peak RSS of the build) and measure a search process's RSS. */
  readonly childProcesses: boolean;
  /** New rows for the maintenance step, written in small batches like the bot's per-message writes. */
  readonly arriving: number;
  readonly log: (line: string) => void;
}

export interface Measured {
  readonly label: string;
  readonly buildSeconds?: number;
  readonly params?: SearchParams;
  /** Per filter label. */
  readonly p50: Record<string, number>;
  readonly p95: Record<string, number>;
  readonly recall: Record<string, number>;
}

export interface ScaleResult {
  readonly rows: number;
  readonly populateSeconds: number;
  /** Median cosine of each query's 1st and 10th exact neighbour (how close the data is). */
  readonly neighbourCosine: { first: number; tenth: number };
  readonly flat: Measured;
  readonly shipped: Measured[];
  readonly shippedBuildSeconds: number;
  readonly variants: Measured[];
  readonly growth?: {
    readonly trainedRows: number;
    readonly trainSeconds: number;
    readonly optimizeSeconds: number;
    readonly outgrown: Measured;
    readonly retrainSeconds: number;
    readonly retrained: Measured;
  };
  readonly maintenance: {
    readonly arriving: number;
    readonly writes: number;
    readonly fragmentsBefore: number;
    readonly fragmentsAfter: number;
    readonly unindexed: Measured;
    readonly outcome: string;
    readonly seconds: number;
    readonly after: Measured;
    readonly indexSegments: number | undefined;
  };
  readonly build?: MaintainProcessResult & { peakMiB: number | undefined };
  readonly searchProcess?: SearchProcessResult;
}

const COLLECTION = "scale";
const DIMENSION = 1280;

export async function runScale(plan: ScalePlan): Promise<ScaleResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "lookalike-bench-speed-scale-"));
  const { log } = plan;
  try {
    await createCollection(dir, COLLECTION, DIMENSION);
    const generator = new NearDuplicateGenerator(plan.centres, 11);
    const exact = plan.filters.map((filter) => new ExactTopK(plan.queries, K, filter.keeps));
    let rows = 0;
    let populateSeconds = 0;
    const grow = async (count: number, chunk?: number) => {
      const result = await populate(dir, COLLECTION, generator, count, {
        first: rows,
        chunk,
        onChunk: (first, vectors, n) => exact.forEach((e) => e.add(first, vectors, n)),
      });
      rows += count;
      populateSeconds += result.seconds;
    };
    const truth = () => exact.map((e) => e.results());
    const measure = async (
      label: string,
      policy: IndexPolicy,
      extra: Partial<Measured> = {},
      queryCount = plan.queries.length,
    ): Promise<Measured> => {
      const t = truth();
      const p50: Record<string, number> = {};
      const p95: Record<string, number> = {};
      const recall: Record<string, number> = {};
      for (const [i, filter] of plan.filters.entries()) {
        const run = await measureSearch(dir, COLLECTION, DIMENSION, plan.queries.slice(0, queryCount), {
          policy,
          filter: filter.filter,
          warmup: queryCount < 10 ? 1 : 3,
        });
        p50[filter.label] = run.p50;
        p95[filter.label] = run.p95;
        recall[filter.label] = recallAtK(run.rows, t[i]!.slice(0, queryCount));
      }
      return { label, p50, p95, recall, ...extra };
    };
    const policyFor = (spec: VectorIndexSpec, params: SearchParams): IndexPolicy => ({ ...DEFAULT_INDEX_POLICY, ...params, index: spec });
    const shippedPolicy = policyFor(DEFAULT_INDEX_POLICY.index ?? DEFAULT_VECTOR_INDEX, shippedParams());
    const shippedSpec = shippedPolicy.index!;

    let growth: ScaleResult["growth"];
    if (plan.growth) {
      const half = Math.round(plan.rows / 2);
      log(`  ${plan.rows}: ${half} rows, train the shipped index, then grow to ${plan.rows}`);
      await grow(half);
      const trained = await buildThroughMaintain(dir, COLLECTION, DIMENSION, shippedSpec);
      await grow(plan.rows - half);
      // Fold the new half in with optimize() only (retraining disabled), as the old policy did.
      const noRetrain = await maintainWith(dir, { ...shippedPolicy, retrainGrowth: undefined });
      const outgrown = await measure(`trained on ${half}, ${plan.rows - half} folded in by optimize()`, shippedPolicy, {
        buildSeconds: noRetrain.seconds,
      });
      const retrain = await maintainWith(dir, shippedPolicy);
      if (retrain.outcome !== "indexed") throw new Error(`expected maintain() to retrain at ${rows} rows, got ${retrain.outcome}`);
      const retrained = await measure(`retrained on ${plan.rows} by maintain()`, shippedPolicy, { buildSeconds: retrain.seconds });
      growth = {
        trainedRows: half,
        trainSeconds: trained.seconds,
        optimizeSeconds: noRetrain.seconds,
        outgrown,
        retrainSeconds: retrain.seconds,
        retrained,
      };
    } else {
      log(`  ${plan.rows}: generating rows and exact neighbours`);
      await grow(plan.rows);
    }

    log(`  ${plan.rows}: flat search`);
    await dropVectorIndexes(dir, COLLECTION);
    const flat = await measure("flat (no index)", shippedPolicy, {}, Math.min(plan.flatQueries, plan.queries.length));

    const variants: Measured[] = [];
    for (const variant of plan.variants) {
      log(`  ${plan.rows}: ${describeSpec(variant.spec)}`);
      const built = await buildThroughMaintain(dir, COLLECTION, DIMENSION, variant.spec);
      const label = `${describeSpec(variant.spec)}: ${describeParams(variant.spec, plan.rows, variant.params)}`;
      variants.push(await measure(label, policyFor(variant.spec, variant.params), { buildSeconds: built.seconds, params: variant.params }));
    }

    log(`  ${plan.rows}: shipped index (${describeSpec(shippedSpec)})`);
    await dropVectorIndexes(dir, COLLECTION);
    let build: ScaleResult["build"];
    let shippedBuildSeconds: number;
    if (plan.childProcesses) {
      build = await maintainProcess(dir, `${COLLECTION}`, DIMENSION);
      shippedBuildSeconds = build.seconds;
    } else {
      shippedBuildSeconds = (await buildThroughMaintain(dir, COLLECTION, DIMENSION, shippedSpec)).seconds;
    }
    const shipped: Measured[] = [];
    for (const params of plan.grid) {
      shipped.push(await measure(describeParams(shippedSpec, plan.rows, params), policyFor(shippedSpec, params), { params }));
    }
    const searchProc = plan.childProcesses ? await searchProcess(dir, COLLECTION, DIMENSION, 20) : undefined;

    log(`  ${plan.rows}: ${plan.arriving} new rows in small writes, then maintain()`);
    const chunk = 50;
    await grow(plan.arriving, chunk);
    const fragmentsBefore = (await tableStats(dir)).fragmentStats.numFragments;
    const unindexed = await measure(`${plan.arriving} rows not yet indexed`, shippedPolicy);
    // As the CLI and the bot call it: maintain(), and compact() when it had nothing to do.
    const maintained = await maintainWith(dir, shippedPolicy, true);
    const fragmentsAfter = (await tableStats(dir)).fragmentStats.numFragments;
    const after = await measure(`after maintain() (${maintained.outcome})`, shippedPolicy);
    const segments = (await listVectorIndex(dir))?.numSegments;

    return {
      rows: plan.rows,
      populateSeconds,
      neighbourCosine: { first: median(exact[0]!.scoresAt(1)), tenth: median(exact[0]!.scoresAt(K)) },
      flat,
      shipped,
      shippedBuildSeconds,
      variants,
      growth,
      maintenance: {
        arriving: plan.arriving,
        writes: Math.ceil(plan.arriving / chunk),
        fragmentsBefore,
        fragmentsAfter,
        unindexed,
        outcome: maintained.outcome,
        seconds: maintained.seconds,
        after,
        indexSegments: segments,
      },
      build,
      searchProcess: searchProc,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function maintainWith(dir: string, policy: IndexPolicy, compactWhenIdle = false): Promise<{ outcome: string; seconds: number }> {
  const store = await ImageStore.open(dir, benchSpace(DIMENSION), policy);
  try {
    const table = await store.collection(COLLECTION);
    const started = performance.now();
    let outcome: string = await table.maintain();
    if (outcome === "none" && compactWhenIdle) {
      await table.compact();
      outcome = "none, then compact()";
    }
    return { outcome, seconds: (performance.now() - started) / 1000 };
  } finally {
    store.close();
  }
}

async function withTable<T>(dir: string, work: (table: lancedb.Table) => Promise<T>): Promise<T> {
  const db = await lancedb.connect(dir);
  const table = await db.openTable(TABLE_PREFIX + COLLECTION);
  try {
    return await work(table);
  } finally {
    table.close();
    db.close();
  }
}

const tableStats = (dir: string) => withTable(dir, (table) => table.stats());
const listVectorIndex = (dir: string) =>
  withTable(dir, async (table) => (await table.listIndices()).find((index) => index.columns.includes("vector")));
