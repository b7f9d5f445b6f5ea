/**
 * Turns decoded images into conv feature maps. Callers may call `featureMaps` concurrently:
 * requests are coalesced into batches for the worker, so the bot's per-message calls and the
 * CLI's bulk calls both keep the model busy with full batches while the next images decode.
 */
import os from "node:os";
import { LookalikeError, throwIfAborted } from "./errors.ts";
import { InferenceWorker } from "./embedder/inference-worker.ts";
import { writeModelInput, type DecodedImage } from "./image.ts";
import { ensureModelFile, type EnsureModelOptions, type ModelDescription } from "./models.ts";
import type { FeatureMap } from "./pooling.ts";

export interface EmbedderOptions extends EnsureModelOptions {
  readonly model: ModelDescription;
  /** Threads for the model (default: all cores). */
  readonly threads?: number;
  /** Largest batch sent to the model (default 16: larger batches gain little here and grow memory). */
  readonly maxBatch?: number;
}

interface Job {
  readonly input: Float32Array;
  resolve(map: FeatureMap): void;
  reject(error: unknown): void;
}

export class Embedder {
  private readonly queue: Job[] = [];
  private running = false;

  private constructor(
    readonly model: ModelDescription,
    private readonly worker: InferenceWorker,
    private readonly maxBatch: number,
  ) {}

  static async create(options: EmbedderOptions): Promise<Embedder> {
    const modelPath = await ensureModelFile(options.model, options);
    const threads = options.threads ?? os.availableParallelism();
    const worker = await InferenceWorker.start(modelPath, options.model, threads);
    return new Embedder(options.model, worker, options.maxBatch ?? 16);
  }

  get inputSize(): number {
    return this.model.input.size;
  }

  /** Feature maps in the order of `images`. */
  async featureMaps(images: readonly DecodedImage[], signal?: AbortSignal): Promise<FeatureMap[]> {
    return Promise.all(images.map((image) => this.featureMap(image, signal)));
  }

  async featureMap(image: DecodedImage, signal?: AbortSignal): Promise<FeatureMap> {
    throwIfAborted(signal);
    const { size } = this.model.input;
    const input = await writeModelInput(image, this.model.input, new Float32Array(3 * size * size));
    throwIfAborted(signal);
    return new Promise<FeatureMap>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      void this.drain();
    });
  }

  async close(): Promise<void> {
    await this.worker.close();
    for (const job of this.queue.splice(0)) job.reject(new LookalikeError("aborted", "The embedder was closed."));
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const jobs = this.queue.splice(0, this.maxBatch);
        await this.runBatch(jobs);
      }
    } finally {
      this.running = false;
    }
  }

  private async runBatch(jobs: readonly Job[]): Promise<void> {
    const perImage = jobs[0]!.input.length;
    const batch = new Float32Array(perImage * jobs.length);
    jobs.forEach((job, i) => batch.set(job.input, i * perImage));
    try {
      const data = await this.worker.run(batch, jobs.length);
      const { channels, height, width } = this.model.features;
      const stride = channels * height * width;
      jobs.forEach((job, i) =>
        job.resolve({ data: data.subarray(i * stride, (i + 1) * stride), channels, height, width }),
      );
    } catch (error) {
      for (const job of jobs) job.reject(error);
    }
  }
}
