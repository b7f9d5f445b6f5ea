/**
 * Recall@10 of the ANN index against exact search on REAL embeddings (CIFAR-10 + flowers + museum
 * paintings, ~6.6k rows), queried with held-out images ("novel") and the museum's re-photographed
 * copies ("repost"). Searches go through `CollectionTable.search`; the truth is an exact JS scan.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DEFAULT_INDEX_POLICY, type IndexPolicy, type VectorIndexSpec } from "../../src/retrieval/store/index-policy.ts";
import { ExactTopK, recallAtK } from "./exact.ts";
import { createCollection, populate } from "./populate.ts";
import type { RealEmbeddings } from "./real-embeddings.ts";
import { probes, type SearchParams } from "./scale.ts";
import { buildThroughMaintain, describeSpec, K, measureSearch } from "./search-latency.ts";
import { FixedRows } from "./synthetic.ts";

export interface RecallCase {
  readonly spec: VectorIndexSpec;
  readonly search: SearchParams;
}

export interface RecallRow {
  readonly index: string;
  readonly nprobes: number;
  readonly refineFactor: number;
  readonly partitions: number;
  readonly buildSeconds: number;
  readonly recall: number;
  readonly recallNovel: number;
  readonly recallRepost: number;
  readonly p50: number;
}

export async function realRecall(
  real: RealEmbeddings,
  cases: readonly RecallCase[],
  novelQueries: number,
): Promise<{ rows: number; queries: number; results: RecallRow[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "lookalike-bench-speed-recall-"));
  try {
    const dimension = real.rows[0]!.length;
    await createCollection(dir, "real", dimension);
    const exact = new ExactTopK(real.queries, K);
    await populate(dir, "real", new FixedRows(real.rows), real.rows.length, { onChunk: (first, v, n) => exact.add(first, v, n) });
    const truth = exact.results();
    const results: RecallRow[] = [];
    let built: string | undefined;
    let buildSeconds = 0;
    for (const { spec, search } of cases) {
      const key = JSON.stringify(spec);
      if (key !== built) {
        buildSeconds = (await buildThroughMaintain(dir, "real", dimension, spec)).seconds;
        built = key;
      }
      const policy: IndexPolicy = { ...DEFAULT_INDEX_POLICY, ...search, index: spec };
      const run = await measureSearch(dir, "real", dimension, real.queries, { policy });
      results.push({
        index: describeSpec(spec),
        partitions: probes(spec, real.rows.length, search).partitions,
        nprobes: Math.min(probes(spec, real.rows.length, search).nprobes, probes(spec, real.rows.length, search).partitions),
        refineFactor: policy.refineFactor,
        buildSeconds,
        recall: recallAtK(run.rows, truth),
        recallNovel: recallAtK(run.rows.slice(0, novelQueries), truth.slice(0, novelQueries)),
        recallRepost: recallAtK(run.rows.slice(novelQueries), truth.slice(novelQueries)),
        p50: run.p50,
      });
    }
    return { rows: real.rows.length, queries: real.queries.length, results };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
