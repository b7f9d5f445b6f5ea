/**
 * The retrieval engine: the one object the CLI, the bot and the benchmark use. It coordinates
 * intake, fingerprinting and the store; each of those does its own job.
 */
import { type ImageAnalyzer, LocalAnalyzer, vectorSpace } from "./analyzer.ts";
import type { RowFilter } from "./filters.ts";
import type { Fingerprint } from "./fingerprint.ts";
import type { ImageLimits } from "./image.ts";
import type { DownloadProgress } from "./models.ts";
import type { PoolingName } from "./pooling.ts";
import { QUERY_REGION_INDEXES, rankingPair, rankingRegions, storedParts, viewParts } from "./regions/evidence.ts";
import { type ImageParts, regionVector } from "./regions/parts.ts";
import { remoteCellScorer } from "./regions/verify.ts";
import { type DecisionSpace, decide, type MatchedRegion, queryViews, type RepostVerdict, type WeighedCandidate, weigh } from "./reposts.ts";
import type { CollectionTable } from "./store/collection-table.ts";
import type { DatabaseLocation } from "./store/database.ts";
import { ImageStore } from "./store/image-store.ts";
import { DEFAULT_INDEX_POLICY, type IndexPolicy } from "./store/index-policy.ts";
import type { ImageRecord, Match } from "./store/schema.ts";
import { DEFAULT_REPOST_THRESHOLDS, type RepostCalibration } from "./thresholds.ts";
import { cosine } from "./vectors.ts";
import { DEFAULT_WHITENING_POLICY, WhiteningMaintainer, type WhiteningOutcome, type WhiteningPolicy } from "./whitening/maintainer.ts";
import type { StoredWhitening } from "./whitening/repository.ts";

/**
 * Axes of the collection's whitening kept for regional evidence: dozens of parts are projected per
 * candidate, and the strongest 256 axes carry most of what tells copies from look-alikes.
 */
const REGIONAL_WHITENING_DIMENSIONS = 256;

export interface EngineOptions {
  /**
   * Where the database lives: a folder (relative to the working directory) or an object-store URI
   * (`s3://bucket/prefix`, `gs://…`, `az://…`) whose credentials come from the environment; see
   * `store/database.ts`.
   */
  readonly db: string | DatabaseLocation;
  readonly modelsDir?: string;
  readonly modelId?: string;
  readonly pooling?: PoolingName;
  readonly threads?: number;
  /** Download a missing model (default true; tests and CI pass false). */
  readonly download?: boolean;
  readonly onDownloadProgress?: (progress: DownloadProgress) => void;
  /** Told the model's time for each batch of images (for metrics). */
  readonly onModelBatch?: (seconds: number, images: number) => void;
  readonly limits?: Partial<ImageLimits>;
  readonly indexPolicy?: IndexPolicy;
  /** When each collection learns its own whitening for repost verdicts. */
  readonly whiteningPolicy?: WhiteningPolicy;
  /**
   * Analyse images with this instead of opening the model here (e.g. a QueuedAnalyzer: embedding
   * workers behind Redis); the model options above then go unused. The engine closes it.
   */
  readonly analyzer?: ImageAnalyzer;
}

export interface AnalyzedImage extends Fingerprint {
  /** Small WebP for contact sheets, when asked for. */
  readonly thumbnail?: Buffer;
}

export interface AnalyzeOptions {
  readonly signal?: AbortSignal;
  readonly thumbnail?: boolean;
  /** Also embed the mirror image, so flipped copies are found (queries, not stored images). */
  readonly flipped?: boolean;
  /** Also embed the centre square (repost queries: sees through screenshot frames, caption bars, borders). */
  readonly centre?: boolean;
  /**
   * Also compute the image's parts (regions and cells, regions/parts.ts): stored with an image, they let
   * crops and collage tiles find it and copies be verified cell by cell; a query with parts uses them.
   */
  readonly parts?: boolean;
  /**
   * Also embed the picture's content box (frame trimmed) and collage tiles, each searched for by
   * itself: finds the picture that fills only part of a screenshot or a collage.
   */
  readonly regions?: boolean;
  /** Someone is waiting for the answer: the model serves it before queued background images. */
  readonly urgent?: boolean;
}

/** Where an image came from; everything but `id` and `source` is optional (the CLI has no channels). */
export type ImageMeta = Omit<ImageRecord, "vector" | "phash" | "dhash" | "width" | "height" | "thumbnail">;

export interface RepostQueryOptions extends QueryOptions {
  readonly candidates?: number;
  /** Drops candidates the caller rules out (e.g. pairs a moderator marked "not a repost"). */
  readonly accept?: (match: Match) => boolean;
}

/** A look-alike; `region` says where in the query it was found when a part of the query matched best. */
export type SimilarMatch = Omit<Match, "vector"> & { readonly region?: MatchedRegion };

export interface QueryOptions {
  readonly collection: string;
  readonly filter?: RowFilter;
  /** Stored ids never returned (the query's own id: an image never matches itself). */
  readonly excludeIds?: readonly string[];
  readonly signal?: AbortSignal;
}

// The model configuration and its vector space are the analyzer's business (an embedding worker
// needs them without a database); re-exported for the engine's callers.
export { vectorSpace } from "./analyzer.ts";

export class LookalikeEngine {
  private constructor(
    readonly store: ImageStore,
    /** Where images are decoded and embedded: this process's model, or a queue of embedding workers. */
    readonly analyzer: ImageAnalyzer,
    private readonly whitenings: WhiteningMaintainer,
  ) {}

  static async open(options: EngineOptions): Promise<LookalikeEngine> {
    const analyzer = options.analyzer ?? (await LocalAnalyzer.open(options));
    // The embedder's worker (or the queue's connection) keeps the process alive: close it if the store cannot be opened.
    const store = await ImageStore.open(options.db, vectorSpace(options), options.indexPolicy ?? DEFAULT_INDEX_POLICY).catch(
      async (error: unknown) => {
        await analyzer.close();
        throw error;
      },
    );
    const space = vectorSpace(options);
    const whitenings = new WhiteningMaintainer(
      store.whitenings,
      `${space.model}/${space.descriptor}`,
      options.whiteningPolicy ?? DEFAULT_WHITENING_POLICY,
    );
    return new LookalikeEngine(store, analyzer, whitenings);
  }

  collection(name: string): Promise<CollectionTable> {
    return this.store.collection(name);
  }

  /** Decodes (with every guard) and fingerprints one image. Throws a typed LookalikeError on bad input. */
  analyze(input: Buffer | string, options: AnalyzeOptions = {}): Promise<AnalyzedImage> {
    return this.analyzer.analyze(input, options);
  }

  /** Stores analysed images (idempotent by id). */
  async add(collection: string, items: readonly { image: AnalyzedImage; meta: ImageMeta }[]): Promise<void> {
    const table = await this.store.collection(collection);
    await table.upsert(
      items.map(({ image, meta }) => ({
        ...meta,
        vector: image.vector,
        phash: image.phash,
        dhash: image.dhash,
        width: image.width,
        height: image.height,
        thumbnail: image.thumbnail ?? null,
      })),
    );
    // After the images: a crash in between leaves images without parts (found by their whole
    // vector only), never parts of an image that is not stored.
    await this.store
      .parts(collection)
      .upsert(items.flatMap(({ image, meta }) => (image.parts ? [{ id: meta.id, parts: image.parts }] : [])));
  }

  /**
   * Ranked look-alikes by cosine with the query's closest view: a flipped copy counts as close as
   * the original, and a picture found inside a screenshot or a collage tile carries that `region`.
   */
  async findSimilar(query: AnalyzedImage, options: QueryOptions & { readonly k: number }): Promise<SimilarMatch[]> {
    const candidates = await this.candidates(query, options.k, options);
    // Each candidate by its closest pair of (query view, stored image or stored region), or of
    // near-identical pieces at the same place (rankingPair). The query's own regions bring
    // candidates; paired freely they also ranked: a piece of an ordinary photo is close to pieces
    // of many pictures of its kind, and the best of a hundred more pairs lifted look-alikes. Views
    // alone / every pair / this (an offline probe over the shared sets and the renderings,
    // 2026-12-04): flowers P@10 0.590 / 0.570 / 0.590, CIFAR 0.487 / 0.414 / 0.486 (1,000
    // queries); renderings fit split top-1 852 / 855 / 857 of 880 (stickers 46 / 53 / 51,
    // collages 43 / 47 / 43, screenshots 44 / 37 / 44); museum 90 / 90 every way.
    const parts = await this.store.parts(options.collection).get(candidates.map((c) => c.id));
    const mine = viewParts(queryViews(query));
    const pieces = rankingRegions(query);
    return candidates
      .map(({ vector, ...match }) => {
        if (!vector) return match;
        const { score, region } = rankingPair(mine, pieces, storedParts(vector, parts.get(match.id)));
        return region ? { ...match, score, region } : { ...match, score };
      })
      .sort((a, b) => b.score - a.score)
      .slice(0, options.k);
  }

  /**
   * Upkeep after a batch of writes: the ANN index (`CollectionTable.maintain`) and the collection's whitening.
   * Cheap when nothing is due; a fit takes seconds, in a worker thread.
   */
  async maintain(
    collection: string,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<{ index: "none" | "indexed" | "optimized"; whitening: WhiteningOutcome }> {
    const table = await this.store.collection(collection);
    const index = await table.maintain();
    await this.store.parts(collection).maintain();
    const whitening = await this.whitenings.refresh(table, options.signal);
    return { index, whitening };
  }

  /** Merges the fragments writes left in the collection's tables (the images and their parts). */
  async compact(collection: string): Promise<void> {
    await (await this.store.collection(collection)).compact();
    await this.store.parts(collection).compact();
  }

  /**
   * Deletes rows and counts them towards the collection's next whitening refit (the removed
   * images leave its statistics at the next `maintain`). Returns how many rows went.
   */
  async delete(collection: string, filter: RowFilter): Promise<number> {
    const table = await this.store.collection(collection);
    const ids = await table.ids(filter);
    const removed = await table.delete(filter);
    await this.store.parts(collection).delete(ids);
    this.whitenings.noteRemoved(collection, removed);
    return removed;
  }

  /** The collection's learned whitening (what repost verdicts are decided with), or null before it has one. */
  whitening(collection: string): Promise<StoredWhitening | null> {
    return this.whitenings.current(collection);
  }

  /** Images a collection needs before it learns a whitening. */
  get whiteningMinRows(): number {
    return this.whitenings.policy.minRows;
  }

  /** Deletes a collection with everything learned from it. */
  async dropCollection(collection: string): Promise<void> {
    await this.store.dropCollection(collection);
    this.whitenings.forget(collection);
  }

  /**
   * The repost verdict for `query` against the collection (see reposts.ts for the fusion rules).
   * Candidates are the nearest stored images by plain cosine; once the collection has learned a
   * whitening, the thresholds are applied to the whitened cosine, which tells copies of one
   * picture from merely alike pictures far better (bench/RESULTS.md, repost section).
   */
  async checkRepost(
    query: AnalyzedImage,
    options: RepostQueryOptions & { readonly thresholds?: RepostCalibration },
  ): Promise<RepostVerdict> {
    const { space, weighed } = await this.weighRepost(query, options);
    const calibration = options.thresholds ?? DEFAULT_REPOST_THRESHOLDS;
    return decide(weighed, calibration[space], space);
  }

  /**
   * Everything a repost verdict is decided from, per candidate (`checkRepost` is this plus the
   * thresholds): the benchmark fits the thresholds on it.
   */
  async weighRepost(query: AnalyzedImage, options: RepostQueryOptions): Promise<{ space: DecisionSpace; weighed: WeighedCandidate[] }> {
    const candidates = await this.candidates(query, options.candidates ?? 10, options);
    const accepted = options.accept ? candidates.filter(options.accept) : candidates;
    const { product } = this.analyzer;
    const projection = await this.whitenings.projection(options.collection, { product });
    const regionalProjection = await this.whitenings.projection(options.collection, { dimensions: REGIONAL_WHITENING_DIMENSIONS, product });
    const parts = await this.partsOf(query, options.collection, accepted);
    const weighed = await weigh(query, accepted, {
      projection,
      regionalProjection,
      partsOf: (id) => parts.get(id),
      scoreCells: product && remoteCellScorer(product),
    });
    return { space: projection ? "whitened" : "raw", weighed };
  }

  /** The stored parts of the candidates, when the query has parts to compare them with. */
  private async partsOf(query: AnalyzedImage, collection: string, candidates: readonly Match[]): Promise<Map<string, ImageParts>> {
    return query.parts ? this.store.parts(collection).get(candidates.map((c) => c.id)) : new Map();
  }

  async close(): Promise<void> {
    await this.analyzer.close();
    this.store.close();
  }

  /**
   * Nearest stored images to each of the query's views (as given, mirrored, centre square, content
   * box, tiles) and regions (a quadrant of a collage without gutters), merged by id. Each match's
   * `score` is its cosine with the query as given; its vector comes along.
   */
  private async candidates(query: AnalyzedImage, k: number, options: QueryOptions): Promise<Match[]> {
    const table = await this.store.collection(options.collection);
    const search = { k, filter: options.filter, excludeIds: options.excludeIds, withVectors: true };
    const regions = QUERY_REGION_INDEXES.flatMap((i) => (query.parts?.regions[i] ? [regionVector(query.parts.regions[i])] : []));
    const vectors = [...queryViews(query).map((view) => view.vector), ...regions];
    const [direct, ...others] = await table.searchMany(vectors, search);
    const byId = new Map<string, Match>(direct!.map((match) => [match.id, match]));
    for (const match of others.flat()) {
      if (!byId.has(match.id)) byId.set(match.id, { ...match, score: cosine(query.vector, match.vector!) });
    }
    return [...byId.values()];
  }
}
