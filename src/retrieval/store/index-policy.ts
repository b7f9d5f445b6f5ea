/**
 * The ANN index policy: which vector index a collection table gets, when it is built, topped up
 * or retrained, how many partitions it is trained with, and how a search through it is tuned.
 * Decisions only; `CollectionTable.maintain()` and `search()` carry them out.
 */
import * as lancedb from "@lancedb/lancedb";

/** IVF training: one partition per `rowsPerPartition` rows (LanceDB's default: √rows); k-means effort. */
interface IvfTraining {
  readonly rowsPerPartition?: number;
  /** Training vectors per partition (LanceDB's default 256). */
  readonly sampleRate?: number;
  /** k-means iterations (LanceDB's default 50). */
  readonly maxIterations?: number;
}

/** The ANN index `maintain()` builds. */
export type VectorIndexSpec =
  | (IvfTraining & { readonly type: "ivf_rq"; readonly numBits?: number })
  | (IvfTraining & { readonly type: "ivf_flat" })
  | (IvfTraining & { readonly type: "ivf_pq"; readonly numSubVectors?: number })
  | (IvfTraining & { readonly type: "ivf_hnsw_sq"; readonly m?: number; readonly efConstruction?: number });

export interface IndexPolicy {
  /** Build an ANN index once a collection has this many rows; below it a flat scan is fast enough. */
  readonly minRowsForIndex: number;
  /** Fold new rows into the index (and compact fragments) once this many are unindexed. */
  readonly reindexAfterRows: number;
  /** Candidates the ANN index returns per wanted result, re-scored exactly. */
  readonly refineFactor: number;
  /** HNSW candidate list (ignored by IVF-only indexes). */
  readonly ef: number;
  /** IVF partitions searched per query: at least this many (LanceDB's default, 20, when absent)… */
  readonly nprobes?: number;
  /**
   * …and at least this share of the index's partitions. Recall follows the share of the table a
   * query probes, and with √rows partitions a fixed count probes less and less as a server grows.
   */
  readonly probeFraction?: number;
  /** Which index to build (DEFAULT_VECTOR_INDEX when absent). */
  readonly index?: VectorIndexSpec;
  /**
   * Retrain the index from scratch once the table has grown this many times past the rows it was
   * trained on: `optimize()` only appends new rows to the old partitions, which then grow and slow
   * every probe down (absent: never).
   */
  readonly retrainGrowth?: number;
  /** Search a table without an index in this process up to this many rows (absent: DEFAULT_SCAN_HERE_MAX_ROWS). */
  readonly scanHereMaxRows?: number;
}

/**
 * Rows up to which a table without an index is searched in this process (exact-scan.ts): its ids
 * and vectors read in one query, the best rows' columns in a second. LanceDB's flat search costs a
 * few ms per query vector at any size; 15 vectors, one-off probe: 30 rows 48 → 15 ms, 300 rows
 * 85 → 51 ms, 3,000 rows 307 → 287 ms (CPU 521 → 287 ms). So up to about there, and never the many
 * rows of a table whose policy builds no index.
 */
export const DEFAULT_SCAN_HERE_MAX_ROWS = 2_000;

/**
 * IVF with RaBitQ codes (1 bit per dimension; `refineFactor` re-scores the candidates exactly) and
 * √rows partitions, trained with a light k-means (64 samples per partition, 20 iterations: the
 * same recall as LanceDB's 256 × 50 on our vectors, for less work). On 1280-d vectors it trains in
 * seconds at 100k rows where IVF_PQ takes minutes, and searches as fast at the same recall
 * (bench/speed; numbers in bench/RESULTS.md), so retraining it as a server grows is affordable.
 */
export const DEFAULT_VECTOR_INDEX: VectorIndexSpec = { type: "ivf_rq", sampleRate: 64, maxIterations: 20 };

export const DEFAULT_INDEX_POLICY: IndexPolicy = {
  minRowsForIndex: 5_000,
  reindexAfterRows: 2_000,
  refineFactor: 4,
  ef: 64,
  nprobes: 40,
  probeFraction: 0.2,
  index: DEFAULT_VECTOR_INDEX,
  retrainGrowth: 2,
};

/**
 * Scalar indexes, so that finding rows by a column's value is an index lookup instead of a scan of
 * every row:
 * - `id` (btree): every write is an upsert (`mergeInsert` on id), which without it reads every id
 *   in the table to join on. On the 1M-row scale database one upsert took 150–200 ms and lifted
 *   the process's peak memory by ~125 MiB; with it, 17–40 ms and ~28 MiB (one-off probe, 3 upserts
 *   each way). Lookups by id (the parts of candidates, known images) use it too.
 * - `channel_id`, `parent_id` (bitmaps): the channel filters (`channelIds`, `visibleChannelIds`):
 *   at 1M rows the visibility filter went from ~60 ms to ~20 ms a search; a btree was slower for
 *   long `IN` lists.
 * - `message_id`, `created_at` (btrees): a repost check's "not this message, posted before it".
 *   On the 1M-row database, 16 query vectors under that filter took ~1.7 s and peaked 30–35 MiB
 *   above the visibility filter alone without them, ~0.9 s and 0–3 MiB above it with them and the
 *   newer rows dropped by id (`CollectionTable.searchMany`; one-off probe, 5 searches × 2 runs).
 */
export const SCALAR_INDEXES = {
  id: "btree",
  channel_id: "bitmap",
  parent_id: "bitmap",
  message_id: "btree",
  created_at: "btree",
} as const;

/** What the table's vector index looks like, as `listIndices()` reports it. */
export type VectorIndexState = Pick<lancedb.IndexConfig, "name" | "indexType" | "numUnindexedRows">;

/**
 * What `maintain()` does next: nothing, build the first index, retrain it from scratch (the table
 * outgrew the partitions it was trained with, or the policy asks for another kind of index), or
 * fold the unindexed rows into it.
 */
export type IndexUpkeep = "none" | "build" | "retrain" | "optimize";

export function indexUpkeep(policy: IndexPolicy, rows: number, index: VectorIndexState | undefined): IndexUpkeep {
  if (!index) return rows < policy.minRowsForIndex ? "none" : "build";
  const spec = policy.index ?? DEFAULT_VECTOR_INDEX;
  const trained = trainedRows(index.name);
  const outgrown = policy.retrainGrowth !== undefined && trained !== undefined && rows >= trained * policy.retrainGrowth;
  if (outgrown || index.indexType !== INDEX_TYPE_NAMES[spec.type]) return "retrain";
  return (index.numUnindexedRows ?? 0) < policy.reindexAfterRows ? "none" : "optimize";
}

/**
 * The name of an index trained on `rows` rows. The name records the rows, so a later `maintain()`
 * knows when the table has outgrown it.
 */
export function vectorIndexName(rows: number): string {
  return `vector_idx_${rows}`;
}

/** How a search through the index `indexName` is tuned when it wants `limit` results. */
export function annSearchTuning(
  policy: IndexPolicy,
  indexName: string,
  limit: number,
): { refineFactor: number; ef: number; nprobes: number } {
  return {
    refineFactor: policy.refineFactor,
    // An HNSW graph refuses an ef below the candidates it must return (limit × refineFactor).
    ef: Math.max(policy.ef, limit * policy.refineFactor),
    nprobes: probes(policy, indexName),
  };
}

/**
 * Rows one LanceDB query may have under probe at once, over all its query vectors: LanceDB searches
 * a query's vectors concurrently, each loading the partitions it probes. Four vectors at a time on
 * the 1M-row scale database, where that was measured: a bare process searching it 30 times with
 * 16 vectors under the visibility filter peaked at 668 MiB with all 16 in one query, 553 MiB four
 * at a time, no slower (`node --import tsx bench/scale/table-memory.ts <lancedb folder> <collection>
 * 30 16`, allocator tuned). On a smaller table a query's vectors fit in one query, which is faster:
 * at 100k rows a repost check's 9–12 vectors searched in one query instead of four at a time took
 * 70 instead of 100 ms (p50; `npm run bench -- --only check`, one-off runs each way, 2026-12-04).
 */
export const MAX_ROWS_PROBED_AT_ONCE = 800_000;

/**
 * Query vectors per LanceDB query on an indexed table: as many as keep the rows under probe within
 * MAX_ROWS_PROBED_AT_ONCE, at least one. Counted on the rows the index was trained on (a table
 * grows to `retrainGrowth` times them before its retrain); 4 for an index of unknown size.
 */
export function vectorsPerQuery(policy: IndexPolicy, indexName: string): number {
  const trained = trainedRows(indexName);
  if (trained === undefined) return UNKNOWN_INDEX_VECTORS_PER_QUERY;
  const partitions = partitionCount(policy.index ?? DEFAULT_VECTOR_INDEX, trained);
  const rowsPerVector = (Math.min(partitions, probes(policy, indexName)) * trained) / partitions;
  return Math.max(1, Math.floor(MAX_ROWS_PROBED_AT_ONCE / rowsPerVector));
}

/** What vectorsPerQuery falls back to without the index's size: the count measured at 1M rows. */
const UNKNOWN_INDEX_VECTORS_PER_QUERY = 4;

/** Partitions a search probes: `nprobes`, or `probeFraction` of the index's partitions if more. */
function probes(policy: IndexPolicy, indexName: string): number {
  const floor = policy.nprobes ?? 20;
  const trained = trainedRows(indexName);
  if (trained === undefined || !policy.probeFraction) return floor;
  const partitions = partitionCount(policy.index ?? DEFAULT_VECTOR_INDEX, trained);
  return Math.max(floor, Math.ceil(policy.probeFraction * partitions));
}

/** `listIndices()` names of the index types, to notice an index built under another policy. */
const INDEX_TYPE_NAMES: Record<VectorIndexSpec["type"], string> = {
  ivf_rq: "IvfRq",
  ivf_flat: "IvfFlat",
  ivf_pq: "IvfPq",
  ivf_hnsw_sq: "IvfHnswSq",
};

/** Rows an index was trained on, from its name (`vector_idx_<rows>`); undefined for older indexes. */
function trainedRows(indexName: string): number | undefined {
  const match = /^vector_idx_(\d+)$/.exec(indexName);
  return match ? Number(match[1]) : undefined;
}

export function partitionCount(spec: VectorIndexSpec, rows: number): number {
  return Math.max(1, Math.round(rows / (spec.rowsPerPartition ?? Math.max(1, Math.sqrt(rows)))));
}

export function vectorIndexConfig(spec: VectorIndexSpec, rows: number): lancedb.Index {
  const numPartitions = partitionCount(spec, rows);
  const common = {
    distanceType: "cosine" as const,
    numPartitions,
    ...(spec.sampleRate ? { sampleRate: spec.sampleRate } : {}),
    ...(spec.maxIterations ? { maxIterations: spec.maxIterations } : {}),
  };
  switch (spec.type) {
    case "ivf_rq":
      return lancedb.Index.ivfRq({ ...common, numBits: spec.numBits ?? 1 });
    case "ivf_flat":
      return lancedb.Index.ivfFlat(common);
    case "ivf_pq":
      return lancedb.Index.ivfPq({ ...common, ...(spec.numSubVectors ? { numSubVectors: spec.numSubVectors } : {}) });
    case "ivf_hnsw_sq":
      return lancedb.Index.hnswSq({ ...common, m: spec.m ?? 20, efConstruction: spec.efConstruction ?? 300 });
  }
}
