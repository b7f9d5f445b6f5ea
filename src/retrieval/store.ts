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

/** The ANN index `maintain()` builds; `numPartitions` defaults to one partition per `rowsPerPartition` rows. */
export type VectorIndexSpec =
  | { readonly type: "ivf_rq"; readonly rowsPerPartition?: number; readonly numBits?: number }
  | { readonly type: "ivf_flat"; readonly rowsPerPartition?: number }
  | { readonly type: "ivf_pq"; readonly rowsPerPartition?: number; readonly numSubVectors?: number }
  | { readonly type: "ivf_hnsw_sq"; readonly rowsPerPartition?: number; readonly m?: number; readonly efConstruction?: number };

export interface IndexPolicy {
  /** Build an ANN index once a collection has this many rows; below it a flat scan is fast enough. */
  readonly minRowsForIndex: number;
  /** Fold new rows into the index (and compact fragments) once this many are unindexed. */
  readonly reindexAfterRows: number;
  /** Candidates the ANN index returns per wanted result, re-scored exactly. */
  readonly refineFactor: number;
  /** HNSW candidate list (ignored by IVF-only indexes). */
  readonly ef: number;
  /** IVF partitions searched per query (LanceDB's default, 20, when absent). */
  readonly nprobes?: number;
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
 * IVF with RaBitQ codes (1 bit per dimension, re-scored exactly by `refineFactor`): on 1280-d
 * vectors it trains ~100× faster than IVF_PQ and ~50× faster than HNSW_SQ, at the same recall and
 * latency (bench/speed, bench/RESULTS.md), so building and retraining it is cheap enough to do in
 * the bot while it runs.
 */
export const DEFAULT_VECTOR_INDEX: VectorIndexSpec = { type: "ivf_rq", rowsPerPartition: 1_000 };

export const DEFAULT_INDEX_POLICY: IndexPolicy = {
  minRowsForIndex: 20_000,
  reindexAfterRows: 5_000,
  refineFactor: 4,
  ef: 64,
  nprobes: 20,
  index: DEFAULT_VECTOR_INDEX,
  retrainGrowth: 2,
};

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

  private constructor(
    private readonly db: lancedb.Connection,
    readonly space: VectorSpace,
    readonly policy: IndexPolicy,
  ) {}

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
    if (await this.hasVectorIndex()) query = query.refineFactor(this.policy.refineFactor).ef(this.policy.ef);
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

  /** Every stored vector (for learning a whitening, or benchmarks). */
  async vectors(limit?: number): Promise<{ id: string; vector: Float32Array }[]> {
    let query = this.table.query().select(["id", "vector"]);
    if (limit) query = query.limit(limit);
    const rows = (await query.toArray()) as Row[];
    return rows.map((row) => ({ id: String(row.id), vector: Float32Array.from(row.vector as ArrayLike<number>) }));
  }

  /**
   * Keeps search fast as the collection grows: builds the ANN index once the table is large enough,
   * then folds newly added rows into it and compacts small fragments. Cheap when there is nothing to do.
   */
  async maintain(): Promise<"none" | "indexed" | "optimized"> {
    const rows = await this.table.countRows();
    if (!(await this.hasVectorIndex())) {
      if (rows < this.policy.minRowsForIndex) return "none";
      await this.table.createIndex("vector", {
        config: lancedb.Index.hnswSq({ distanceType: "cosine" }),
        replace: true,
      });
      return "indexed";
    }
    const stats = await this.table.indexStats("vector_idx");
    if ((stats?.numUnindexedRows ?? 0) < this.policy.reindexAfterRows) return "none";
    await this.table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
    return "optimized";
  }

  /** Compacts the fragments each write leaves behind. */
  async compact(): Promise<void> {
    await this.table.optimize({ cleanupOlderThan: new Date(Date.now() - 60_000) });
  }

  close(): void {
    this.table.close();
  }

  private async hasVectorIndex(): Promise<boolean> {
    const indices = await this.table.listIndices();
    return indices.some((index) => index.columns.includes("vector"));
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
