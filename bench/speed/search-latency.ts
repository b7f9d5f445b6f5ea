/**
 * Search latency through the product's own code path (`CollectionTable.search`, k = 10), with and
 * without a channel filter, and the ids it returns (for recall against exact search).
 */
import * as lancedb from "@lancedb/lancedb";
import type { RowFilter } from "../../src/retrieval/filters.ts";
import { ImageStore } from "../../src/retrieval/store/image-store.ts";
import { DEFAULT_INDEX_POLICY, type IndexPolicy, type VectorIndexSpec } from "../../src/retrieval/store/index-policy.ts";
import { benchSpace, CHANNELS, channelId, FILTER_CHANNEL, TABLE_PREFIX } from "./populate.ts";
import { percentile } from "./stats.ts";

export const K = 10;

export interface FilterCase {
  readonly label: string;
  readonly filter?: RowFilter;
  /** Which rows the filter keeps (by row number), for the exact ground truth. */
  readonly keeps: (row: number) => boolean;
}

/** No filter; one channel out of 20 (5% of rows); the bot's visibility filter over 15 of 20 channels. */
export const FILTERS: readonly FilterCase[] = [
  { label: "none", keeps: () => true },
  { label: "1 channel (5%)", filter: { channelIds: [FILTER_CHANNEL] }, keeps: (row) => channelId(row) === FILTER_CHANNEL },
  {
    label: "visible: 15 of 20 channels",
    filter: { visibleChannelIds: Array.from({ length: 15 }, (_, i) => channelId(i)) },
    keeps: (row) => row % CHANNELS < 15,
  },
];

export interface LatencyResult {
  readonly p50: number;
  readonly p95: number;
  readonly mean: number;
  /** Row numbers returned per query. */
  readonly rows: number[][];
}

export const rowOf = (id: string): number => Number(id) - 10_000_000_000;

/** Runs every query once (after `warmup` untimed ones) through a fresh store opened with `policy`. */
export async function measureSearch(
  dir: string,
  collection: string,
  dimension: number,
  queries: readonly Float32Array[],
  options: { policy?: IndexPolicy; filter?: RowFilter; warmup?: number } = {},
): Promise<LatencyResult> {
  const store = await ImageStore.open(dir, benchSpace(dimension), options.policy ?? DEFAULT_INDEX_POLICY);
  try {
    const table = await store.collection(collection);
    const warmup = options.warmup ?? 3;
    for (let i = 0; i < warmup; i++) await table.search(queries[i % queries.length]!, { k: K, filter: options.filter });
    const latencies: number[] = [];
    const rows: number[][] = [];
    for (const query of queries) {
      const started = performance.now();
      const matches = await table.search(query, { k: K, filter: options.filter });
      latencies.push(performance.now() - started);
      rows.push(matches.map((match) => rowOf(match.id)));
    }
    return {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      mean: latencies.reduce((a, b) => a + b, 0) / latencies.length,
      rows,
    };
  } finally {
    store.close();
  }
}

/** Drops every vector index of the collection (to compare index types on the same rows). */
export async function dropVectorIndexes(dir: string, collection: string): Promise<void> {
  const db = await lancedb.connect(dir);
  const table = await db.openTable(TABLE_PREFIX + collection);
  for (const index of await table.listIndices()) if (index.columns.includes("vector")) await table.dropIndex(index.name);
  table.close();
  db.close();
}

/**
 * Builds `spec` through the product's `maintain()` (policy with minRowsForIndex 0) after dropping
 * any earlier vector index, timed. Returns the wall seconds and what maintain() reported.
 */
export async function buildThroughMaintain(
  dir: string,
  collection: string,
  dimension: number,
  spec: VectorIndexSpec,
): Promise<{ seconds: number; outcome: string }> {
  await dropVectorIndexes(dir, collection);
  const policy: IndexPolicy = { ...DEFAULT_INDEX_POLICY, minRowsForIndex: 0, index: spec, retrainGrowth: undefined };
  const store = await ImageStore.open(dir, benchSpace(dimension), policy);
  try {
    const table = await store.collection(collection);
    const started = performance.now();
    const outcome = await table.maintain();
    return { seconds: (performance.now() - started) / 1000, outcome };
  } finally {
    store.close();
  }
}

export function describeSpec(spec: VectorIndexSpec): string {
  const parts: string[] = [spec.type.toUpperCase()];
  if (spec.rowsPerPartition) parts.push(`${spec.rowsPerPartition} rows/partition`);
  if (spec.sampleRate || spec.maxIterations) parts.push(`k-means ${spec.sampleRate ?? 256}/partition × ${spec.maxIterations ?? 50} it.`);
  if (spec.type === "ivf_rq" && spec.numBits) parts.push(`${spec.numBits} bit`);
  if (spec.type === "ivf_pq" && spec.numSubVectors) parts.push(`${spec.numSubVectors} sub-vectors`);
  if (spec.type === "ivf_hnsw_sq") parts.push(`m ${spec.m ?? 20}, efC ${spec.efConstruction ?? 300}`);
  return parts.join(", ");
}
