/**
 * Image in, fingerprint out: decode (with every guard), embed, hash, and a thumbnail when asked.
 * One interface, two places it can happen: in this process (`LocalAnalyzer`, the model in a worker
 * thread: the default) or on embedding workers behind a Redis queue (`queue/queued-analyzer.ts`).
 * The engine and its callers see only `ImageAnalyzer`, so choosing where images are embedded is a
 * decision of the composition roots (the bot's app.ts, the CLI), not of the code that uses them.
 *
 * This module needs the model and nothing else: an embedding worker process opens it without a
 * database (and without loading LanceDB at all).
 */
import { DEFAULT_POOLING, type Descriptor, poolingDescriptor } from "./descriptor.ts";
import { Embedder } from "./embedder.ts";
import type { AnalyzedImage, AnalyzeOptions, EngineOptions } from "./engine.ts";
import { isLookalikeError } from "./errors.ts";
import { Fingerprinter } from "./fingerprint.ts";
import { DEFAULT_IMAGE_LIMITS, type DecodedImage, type DecodeOptions, decodeImage, type ImageLimits, makeThumbnail } from "./image.ts";
import { DEFAULT_MODEL_ID, defaultModelsDir, getModel, type ModelDescription } from "./models.ts";
import { cellProjectionWeights } from "./regions/parts.ts";
import type { VectorSpace } from "./store/schema.ts";
import type { TransposedProduct } from "./vectors.ts";

export interface ImageAnalyzer {
  /** Decodes and fingerprints one image. Throws a typed LookalikeError on bad input. */
  analyze(input: Buffer | string, options?: AnalyzeOptions): Promise<AnalyzedImage>;
  /** Releases the model or the queue connection; analyses still waiting are rejected as `aborted`. */
  close(): Promise<void>;
  /**
   * Matrix products computed off this thread (spatial verification's cell scores, whitening
   * projections), when this analyzer has a model here.
   */
  readonly product?: TransposedProduct;
}

/** What opening the model takes: the engine's options without the database. */
export type LocalAnalyzerOptions = Pick<
  EngineOptions,
  "modelsDir" | "modelId" | "pooling" | "threads" | "download" | "onDownloadProgress" | "onModelBatch" | "limits"
>;

export function configuration(options: Pick<EngineOptions, "modelId" | "pooling">): { model: ModelDescription; descriptor: Descriptor } {
  const model = getModel(options.modelId ?? DEFAULT_MODEL_ID);
  return { model, descriptor: poolingDescriptor(options.pooling ?? DEFAULT_POOLING, model.features.channels) };
}

/** The vector space a configuration produces, known without loading the model. */
export function vectorSpace(options: Pick<EngineOptions, "modelId" | "pooling">): VectorSpace {
  const { model, descriptor } = configuration(options);
  // The input resize mode shapes the vectors as much as the pooling does, so it is part of the name.
  return { model: model.id, descriptor: `${descriptor.name}/${model.input.resize}`, dimension: descriptor.dimension };
}

/** The model in this process (inference in a worker thread, see embedder.ts). */
export class LocalAnalyzer implements ImageAnalyzer {
  /** In the inference worker: native and vectorised, where a repost check's cell scores alone took ~130 ms here. */
  readonly product: TransposedProduct;

  private constructor(
    readonly fingerprinter: Fingerprinter,
    private readonly limits: Partial<ImageLimits> | undefined,
  ) {
    const { embedder } = fingerprinter;
    this.product = (a, b, dimension) => embedder.scores(a, b, dimension);
  }

  static async open(options: LocalAnalyzerOptions): Promise<LocalAnalyzer> {
    const { model, descriptor } = configuration(options);
    const embedder = await Embedder.create({
      model,
      modelsDir: options.modelsDir ?? defaultModelsDir(),
      download: options.download,
      onProgress: options.onDownloadProgress,
      threads: options.threads,
      onBatch: options.onModelBatch,
      // The parts' cells are computed by the model, in its worker (regions/parts.ts).
      projection: cellProjectionWeights(model.features.channels),
    });
    return new LocalAnalyzer(new Fingerprinter(embedder, descriptor), options.limits);
  }

  /** `limits` overrides the analyzer's own: an embedding worker applies the ones its caller would have. */
  async analyze(input: Buffer | string, options: AnalyzeOptions = {}, limits = this.limits): Promise<AnalyzedImage> {
    const deadline = Date.now() + (limits?.timeoutMs ?? DEFAULT_IMAGE_LIMITS.timeoutMs);
    const image = await decodeImage(input, { limits, signal: options.signal });
    const [fingerprint, thumbnail] = await Promise.all([
      this.fingerprinter.fingerprint(image, {
        flipped: options.flipped,
        centre: options.centre,
        regions: options.regions,
        parts: options.parts,
        urgent: options.urgent,
        signal: options.signal,
        // Region views are cut from a second, sharper decode when the working copy shrank them.
        detail: (workingSize) => sharperDecode(input, { limits, signal: options.signal, workingSize }, deadline),
      }),
      options.thumbnail ? makeThumbnail(image) : undefined,
    ]);
    return { ...fingerprint, thumbnail };
  }

  close(): Promise<void> {
    return this.fingerprinter.embedder.close();
  }
}

/**
 * The second decode of an image (a larger working copy, for its region views) within what is left
 * of the one deadline its decodes share (`timeoutMs` from the first one's start): undefined when
 * nothing is left or it runs out, and the region views are then cut from the working copy. The
 * image was decoded once already, so it is not refused for this; other refusals (an abort) still
 * end the analysis.
 */
export async function sharperDecode(input: Buffer | string, options: DecodeOptions, deadline: number): Promise<DecodedImage | undefined> {
  const left = deadline - Date.now();
  if (left < 1) return undefined;
  try {
    return await decodeImage(input, { ...options, limits: { ...options.limits, timeoutMs: left } });
  } catch (error) {
    if (isLookalikeError(error, "timeout")) return undefined;
    throw error;
  }
}
