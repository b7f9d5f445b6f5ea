/**
 * Discord image → analysed image: download (allow-listed hosts, capped), then decode and
 * fingerprint through the bounded work queue. Live events are refused when the queue is full;
 * backfill waits for room.
 */
import type { AnalyzedImage, LookalikeEngine } from "../../retrieval/engine.ts";
import { LookalikeError } from "../../retrieval/errors.ts";
import type { AttachmentFetcher } from "../attachment-fetcher.ts";
import type { ImageRef } from "../message-images.ts";
import type { WorkQueue } from "../work-queue.ts";

export interface AnalyzeRefOptions {
  /** Live work is refused when the queue is full; backfill waits. */
  readonly priority: "live" | "backfill";
  /** Also embed the mirror image (for repost checks and queries). */
  readonly flipped?: boolean;
  /** Also embed the centre square (for repost checks). */
  readonly centre?: boolean;
  readonly signal?: AbortSignal;
}

export class ImagePipeline {
  constructor(
    readonly engine: LookalikeEngine,
    private readonly fetcher: AttachmentFetcher,
    private readonly queue: WorkQueue,
  ) {}

  get queueStats() {
    return this.queue.stats;
  }

  /** Downloads and analyses one image, trying the proxy URL when the original link fails. */
  async analyzeRef(ref: ImageRef, options: AnalyzeRefOptions): Promise<AnalyzedImage> {
    const task = async () => this.analyzeBytes(await this.download(ref, options.signal), options);
    return options.priority === "live" ? this.queue.offer(task) : this.queue.submit(task, options.signal);
  }

  private analyzeBytes(bytes: Buffer, options: Pick<AnalyzeRefOptions, "flipped" | "centre" | "signal">): Promise<AnalyzedImage> {
    return this.engine.analyze(bytes, { thumbnail: true, flipped: options.flipped, centre: options.centre, signal: options.signal });
  }

  private async download(ref: ImageRef, signal?: AbortSignal): Promise<Buffer> {
    try {
      return await this.fetcher.fetch(ref.url, signal);
    } catch (error) {
      const retryable = error instanceof LookalikeError && (error.code === "corrupt" || error.code === "timeout");
      if (!retryable || !ref.proxyUrl || ref.proxyUrl === ref.url) throw error;
      return this.fetcher.fetch(ref.proxyUrl, signal);
    }
  }
}
