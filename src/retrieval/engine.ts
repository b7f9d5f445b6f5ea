/**
 * The retrieval engine: the one object the CLI, the bot and the benchmark use. It coordinates
 * intake, fingerprinting and the store; each of those does its own job.
 */
import { DEFAULT_POOLING, type Descriptor, poolingDescriptor } from "./descriptor.ts";
import { Embedder } from "./embedder.ts";
import type { RowFilter } from "./filters.ts";
import { type Fingerprint, Fingerprinter } from "./fingerprint.ts";
import { decodeImage, type ImageLimits, makeThumbnail } from "./image.ts";
import { DEFAULT_MODEL_ID, type DownloadProgress, defaultModelsDir, getModel, type ModelDescription } from "./models.ts";
import type { PoolingName } from "./pooling.ts";
import { judge, queryViews, type RepostVerdict } from "./reposts.ts";
import type { CollectionTable } from "./store/collection-table.ts";
import type { DatabaseLocation } from "./store/database.ts";
import { ImageStore } from "./store/image-store.ts";
import { DEFAULT_INDEX_POLICY, type IndexPolicy } from "./store/index-policy.ts";
import type { ImageRecord, Match, VectorSpace } from "./store/schema.ts";
import { DEFAULT_REPOST_THRESHOLDS, type RepostCalibration } from "./thresholds.ts";
import { cosine } from "./vectors.ts";
import { DEFAULT_WHITENING_POLICY, WhiteningMaintainer, type WhiteningOutcome, type WhiteningPolicy } from "./whitening/maintainer.ts";
import type { StoredWhitening } from "./whitening/repository.ts";

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
  /** Someone is waiting for the answer: the model serves it before queued background images. */
  readonly urgent?: boolean;
}

/** Where an image came from; everything but `id` and `source` is optional (the CLI has no channels). */
export type ImageMeta = Omit<ImageRecord, "vector" | "phash" | "dhash" | "width" | "height" | "thumbnail">;

export interface QueryOptions {
  readonly collection: string;
  readonly filter?: RowFilter;
  /** Stored ids never returned (the query's own id: an image never matches itself). */
  readonly excludeIds?: readonly string[];
  readonly signal?: AbortSignal;
}

function configuration(options: Pick<EngineOptions, "modelId" | "pooling">): { model: ModelDescription; descriptor: Descriptor } {
  const model = getModel(options.modelId ?? DEFAULT_MODEL_ID);
  return { model, descriptor: poolingDescriptor(options.pooling ?? DEFAULT_POOLING, model.features.channels) };
}

/** The vector space a configuration produces, known without loading the model. */
export function vectorSpace(options: Pick<EngineOptions, "modelId" | "pooling">): VectorSpace {
  const { model, descriptor } = configuration(options);
  // The input resize mode shapes the vectors as much as the pooling does, so it is part of the name.
  return { model: model.id, descriptor: `${descriptor.name}/${model.input.resize}`, dimension: descriptor.dimension };
}

export class LookalikeEngine {
  private constructor(
    readonly store: ImageStore,
    readonly fingerprinter: Fingerprinter,
    private readonly whitenings: WhiteningMaintainer,
    private readonly limits: Partial<ImageLimits> | undefined,
  ) {}

  static async open(options: EngineOptions): Promise<LookalikeEngine> {
    const { model, descriptor } = configuration(options);
    const embedder = await Embedder.create({
      model,
      modelsDir: options.modelsDir ?? defaultModelsDir(),
      download: options.download,
      onProgress: options.onDownloadProgress,
      threads: options.threads,
      onBatch: options.onModelBatch,
    });
    // The embedder's worker keeps the process alive: close it if the store cannot be opened.
    const store = await ImageStore.open(options.db, vectorSpace(options), options.indexPolicy ?? DEFAULT_INDEX_POLICY).catch(
      async (error: unknown) => {
        await embedder.close();
        throw error;
      },
    );
    const space = vectorSpace(options);
    const whitenings = new WhiteningMaintainer(
      store.whitenings,
      `${space.model}/${space.descriptor}`,
      options.whiteningPolicy ?? DEFAULT_WHITENING_POLICY,
    );
    return new LookalikeEngine(store, new Fingerprinter(embedder, descriptor), whitenings, options.limits);
  }

  collection(name: string): Promise<CollectionTable> {
    return this.store.collection(name);
  }

  /** Decodes (with every guard) and fingerprints one image. Throws a typed LookalikeError on bad input. */
  async analyze(input: Buffer | string, options: AnalyzeOptions = {}): Promise<AnalyzedImage> {
    const image = await decodeImage(input, { limits: this.limits, signal: options.signal });
    const [fingerprint, thumbnail] = await Promise.all([
      this.fingerprinter.fingerprint(image, {
        flipped: options.flipped,
        centre: options.centre,
        urgent: options.urgent,
        signal: options.signal,
      }),
      options.thumbnail ? makeThumbnail(image) : undefined,
    ]);
    return { ...fingerprint, thumbnail };
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
  }

  /** Ranked look-alikes by cosine; with a mirrored vector, a flipped copy counts as close as the original. */
  async findSimilar(query: AnalyzedImage, options: QueryOptions & { readonly k: number }): Promise<Match[]> {
    const candidates = await this.candidates(query, options.k, options);
    return candidates
      .map(({ vector, ...match }) => ({
        ...match,
        score: query.flippedVector && vector ? Math.max(match.score, cosine(query.flippedVector, vector)) : match.score,
      }))
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
    const whitening = await this.whitenings.refresh(table, options.signal);
    return { index, whitening };
  }

  /**
   * Deletes rows and counts them towards the collection's next whitening refit (the removed
   * images leave its statistics at the next `maintain`). Returns how many rows went.
   */
  async delete(collection: string, filter: RowFilter): Promise<number> {
    const removed = await (await this.store.collection(collection)).delete(filter);
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
    options: QueryOptions & {
      readonly thresholds?: RepostCalibration;
      readonly candidates?: number;
      /** Drops candidates the caller rules out (e.g. pairs a moderator marked "not a repost"). */
      readonly accept?: (match: Match) => boolean;
    },
  ): Promise<RepostVerdict> {
    const candidates = await this.candidates(query, options.candidates ?? 10, options);
    const accepted = options.accept ? candidates.filter(options.accept) : candidates;
    const projection = await this.whitenings.projection(options.collection);
    const calibration = options.thresholds ?? DEFAULT_REPOST_THRESHOLDS;
    return judge(query, accepted, projection ? calibration.whitened : calibration.raw, projection);
  }

  async close(): Promise<void> {
    await this.fingerprinter.embedder.close();
    this.store.close();
  }

  /**
   * Nearest stored images to each of the query's views (as given, mirrored, centre square), merged
   * by id. Each match's `score` is its cosine with the query as given; its vector comes along.
   */
  private async candidates(query: AnalyzedImage, k: number, options: QueryOptions): Promise<Match[]> {
    const table = await this.store.collection(options.collection);
    const search = { k, filter: options.filter, excludeIds: options.excludeIds, withVectors: true };
    const [direct, ...others] = await Promise.all(queryViews(query).map((view) => table.search(view.vector, search)));
    const byId = new Map<string, Match>(direct!.map((match) => [match.id, match]));
    for (const match of others.flat()) {
      if (!byId.has(match.id)) byId.set(match.id, { ...match, score: cosine(query.vector, match.vector!) });
    }
    return [...byId.values()];
  }
}
