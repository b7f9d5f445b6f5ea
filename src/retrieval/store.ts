/**
 * The image index: one LanceDB database folder, one table per collection (a Discord server, or a
 * CLI `--collection`). This class is the only code that talks to LanceDB.
 */
import path from "node:path";
import * as lancedb from "@lancedb/lancedb";
import type { Schema } from "apache-arrow";
import { arrow } from "./arrow.ts";
import { LookalikeError } from "./errors.ts";
import { buildWhere, type RowFilter } from "./filters.ts";
import { bytesToHash, hashToBytes } from "./hashes.ts";
import { WhiteningRepository } from "./whitening/repository.ts";

/** What built a collection's vectors; vectors from different builds are not comparable. */
export interface VectorSpace {
  readonly model: string;
  readonly descriptor: string;
  readonly dimension: number;
}

export interface ImageRecord {
  readonly id: string;
  readonly channelId?: string | null;
  /** The channel a thread belongs to, so a thread's images follow its parent's visibility. */
  readonly parentId?: string | null;
  readonly messageId?: string | null;
  readonly authorId?: string | null;
  readonly createdAt?: Date | null;
  readonly source: string;
  readonly width: number;
  readonly height: number;
  readonly phash: bigint;
  readonly dhash: bigint;
  readonly vector: Float32Array;
  readonly spoiler?: boolean;
  readonly thumbnail?: Buffer | null;
}

export type StoredImage = Omit<ImageRecord, "vector" | "thumbnail"> & { readonly collection: string };

export interface Match extends StoredImage {
  /** Cosine similarity with the query, recomputed exactly (1 = identical direction). */
  readonly score: number;
  /** The stored vector, when the search asked for it (re-ranking, flip checks). */
  readonly vector?: Float32Array;
}

export interface SearchOptions {
  readonly k: number;
  readonly filter?: RowFilter;
  /** Result ids to drop (e.g. the query itself); applied after the search, never spelled into SQL. */
  readonly excludeIds?: readonly string[];
  readonly withVectors?: boolean;
}

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
}

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
 * Columns of the channel filters (`channelIds`, `visibleChannelIds`): bitmap indexes make the
 * pre-filter a lookup instead of a scan of every row (at 1M rows the visibility filter went from
 * ~60 ms to ~20 ms a search; a btree was slower for long `IN` lists).
 */
const FILTER_COLUMNS = ["channel_id", "parent_id"] as const;

// Opt in to Lance's coming default now; otherwise every index-stats call logs a warning to stderr.
process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= "false";

const COLLECTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const TABLE_PREFIX = "images_";
const META = { model: "lookalike.model", descriptor: "lookalike.descriptor", dimension: "lookalike.dimension" } as const;
const RESULT_COLUMNS = [
  "id", "collection", "channel_id", "parent_id", "message_id", "author_id", "created_at", "source",
  "width", "height", "phash", "dhash", "spoiler",
] as const;

export function assertCollectionName(name: string): string {
  if (!COLLECTION_NAME.test(name)) {
    throw new LookalikeError(
      "collection_invalid",
      `Collection names are 1–64 letters, digits, "_" or "-"; got ${JSON.stringify(name)}.`,
      { collection: name },
    );
  }
  return name;
}

function imageSchema(space: VectorSpace): Schema {
  const { Field, Utf8, Int32, Bool, Binary, FixedSizeBinary, FixedSizeList, Float32, TimestampMillisecond } = arrow;
  return new arrow.Schema(
    [
      new Field("id", new Utf8(), false),
      new Field("collection", new Utf8(), false),
      new Field("channel_id", new Utf8(), true),
      new Field("parent_id", new Utf8(), true),
      new Field("message_id", new Utf8(), true),
      new Field("author_id", new Utf8(), true),
      new Field("created_at", new TimestampMillisecond(), true),
      new Field("source", new Utf8(), false),
      new Field("width", new Int32(), false),
      new Field("height", new Int32(), false),
      new Field("phash", new FixedSizeBinary(8), false),
      new Field("dhash", new FixedSizeBinary(8), false),
      new Field("spoiler", new Bool(), false),
      // Discord's attachment URLs expire after a day; a stored thumbnail keeps contact sheets working.
      new Field("thumbnail", new Binary(), true),
      new Field("vector", new FixedSizeList(space.dimension, new Field("item", new Float32(), true)), false),
    ],
    new Map([
      [META.model, space.model],
      [META.descriptor, space.descriptor],
      [META.dimension, String(space.dimension)],
    ]),
  );
}

export class ImageStore {
  private readonly tables = new Map<string, Promise<CollectionTable>>();
  /** Each collection's fitted whitening (the repost check's metric), kept in the same database. */
  readonly whitenings: WhiteningRepository;

  private constructor(
    private readonly db: lancedb.Connection,
    readonly space: VectorSpace,
    readonly policy: IndexPolicy,
  ) {
    this.whitenings = new WhiteningRepository(db);
  }

  static async open(directory: string, space: VectorSpace, policy: IndexPolicy = DEFAULT_INDEX_POLICY): Promise<ImageStore> {
    // An absolute path: LanceDB reads some relative strings as remote URIs.
    return new ImageStore(await lancedb.connect(path.resolve(directory)), space, policy);
  }

  async collections(): Promise<string[]> {
    const names = await this.db.tableNames();
    return names.filter((n) => n.startsWith(TABLE_PREFIX)).map((n) => n.slice(TABLE_PREFIX.length));
  }

  /** Opens (creating if needed) a collection; refuses one built with another model or descriptor. */
  collection(name: string): Promise<CollectionTable> {
    assertCollectionName(name);
    let table = this.tables.get(name);
    if (!table) {
      table = this.openTable(name);
      table.catch(() => this.tables.delete(name));
      this.tables.set(name, table);
    }
    return table;
  }

  /** Every collection with its size and what built it, without opening it for writing. */
  async summary(): Promise<{ name: string; rows: number; space: VectorSpace }[]> {
    const result = [];
    for (const name of await this.collections()) {
      const table = await this.db.openTable(TABLE_PREFIX + name);
      result.push({ name, rows: await table.countRows(), space: readSpace(await table.schema()) });
      table.close();
    }
    return result;
  }

  async dropCollection(name: string): Promise<void> {
    assertCollectionName(name);
    this.tables.delete(name);
    await this.whitenings.drop(name);
    if ((await this.db.tableNames()).includes(TABLE_PREFIX + name)) await this.db.dropTable(TABLE_PREFIX + name);
  }

  close(): void {
    this.db.close();
  }

  private async openTable(name: string): Promise<CollectionTable> {
    const tableName = TABLE_PREFIX + name;
    const existing = (await this.db.tableNames()).includes(tableName);
    const table = existing
      ? await this.db.openTable(tableName)
      : await this.db.createEmptyTable(tableName, imageSchema(this.space), { existOk: true });
    const stored = readSpace(await table.schema());
    if (stored.model !== this.space.model || stored.descriptor !== this.space.descriptor || stored.dimension !== this.space.dimension) {
      table.close();
      throw new LookalikeError(
        "model_mismatch",
        `Collection "${name}" was indexed with model ${stored.model} and descriptor ${stored.descriptor} ` +
          `(${stored.dimension}-d), but this run uses ${this.space.model} / ${this.space.descriptor} (${this.space.dimension}-d). ` +
          `Vectors from different models cannot be compared: run with the collection's settings, or re-index it ` +
          `(delete the collection, e.g. \`lookalike drop --collection ${name}\`, then index again).`,
        { collection: name, stored, wanted: this.space },
      );
    }
    return new CollectionTable(name, table, this.policy);
  }
}

function readSpace(schema: Schema): VectorSpace {
  const meta = schema.metadata;
  return {
    model: meta.get(META.model) ?? "(unknown)",
    descriptor: meta.get(META.descriptor) ?? "(unknown)",
    dimension: Number(meta.get(META.dimension) ?? Number.NaN),
  };
}

type Row = Record<string, unknown>;

export class CollectionTable {
  constructor(
    readonly name: string,
    private readonly table: lancedb.Table,
    private readonly policy: IndexPolicy,
  ) {}

  /** Inserts or replaces rows by id: indexing the same image twice never adds a second row. */
  async upsert(records: readonly ImageRecord[]): Promise<void> {
    if (records.length === 0) return;
    const rows = records.map((r) => this.toRow(r));
    await this.table.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
  }

  count(filter?: RowFilter): Promise<number> {
    return this.table.countRows(buildWhere(filter));
  }

  /** Deletes the rows matching `filter` (at least one condition is required). Returns how many went. */
  async delete(filter: RowFilter): Promise<number> {
    const where = buildWhere(filter);
    if (!where) throw new LookalikeError("invalid_filter", "Refusing to delete with an empty filter.");
    const before = await this.table.countRows();
    await this.table.delete(where);
    return before - (await this.table.countRows());
  }

  /** Deletes rows by exact id. Returns how many went. */
  async deleteIds(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const before = await this.table.countRows();
    await this.table.delete(`id IN (${ids.map(sqlString).join(", ")})`);
    return before - (await this.table.countRows());
  }

  async get(ids: readonly string[], withThumbnails = false): Promise<Map<string, StoredImage & { thumbnail?: Buffer | null }>> {
    const wanted = new Set(ids);
    const found = new Map<string, StoredImage & { thumbnail?: Buffer | null }>();
    if (wanted.size === 0) return found;
    const columns = withThumbnails ? [...RESULT_COLUMNS, "thumbnail"] : [...RESULT_COLUMNS];
    const rows = await this.table.query().where(`id IN (${[...wanted].map(sqlString).join(", ")})`).select(columns).toArray();
    for (const row of rows as Row[]) {
      const image = this.fromRow(row);
      if (wanted.has(image.id)) {
        found.set(image.id, withThumbnails ? { ...image, thumbnail: toBuffer(row.thumbnail) } : image);
      }
    }
    return found;
  }

  /** Exact-cosine nearest neighbours; an ANN index, when present, only proposes candidates. */
  async search(vector: Float32Array, options: SearchOptions): Promise<Match[]> {
    const exclude = new Set(options.excludeIds ?? []);
    const limit = options.k + exclude.size;
    let query = this.table
      .vectorSearch(vector)
      .distanceType("cosine")
      .select([...RESULT_COLUMNS, "vector", "_distance"])
      .limit(limit);
    const where = buildWhere(options.filter);
    if (where) query = query.where(where);
    const index = await this.vectorIndex();
    if (index) {
      // An HNSW graph refuses an ef below the candidates it must return (limit × refineFactor).
      const ef = Math.max(this.policy.ef, limit * this.policy.refineFactor);
      query = query.refineFactor(this.policy.refineFactor).ef(ef).nprobes(this.nprobes(index));
    }
    const rows = (await query.toArray()) as Row[];
    return rows
      .filter((row) => !exclude.has(String(row.id)))
      .slice(0, options.k)
      .map((row) => {
        const stored = Float32Array.from(row.vector as ArrayLike<number>);
        const match: Match = { ...this.fromRow(row), score: cosine(vector, stored) };
        return options.withVectors ? { ...match, vector: stored } : match;
      })
      .sort((a, b) => b.score - a.score);
  }

  /** How many images each channel has (a column scan: for occasional statistics, not hot paths). */
  async countByChannel(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const row of (await this.table.query().select(["channel_id"]).toArray()) as Row[]) {
      const channel = (row.channel_id as string | null) ?? "";
      counts.set(channel, (counts.get(channel) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Up to `max` stored vectors, for learning the collection's whitening: all of them in a small
   * collection, else evenly spaced runs across the table (old and new posts alike, not just the
   * first `max` rows written).
   */
  async sampleVectors(max: number): Promise<Float32Array[]> {
    const rows = await this.table.countRows();
    const runs = rows <= max ? 1 : 8;
    const perRun = rows <= max ? rows : Math.floor(max / runs);
    const vectors: Float32Array[] = [];
    for (let run = 0; run < runs; run++) {
      const offset = Math.floor((run * (rows - perRun)) / Math.max(1, runs - 1));
      const found = (await this.table.query().select(["vector"]).offset(offset).limit(perRun).toArray()) as Row[];
      for (const row of found) vectors.push(Float32Array.from(row.vector as ArrayLike<number>));
    }
    return vectors;
  }

  /**
   * Keeps search fast as the collection grows: builds the ANN index once the table is large enough,
   * folds newly added rows into it (and compacts small fragments) once enough are unindexed, and
   * retrains it when the table has outgrown the partitions it was trained with, or when the policy
   * asks for another kind of index. Cheap when there is nothing to do.
   */
  async maintain(): Promise<"none" | "indexed" | "optimized"> {
    const rows = await this.table.countRows();
    const index = await this.vectorIndex();
    const spec = this.policy.index ?? DEFAULT_VECTOR_INDEX;
    if (!index) {
      if (rows < this.policy.minRowsForIndex) return "none";
      await this.buildVectorIndex(spec, rows);
      await this.ensureFilterIndexes();
      return "indexed";
    }
    await this.ensureFilterIndexes();
    const trained = trainedRows(index.name);
    const outgrown = this.policy.retrainGrowth !== undefined && trained !== undefined && rows >= trained * this.policy.retrainGrowth;
    if (outgrown || index.indexType !== INDEX_TYPE_NAMES[spec.type]) {
      await this.buildVectorIndex(spec, rows, index.name);
      await this.compact();
      return "indexed";
    }
    if ((index.numUnindexedRows ?? 0) < this.policy.reindexAfterRows) return "none";
    await this.table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
    return "optimized";
  }

  /** Data fragments in the table: every write adds one until `compact` merges them. */
  async fragmentCount(): Promise<number> {
    return (await this.table.stats()).fragmentStats.numFragments;
  }

  /** Compacts the fragments each write leaves behind. */
  async compact(): Promise<void> {
    await this.table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
  }

  close(): void {
    this.table.close();
  }

  /** Partitions a search probes: `nprobes`, or `probeFraction` of the index's partitions if more. */
  private nprobes(index: Pick<lancedb.IndexConfig, "name">): number {
    const floor = this.policy.nprobes ?? 20;
    const trained = trainedRows(index.name);
    if (trained === undefined || !this.policy.probeFraction) return floor;
    const partitions = partitionCount(this.policy.index ?? DEFAULT_VECTOR_INDEX, trained);
    return Math.max(floor, Math.ceil(this.policy.probeFraction * partitions));
  }

  /** Bitmap indexes on the filter columns, once (cheap: well under a second at 1M rows). */
  private async ensureFilterIndexes(): Promise<void> {
    const indexed = new Set((await this.table.listIndices()).flatMap((index) => index.columns));
    for (const column of FILTER_COLUMNS) {
      if (!indexed.has(column)) await this.table.createIndex(column, { config: lancedb.Index.bitmap(), replace: true });
    }
  }

  private async vectorIndex(): Promise<lancedb.IndexConfig | undefined> {
    const indices = await this.table.listIndices();
    return indices.find((index) => index.columns.includes("vector"));
  }

  /**
   * Trains `spec` on the current rows. The index is named after the rows it was trained on, so a
   * later `maintain()` knows when the table has outgrown it; a replaced index is dropped only once
   * its successor is committed, so searches never fall back to a full scan in between.
   */
  private async buildVectorIndex(spec: VectorIndexSpec, rows: number, replacing?: string): Promise<void> {
    const name = `vector_idx_${rows}`;
    await this.table.createIndex("vector", { config: vectorIndexConfig(spec, rows), name, replace: true });
    if (replacing && replacing !== name) await this.table.dropIndex(replacing);
  }

  private toRow(record: ImageRecord): Row {
    return {
      id: record.id,
      collection: this.name,
      channel_id: record.channelId ?? null,
      parent_id: record.parentId ?? null,
      message_id: record.messageId ?? null,
      author_id: record.authorId ?? null,
      created_at: record.createdAt ?? null,
      source: record.source,
      width: record.width,
      height: record.height,
      phash: Buffer.from(hashToBytes(record.phash)),
      dhash: Buffer.from(hashToBytes(record.dhash)),
      spoiler: record.spoiler ?? false,
      thumbnail: record.thumbnail ?? null,
      vector: Array.from(record.vector),
    };
  }

  private fromRow(row: Row): StoredImage {
    return {
      id: String(row.id),
      collection: String(row.collection),
      channelId: (row.channel_id as string | null) ?? null,
      parentId: (row.parent_id as string | null) ?? null,
      messageId: (row.message_id as string | null) ?? null,
      authorId: (row.author_id as string | null) ?? null,
      createdAt: row.created_at == null ? null : new Date(Number(row.created_at)),
      source: String(row.source),
      width: Number(row.width),
      height: Number(row.height),
      phash: bytesToHash(row.phash as Uint8Array),
      dhash: bytesToHash(row.dhash as Uint8Array),
      spoiler: Boolean(row.spoiler),
    };
  }
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

/**
 * A SQL string literal for exact-match lookups by id. Ids can be arbitrary (CLI file paths), so they
 * are not validated like snowflakes; doubling the quote is the SQL-standard escape and DataFusion reads
 * no backslash escapes in plain literals, so no value can end the literal (tested with hostile ids).
 */
function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function toBuffer(value: unknown): Buffer | null {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : null;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
