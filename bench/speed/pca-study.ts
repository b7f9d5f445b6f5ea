/**
 * Would compacting the vectors to 256-d with PCA pay? Recall of exact search in the reduced space
 * against exact 1280-d search on real embeddings, and the flat-scan latency of a 256-d table.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { spread } from "./datasets.ts";
import { dot, ExactTopK, recallAtK } from "./exact.ts";
import { fitPca, project } from "./pca.ts";
import { createCollection, populate } from "./populate.ts";
import type { RealEmbeddings } from "./real-embeddings.ts";
import { K, measureSearch } from "./search-latency.ts";
import { NearDuplicateGenerator } from "./synthetic.ts";

export interface PcaStudy {
  readonly dimension: number;
  readonly fitRows: number;
  readonly fitSeconds: number;
  readonly explainedVariance: number;
  readonly recall: number;
  readonly rerankDepth: number;
  readonly recallReranked: number;
  readonly rows: number;
  readonly flat256P50: number;
}

function pack(vectors: readonly Float32Array[]): Float32Array {
  const d = vectors[0]!.length;
  const out = new Float32Array(vectors.length * d);
  vectors.forEach((v, i) => out.set(v, i * d));
  return out;
}

export async function pcaStudy(real: RealEmbeddings, rows: number, log: (line: string) => void, dimension = 256): Promise<PcaStudy> {
  const fitSet = spread(real.rows, 3_000);
  const started = performance.now();
  const pca = fitPca(fitSet, dimension, 6);
  const fitSeconds = (performance.now() - started) / 1000;
  log(`  PCA fitted in ${fitSeconds.toFixed(1)} s`);

  const full = new ExactTopK(real.queries, K);
  full.add(0, pack(real.rows), real.rows.length);
  const projectedRows = real.rows.map((v) => project(pca, v));
  const projectedQueries = real.queries.map((v) => project(pca, v));
  const rerankDepth = 4 * K;
  const reduced = new ExactTopK(projectedQueries, rerankDepth);
  reduced.add(0, pack(projectedRows), projectedRows.length);
  const candidates = reduced.results();
  const top = candidates.map((ids) => ids.slice(0, K));
  const reranked = candidates.map((ids, q) =>
    ids
      .map((id) => ({ id, score: dot(real.queries[q]!, real.rows[id]!, 0, real.rows[id]!.length) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, K)
      .map((x) => x.id),
  );

  // Flat-scan latency of a 256-d table of the same size as the 1280-d one it is compared with.
  const dir = await mkdtemp(path.join(os.tmpdir(), "lookalike-bench-speed-pca-"));
  try {
    await createCollection(dir, "pca", dimension);
    await populate(dir, "pca", new NearDuplicateGenerator(projectedRows, 3), rows);
    const flat = await measureSearch(dir, "pca", dimension, projectedQueries.slice(0, 20));
    return {
      dimension,
      fitRows: fitSet.length,
      fitSeconds,
      explainedVariance: pca.explainedVariance,
      recall: recallAtK(top, full.results()),
      rerankDepth,
      recallReranked: recallAtK(reranked, full.results()),
      rows,
      flat256P50: flat.p50,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
