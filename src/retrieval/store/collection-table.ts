/**
 * One collection's LanceDB table: writing, reading and deleting its rows, exact-cosine search, and
 * the upkeep `index-policy.ts` decides on (ANN index, filter indexes, fragment compaction).
 */
import type * as lancedb from "@lancedb/lancedb";
import { LookalikeError } from "../errors.ts";
import { buildWhere, idsWhere, notCreatedBeforeWhere, type RowFilter } from "../filters.ts";
import { cosine, unit } from "../vectors.ts";
import { nearestIds } from "./exact-scan.ts";
import {
  annSearchTuning,
  DEFAULT_SCAN_HERE_MAX_ROWS,
  DEFAULT_VECTOR_INDEX,
  type IndexPolicy,
  indexUpkeep,
  SCALAR_INDEXES,
  type VectorIndexSpec,
  vectorIndexConfig,
  vectorIndexName,
  vectorsPerQuery,
} from "./index-policy.ts";
import {
  fromRow,
  type ImageRecord,
  type Match,
  RESULT_COLUMNS,
  type Row,
  type StoredImage,
  thumbnailOf,
  toRow,
  vectorOf,
} from "./schema.ts";
import { compactTable, ensureScalarIndexes } from "./table-upkeep.ts";

export interface SearchOptions {
  readonly k: number;
  readonly filter?: RowFilter;
  /** Result ids to drop (e.g. the query itself); applied after the search, never spelled into SQL. */
  readonly excludeIds?: readonly string[];
  readonly withVectors?: boolean;
}

/**
 * Rows newer than a `createdBefore` filter that a search drops by id rather than by a pre-filter.
 * A live repost check has a handful (images stored while it ran). Each one dropped is one more
 * result fetched (and re-scored) per query vector, so past this many the pre-filter is cheaper.
 */
const MAX_NEWER_ROWS_DROPPED = 100;

/** What the LanceDB queries of one `searchMany` share. */
interface SharedSearch {
  readonly exclude: ReadonlySet<string>;
  readonly limit: number;
  readonly where: string | undefined;
  /** The index's search settings; absent when the table has no vector index. */
  readonly tuning: ReturnType<typeof annSearchTuning> | undefined;
}

/** A query's answers as matches: the excluded ids dropped, each scored by its exact cosine with `vector`, best first, `k` of them. */
function ranked(rows: readonly Row[], vector: Float32Array, exclude: ReadonlySet<string>, options: SearchOptions): Match[] {
  return rows
    .filter((row) => !exclude.has(String(row.id)))
    .map((row) => {
      const stored = vectorOf(row);
      const match: Match = { ...fromRow(row), score: cosine(vector, stored) };
      return options.withVectors ? { ...match, vector: stored } : match;
    })
    .sort((a, b) => b.score - a.score)
    .slice(0, options.k);
}

export class CollectionTable {
  constructor(
    readonly name: string,
    private readonly table: lancedb.Table,
    private readonly policy: IndexPolicy,
  ) {}

  /** Inserts or replaces rows by id: indexing the same image twice never adds a second row. */
  async upsert(records: readonly ImageRecord[]): Promise<void> {
    if (records.length === 0) return;
    const rows = records.map((r) => toRow(r, this.name));
    await this.table.mergeInsert("id").whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows);
  }

  count(filter?: RowFilter): Promise<number> {
    return this.table.countRows(buildWhere(filter));
  }

  /** Ids of the rows matching `filter` (at least one condition is required). */
  async ids(filter: RowFilter): Promise<string[]> {
    const where = buildWhere(filter);
    if (!where) throw new LookalikeError("invalid_filter", "Refusing to list ids with an empty filter.");
    const rows = (await this.table.query().where(where).select(["id"]).toArray()) as Row[];
    return rows.map((row) => String(row.id));
  }

  /** Deletes the rows matching `filter` (at least one condition is required). Returns how many went. */
  async delete(filter: RowFilter): Promise<number> {
    const where = buildWhere(filter);
    if (!where) throw new LookalikeError("invalid_filter", "Refusing to delete with an empty filter.");
    const before = await this.table.countRows();
    await this.table.delete(where);
    return before - (await this.table.countRows());
  }

  async get(ids: readonly string[], withThumbnails = false): Promise<Map<string, StoredImage & { thumbnail?: Buffer | null }>> {
    const wanted = new Set(ids);
    const found = new Map<string, StoredImage & { thumbnail?: Buffer | null }>();
    if (wanted.size === 0) return found;
    const columns = withThumbnails ? [...RESULT_COLUMNS, "thumbnail"] : [...RESULT_COLUMNS];
    const rows = await this.table
      .query()
      .where(idsWhere([...wanted]))
      .select(columns)
      .toArray();
    for (const row of rows as Row[]) {
      const image = fromRow(row);
      if (wanted.has(image.id)) {
        found.set(image.id, withThumbnails ? { ...image, thumbnail: thumbnailOf(row) } : image);
      }
    }
    return found;
  }

  /** Exact-cosine nearest neighbours; an ANN index, when present, only proposes candidates. */
  async search(vector: Float32Array, options: SearchOptions): Promise<Match[]> {
    return (await this.searchMany([vector], options))[0]!;
  }

  /**
   * `search` for several query vectors, as many per LanceDB query as the index allows
   * (`vectorsPerQuery`: one scan, one round trip; all of them without an index, where each LanceDB
   * query costs ~5–10 ms however small the table, one-off probe at 30 rows); results in the order
   * of `vectors`.
   */
  async searchMany(vectors: readonly Float32Array[], options: SearchOptions): Promise<Match[][]> {
    if (vectors.length === 0) return [];
    // What every group shares, worked out once: the filter, the limit and the index's tuning.
    const index = await this.vectorIndex();
    const { filter, newer } = index ? await this.withoutNewerRows(options.filter) : { filter: options.filter, newer: [] };
    const exclude = new Set([...(options.excludeIds ?? []), ...newer]);
    const limit = options.k + exclude.size;
    const shared: SharedSearch = {
      exclude,
      limit,
      where: buildWhere(filter),
      tuning: index && annSearchTuning(this.policy, index.name, limit),
    };
    const scanHereMaxRows = this.policy.scanHereMaxRows ?? DEFAULT_SCAN_HERE_MAX_ROWS;
    if (!index && (await this.table.countRows()) <= scanHereMaxRows) return this.searchHere(vectors, shared, options);
    const group = index ? vectorsPerQuery(this.policy, index.name) : vectors.length;
    const answers: Match[][] = [];
    for (let start = 0; start < vectors.length; start += group) {
      answers.push(...(await this.searchTogether(vectors.slice(start, start + group), shared, options)));
    }
    return answers;
  }

  /**
   * A filter's `createdBefore` (a repost check's "posted before this image") keeps nearly every row
   * of a large table: as a pre-filter it is a mask over all of them, which cost a search at 1M rows
   * twice the time and ~30 MiB (SCALAR_INDEXES). The few rows it leaves out are found through the
   * created_at index instead and dropped like excluded ids; with more of them than that is worth,
   * the filter stays as it is. The same rows either way.
   */
  private async withoutNewerRows(filter: RowFilter | undefined): Promise<{ filter: RowFilter | undefined; newer: string[] }> {
    if (!filter?.createdBefore) return { filter, newer: [] };
    const rows = (await this.table
      .query()
      .where(notCreatedBeforeWhere(filter.createdBefore))
      .select(["id"])
      .limit(MAX_NEWER_ROWS_DROPPED + 1)
      .toArray()) as Row[];
    if (rows.length > MAX_NEWER_ROWS_DROPPED) return { filter, newer: [] };
    return { filter: { ...filter, createdBefore: undefined }, newer: rows.map((row) => String(row.id)) };
  }

  /** One LanceDB query for all of `vectors` (at least one; at most `vectorsPerQuery` on an indexed table). */
  private async searchTogether(vectors: readonly Float32Array[], shared: SharedSearch, options: SearchOptions): Promise<Match[][]> {
    const { exclude, limit, where, tuning } = shared;
    // Without an index every row is compared (a flat scan): rows are unit vectors (toRow), so L2
    // distance ranks unit queries as cosine does, and LanceDB computes it ~2× faster (16 vectors
    // over 3,000 rows: 260 vs 500 ms, one-off probe). An index was trained for cosine and serves
    // only queries in its metric (with another, LanceDB scans flat: still right, only slower).
    const metric = tuning ? "cosine" : "l2";
    const queries = metric === "l2" ? vectors.map(unit) : vectors;
    let query = this.table
      .vectorSearch(queries[0]!)
      .distanceType(metric)
      .select([...RESULT_COLUMNS, "vector", "_distance"])
      .limit(limit);
    for (const vector of queries.slice(1)) query = query.addQueryVector(vector);
    if (where) query = query.where(where);
    if (tuning) query = query.refineFactor(tuning.refineFactor).ef(tuning.ef).nprobes(tuning.nprobes);
    const rows = (await query.toArray()) as Row[];
    // With one vector LanceDB adds no query_index column: every row answers query 0.
    const perQuery = vectors.map(() => [] as Row[]);
    for (const row of rows) perQuery[Number(row.query_index ?? 0)]?.push(row);
    return perQuery.map((answers, i) => ranked(answers, vectors[i]!, exclude, options));
  }

  /** `searchTogether` for a small table without an index: every row compared here (exact-scan.ts). */
  private async searchHere(vectors: readonly Float32Array[], shared: SharedSearch, options: SearchOptions): Promise<Match[][]> {
    const { exclude, limit, where } = shared;
    let scan = this.table.query().select(["id", "vector"]);
    if (where) scan = scan.where(where);
    const nearest = nearestIds(vectors.map(unit), (await scan.toArrow()).batches, limit);
    const wanted = [...new Set(nearest.flat())].filter((id) => !exclude.has(id));
    const rows =
      wanted.length === 0
        ? []
        : ((await this.table
            .query()
            .where(idsWhere(wanted))
            .select([...RESULT_COLUMNS, "vector"])
            .toArray()) as Row[]);
    const byId = new Map(rows.map((row) => [String(row.id), row]));
    return nearest.map((ids, i) =>
      ranked(
        ids.map((id) => byId.get(id)).filter((row): row is Row => row !== undefined),
        vectors[i]!,
        exclude,
        options,
      ),
    );
  }

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
      for (const row of found) vectors.push(vectorOf(row));
    }
    return vectors;
  }

  /**
   * Keeps search fast as the collection grows: builds the ANN index once the table is large enough,
   * folds newly added rows into it (and compacts small fragments) once enough are unindexed, and
   * retrains it when the table has outgrown the partitions it was trained with, or when the policy
   * asks for another kind of index (see `indexUpkeep`). Cheap when there is nothing to do.
   */
  async maintain(): Promise<"none" | "indexed" | "optimized"> {
    const rows = await this.table.countRows();
    const index = await this.vectorIndex();
    const upkeep = indexUpkeep(this.policy, rows, index);
    const spec = this.policy.index ?? DEFAULT_VECTOR_INDEX;
    if (!index) {
      if (upkeep !== "build") return "none";
      await this.buildVectorIndex(spec, rows);
      await ensureScalarIndexes(this.table, SCALAR_INDEXES);
      return "indexed";
    }
    await ensureScalarIndexes(this.table, SCALAR_INDEXES);
    if (upkeep === "retrain") {
      await this.buildVectorIndex(spec, rows, index.name);
      await this.compact();
      return "indexed";
    }
    if (upkeep === "optimize") {
      await this.compact();
      return "optimized";
    }
    return "none";
  }

  /** Data fragments in the table: every write adds one until `compact` merges them. */
  async fragmentCount(): Promise<number> {
    return (await this.table.stats()).fragmentStats.numFragments;
  }

  /** Compacts the fragments each write leaves behind (and folds unindexed rows into the indexes). */
  async compact(): Promise<void> {
    await compactTable(this.table);
  }

  close(): void {
    this.table.close();
  }

  private async vectorIndex(): Promise<lancedb.IndexConfig | undefined> {
    const indices = await this.table.listIndices();
    return indices.find((index) => index.columns.includes("vector"));
  }

  /**
   * Trains `spec` on the current rows, under a name that records them (`vectorIndexName`); a
   * replaced index is dropped only once its successor is committed, so searches never fall back to
   * a full scan in between.
   */
  private async buildVectorIndex(spec: VectorIndexSpec, rows: number, replacing?: string): Promise<void> {
    const name = vectorIndexName(rows);
    await this.table.createIndex("vector", { config: vectorIndexConfig(spec, rows), name, replace: true });
    if (replacing && replacing !== name) await this.table.dropIndex(replacing);
  }
}
