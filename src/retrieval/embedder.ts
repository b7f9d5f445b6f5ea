/**
 * Turns decoded images into conv feature maps. Callers may call `featureMap` concurrently:
 * requests are coalesced into batches for a small pool of inference workers, so the bot's
 * per-message calls and the CLI's bulk calls both keep the model busy while the next images decode.
 */
import os from "node:os";
import { InferenceWorker } from "./embedder/inference-worker.ts";
import type { FeatureProjection } from "./embedder/protocol.ts";
import { LookalikeError, throwIfAborted } from "./errors.ts";
import { type DecodedImage, writeModelInput } from "./image.ts";
import { type EnsureModelOptions, ensureModelFile, type ModelDescription, type ResizeMode } from "./models.ts";
import type { FeatureMap } from "./pooling.ts";

/**
 * Defaults chosen by `npm run bench -- --only speed` (bench/speed/ingest.ts; numbers in
 * bench/RESULTS.md). On 2 cores, one session using both cores with ORT's spin-waiting turned off
 * (embedder/worker.ts) and small batches was fastest; batching gains nothing for MobileNetV2 int8
 * on the CPU and only delays the first results. A pool of single-threaded sessions
 * (`workers: 2`) measured a few % slower here; it stays available for machines where it wins.
 */
export const DEFAULT_EMBEDDER_WORKERS = 1;
export const DEFAULT_MAX_BATCH = 4;

/** Largest input size `featureMap` accepts (a 1024² input is 12 MB of floats and a 32×32 map). */
export const MAX_INPUT_SIZE = 1024;

export interface EmbedderOptions extends EnsureModelOptions {
  readonly model: ModelDescription;
  /** Threads for the model in total, shared by the workers (default: all cores). */
  readonly threads?: number;
  /** Inference workers, each with its own session (default: DEFAULT_EMBEDDER_WORKERS, at most `threads`). */
  readonly workers?: number;
  /** Largest batch sent to one worker (default DEFAULT_MAX_BATCH). */
  readonly maxBatch?: number;
  /** Told the model's time for each batch (for metrics). */
  readonly onBatch?: (seconds: number, images: number) => void;
  /** A projection of each cell the model also computes (FeatureMap.projected), e.g. the parts' cell projection. */
  readonly projection?: FeatureProjection;
}

interface Job {
  readonly input: Float32Array;
  readonly size: number;
  readonly urgent: boolean;
  resolve(map: FeatureMap): void;
  reject(error: unknown): void;
}

export class Embedder {
  private readonly queue: Job[] = [];
  private readonly idle: InferenceWorker[];
  /** The worker the next `scores` goes to when none is idle (round robin). */
  private nextScorer = 0;

  private constructor(
    readonly model: ModelDescription,
    private readonly workers: readonly InferenceWorker[],
    private readonly maxBatch: number,
    private readonly onBatch?: (seconds: number, images: number) => void,
  ) {
    this.idle = [...workers];
  }

  static async create(options: EmbedderOptions): Promise<Embedder> {
    const modelPath = await ensureModelFile(options.model, options);
    const threads = Math.max(1, options.threads ?? os.availableParallelism());
    const count = Math.max(1, Math.min(options.workers ?? DEFAULT_EMBEDDER_WORKERS, threads));
    // Spread the threads over the workers; the first ones take any remainder.
    const perWorker = Array.from({ length: count }, (_, i) => Math.floor(threads / count) + (i < threads % count ? 1 : 0));
    const started = await Promise.allSettled(perWorker.map((n) => InferenceWorker.start(modelPath, options.model, n, options.projection)));
    const workers = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === "rejected");
    if (failed) {
      await Promise.all(workers.map((worker) => worker.close()));
      throw failed.reason;
    }
    return new Embedder(options.model, workers, Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH), options.onBatch);
  }

  /**
   * The image's conv feature map; `resize` overrides the model's resize mode (e.g. "cover" for a
   * centre view). An `urgent` request (someone is waiting for the answer) goes ahead of the queued
   * ones, so it waits for at most the batch in flight, not for a backlog of background images.
   * `size` is the square input's side in pixels (default the model's, 224): a multiple of the
   * feature stride (32), from 32 to MAX_INPUT_SIZE; the map is size/32 cells high and wide.
   */
  async featureMap(
    image: DecodedImage,
    signal?: AbortSignal,
    resize?: ResizeMode,
    urgent = false,
    size = this.model.input.size,
  ): Promise<FeatureMap> {
    this.checkSize(size);
    throwIfAborted(signal);
    const base = this.model.input;
    const spec = resize || size !== base.size ? { ...base, size, resize: resize ?? base.resize } : base;
    const input = await writeModelInput(image, spec, new Float32Array(3 * size * size));
    throwIfAborted(signal);
    return new Promise<FeatureMap>((resolve, reject) => {
      const job = { input, size, resolve, reject, urgent };
      // Behind other urgent jobs, ahead of every background one.
      const firstBackground = urgent ? this.queue.findIndex((queued) => !queued.urgent) : -1;
      if (firstBackground === -1) this.queue.push(job);
      else this.queue.splice(firstBackground, 0, job);
      this.dispatch();
    });
  }

  /**
   * Every row of `a` times every row of `b` (both `dimension` values wide; transferred), computed
   * by an inference worker: rows(a) × rows(b) values, row-major. Not queued behind waiting model
   * runs: it waits only for the batch the worker is running, and takes a few milliseconds.
   */
  scores(a: Float32Array, b: Float32Array, dimension: number): Promise<Float32Array> {
    const worker = this.idle.at(-1) ?? this.workers[this.nextScorer++ % this.workers.length]!;
    return worker.scores(a, b, dimension);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    for (const job of this.queue.splice(0)) job.reject(new LookalikeError("aborted", "The embedder was closed."));
  }

  private checkSize(size: number): void {
    const { stride } = this.model.features;
    if (!Number.isInteger(size) || size < stride || size > MAX_INPUT_SIZE || size % stride !== 0) {
      throw new LookalikeError(
        "internal",
        `Model input size ${size} is not supported: it must be a multiple of ${stride} from ${stride} to ${MAX_INPUT_SIZE} px.`,
        { model: this.model.id, size },
      );
    }
  }

  /**
   * Hands queued jobs to idle workers, one batch each; a worker that finishes comes back for more.
   * A batch is the first queued job and the next ones of the same input size, in queue order.
   */
  private dispatch(): void {
    while (this.queue.length > 0 && this.idle.length > 0) {
      const worker = this.idle.pop()!;
      const { size } = this.queue[0]!;
      const jobs: Job[] = [];
      for (let i = 0; i < this.queue.length && jobs.length < this.maxBatch; ) {
        if (this.queue[i]!.size === size) jobs.push(...this.queue.splice(i, 1));
        else i++;
      }
      void this.runBatch(worker, jobs).finally(() => {
        this.idle.push(worker);
        this.dispatch();
      });
    }
  }

  private async runBatch(worker: InferenceWorker, jobs: readonly Job[]): Promise<void> {
    const perImage = jobs[0]!.input.length;
    const batch = new Float32Array(perImage * jobs.length);
    jobs.forEach((job, i) => batch.set(job.input, i * perImage));
    try {
      const started = performance.now();
      const { size } = jobs[0]!;
      const { features, projected } = await worker.run(batch, jobs.length, size);
      this.onBatch?.((performance.now() - started) / 1000, jobs.length);
      const { channels } = this.model.features;
      const height = size / this.model.features.stride;
      const width = height;
      const perMap = channels * height * width;
      const perProjection = projected && projected.length / jobs.length;
      jobs.forEach((job, i) =>
        job.resolve({
          data: features.subarray(i * perMap, (i + 1) * perMap),
          channels,
          height,
          width,
          projected: perProjection ? projected.subarray(i * perProjection, (i + 1) * perProjection) : undefined,
        }),
      );
    } catch (error) {
      for (const job of jobs) job.reject(error);
    }
  }
}
