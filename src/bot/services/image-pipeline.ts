/**
 * Discord image → analysed image: download (allow-listed hosts, capped), then decode and
 * fingerprint, inside a slot of one of two work lanes. Someone waiting for an answer (`/similar`,
 * the context menu) uses the interactive lane and jumps the model's queue; indexing uses the
 * background lane, whose slot also covers the follow-up work on the image (the repost check), so
 * that work is bounded by the same limits. A full background lane refuses live images
 * (`offer`: the caller defers them) and makes backfill and catch-up wait (`submit`).
 */
import type { ImageAnalyzer } from "../../retrieval/analyzer.ts";
import type { AnalyzedImage, LookalikeEngine } from "../../retrieval/engine.ts";
import { LookalikeError } from "../../retrieval/errors.ts";
import type { AttachmentFetcher } from "../attachment-fetcher.ts";
import type { ImageRef } from "../message-images.ts";
import type { WorkQueue } from "../work-queue.ts";

export interface WorkLanes {
  readonly interactive: WorkQueue;
  readonly background: WorkQueue;
  /**
   * Within a background slot, the CPU part (decode, model, repost check) takes a slot of this
   * smaller queue: downloads wait on the network and may overlap freely, but more than a couple of
   * images decoding and embedding at once only queue up inside the model while taking the CPU
   * from searches (bench/RESULTS.md, flood section).
   */
  readonly backgroundCompute: WorkQueue;
}

export interface AnalyzeRefOptions {
  readonly lane: "interactive" | "background";
  /** Background lane: wait for room when it is full (backfill, catch-up) instead of refusing. */
  readonly waitForRoom?: boolean;
  /** Also embed the mirror image (for repost checks and queries). */
  readonly flipped?: boolean;
  /** Also embed the centre square (for repost checks). */
  readonly centre?: boolean;
  /** Also embed the content box and collage tiles (repost checks and /similar: the picture inside a screenshot). */
  readonly regions?: boolean;
  readonly signal?: AbortSignal;
}

export class ImagePipeline {
  constructor(
    readonly engine: LookalikeEngine,
    private readonly fetcher: AttachmentFetcher,
    readonly lanes: WorkLanes,
    /**
     * Where background images (live indexing, catch-up, backfill, with their repost checks) are
     * analysed: the engine's own model, or embedding workers behind Redis (`LOOKALIKE_REDIS_URL`).
     * Searches (`/similar`, the context menu) always use the engine's model in this process:
     * someone is waiting, and a round trip through Redis behind a backlog of background images is
     * the wrong trade for them.
     */
    private readonly backgroundAnalyzer: ImageAnalyzer = engine.analyzer,
  ) {}

  /** Tasks waiting or running per lane. */
  get depths(): Record<"interactive" | "background", number> {
    return { interactive: this.lanes.interactive.depth, background: this.lanes.background.depth };
  }

  /** Whether the background lane would take `count` more live images now. */
  hasBackgroundRoom(count: number): boolean {
    return this.lanes.background.hasRoom(count);
  }

  /** Downloads and analyses one image, then runs `followUp` on it in the same slot. */
  run<T>(ref: ImageRef, options: AnalyzeRefOptions, followUp: (image: AnalyzedImage) => Promise<T>): Promise<T> {
    const compute = (bytes: Buffer) => async () => followUp(await this.analyzeBytes(bytes, options));
    const task = async () => {
      const bytes = await this.download(ref, options.signal);
      return options.lane === "interactive" ? compute(bytes)() : this.lanes.backgroundCompute.submit(compute(bytes), options.signal);
    };
    const queue = this.lanes[options.lane];
    return options.waitForRoom ? queue.submit(task, options.signal) : queue.offer(task);
  }

  /** Downloads and analyses one image. */
  analyzeRef(ref: ImageRef, options: AnalyzeRefOptions): Promise<AnalyzedImage> {
    return this.run(ref, options, async (image) => image);
  }

  private analyzeBytes(bytes: Buffer, options: AnalyzeRefOptions): Promise<AnalyzedImage> {
    const analyzer = options.lane === "interactive" ? this.engine.analyzer : this.backgroundAnalyzer;
    return analyzer.analyze(bytes, {
      thumbnail: true,
      flipped: options.flipped,
      centre: options.centre,
      regions: options.regions,
      // Stored images keep their parts (regions, cells) for later queries and repost checks. A
      // search (/similar) goes without: someone is waiting, and its views are compared with the
      // stored parts all the same (engine.findSimilar).
      parts: options.lane === "background",
      urgent: options.lane === "interactive",
      signal: options.signal,
    });
  }

  /** The image's bytes, trying the proxy URL when the original link fails. */
  private async download(ref: ImageRef, signal?: AbortSignal): Promise<Buffer> {
    try {
      return await this.fetcher.fetch(ref.url, signal);
    } catch (error) {
      const retryable = error instanceof LookalikeError && (error.code === "corrupt" || error.code === "download_failed");
      if (!retryable || !ref.proxyUrl || ref.proxyUrl === ref.url) throw error;
      return this.fetcher.fetch(ref.proxyUrl, signal);
    }
  }
}
