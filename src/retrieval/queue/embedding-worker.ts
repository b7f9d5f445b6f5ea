/**
 * The consumer side of the embedding queue: takes jobs from Redis, reads each job's images (one,
 * or several queued together: batch.ts) beside it (payloads.ts) and analyses them with the same
 * `LocalAnalyzer` the bot and the CLI use in-process, so a queued fingerprint is the in-process
 * one. It opens the model and Redis, never a database: the results are left beside the job for
 * the process that queued the images, which writes them.
 *
 * A bad image is answered (a refusal in the result), not failed: retrying it elsewhere would be
 * refused again. A worker that dies mid-job (SIGKILL, a lost machine) stops renewing its jobs'
 * locks; once a lock expires, a live worker's stalled-job check puts the job back in the queue and
 * another worker takes it. A job that keeps killing its workers is failed after MAX_STALLS.
 */
import { hostname } from "node:os";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { LocalAnalyzer } from "../analyzer.ts";
import type { VectorSpace } from "../store/schema.ts";
import { redisConnection } from "./connection.ts";
import { Payloads } from "./payloads.ts";
import {
  type AnalyzeOutcome,
  type AnalyzeRequest,
  decode,
  encode,
  isInputRefusal,
  type JobData,
  type JobRequest,
  payloadPrefix,
  QUEUE_PREFIX,
  queueName,
  refusalOf,
} from "./protocol.ts";
import { DEFAULT_WORKER_CONCURRENCY, DEFAULT_WORKER_LOCK_MS } from "./settings.ts";

/** Times a job may be recovered from a dead worker before it is failed (it may be what kills them). */
const MAX_STALLS = 2;

/** One image of a job answered ("analyzed", "refused", or "failed" on the last attempt), or a whole job failed (with `error`). */
export interface JobEvent {
  readonly jobId: string;
  readonly ms: number;
  readonly outcome: "analyzed" | "refused" | "failed";
  /** Why the job failed (BullMQ retries it, or reports it to its caller after the last attempt). */
  readonly error?: Error;
}

export interface EmbeddingWorkerOptions {
  readonly redisUrl: string;
  /** The model, opened by the caller (`LocalAnalyzer.open`); the worker does not close it. */
  readonly analyzer: LocalAnalyzer;
  /** The vector space `analyzer` produces: it names the queue this worker serves. */
  readonly space: VectorSpace;
  /** Jobs in progress at once (default DEFAULT_WORKER_CONCURRENCY). */
  readonly concurrency?: number;
  /** How long a job's lock lasts without renewal (default BullMQ's 30 s). */
  readonly lockDurationMs?: number;
  /** How often expired locks are looked for (default: `lockDurationMs`). */
  readonly stalledIntervalMs?: number;
  /**
   * Told about every image this worker answers and every job that fails (for logs and counts);
   * `ms` is the image's analysis alone, without Redis.
   */
  readonly onJob?: (event: JobEvent) => void;
  /** Connection and job-lock trouble; BullMQ carries on (reconnects, retries). */
  readonly onError?: (error: Error) => void;
}

export class EmbeddingWorker {
  private constructor(
    readonly queue: string,
    private readonly worker: Worker<JobData, number>,
    private readonly payloads: Payloads,
  ) {}

  static async start(options: EmbeddingWorkerOptions): Promise<EmbeddingWorker> {
    const name = queueName(options.space);
    const lockDuration = options.lockDurationMs ?? DEFAULT_WORKER_LOCK_MS;
    const payloads = Payloads.open(options.redisUrl, payloadPrefix(name), options.onError ?? (() => {}));
    const worker = new Worker<JobData, number>(name, (job, _token, signal) => EmbeddingWorker.process(options, payloads, job, signal), {
      connection: redisConnection(options.redisUrl),
      prefix: QUEUE_PREFIX,
      name: `${hostname()}:${process.pid}`,
      concurrency: options.concurrency ?? DEFAULT_WORKER_CONCURRENCY,
      lockDuration,
      stalledInterval: options.stalledIntervalMs ?? lockDuration,
      maxStalledCount: MAX_STALLS,
      autorun: false,
    });
    // Without a listener an "error" event would crash the process; BullMQ recovers by itself.
    worker.on("error", options.onError ?? (() => {}));
    worker.on("failed", (job, error) =>
      options.onJob?.({ jobId: job?.id ?? "", ms: Date.now() - (job?.processedOn ?? Date.now()), outcome: "failed", error }),
    );
    void worker.run().catch((error: unknown) => options.onError?.(error as Error));
    await worker.waitUntilReady();
    return new EmbeddingWorker(name, worker, payloads);
  }

  /** Stops taking jobs and waits for the ones in progress to finish (SIGTERM: nothing is lost or redone). */
  async close(): Promise<void> {
    await this.worker.close();
    await this.payloads.close();
  }

  /**
   * Analyses one job's images (one or a batch, all at once: the model batches them itself) and
   * leaves their outcomes beside it; returns the result's size (shown in the queue).
   */
  private static async process(
    options: EmbeddingWorkerOptions,
    payloads: Payloads,
    job: Job<JobData, number>,
    signal?: AbortSignal,
  ): Promise<number> {
    const jobId = job.id ?? "";
    const encoded = await payloads.getRequest(jobId);
    // Its producer gave up on it (and dropped the bytes), or they expired: nothing to retry.
    if (!encoded) throw new UnrecoverableError("The images' bytes are no longer in Redis.");
    let requests: JobRequest;
    try {
      requests = decode<JobRequest>(encoded);
    } catch (error) {
      // A request this code cannot read will not become readable on another try.
      throw new UnrecoverableError(`Unreadable request: ${(error as Error).message}`);
    }
    // On the last attempt an image the model cannot analyse is answered as failed, alone, so its
    // batch-mates are not failed with it; before that the whole job is retried (perhaps elsewhere).
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const outcomes = await Promise.all(
      requests.map(async (request): Promise<AnalyzeOutcome> => {
        const started = performance.now();
        const outcome = await EmbeddingWorker.analyzeOne(options.analyzer, request, signal, lastAttempt);
        options.onJob?.({
          jobId,
          ms: performance.now() - started,
          outcome: "image" in outcome ? "analyzed" : "refused" in outcome ? "refused" : "failed",
        });
        return outcome;
      }),
    );
    const result = encode(outcomes);
    await payloads.putResult(jobId, result);
    return result.length;
  }

  private static async analyzeOne(
    analyzer: LocalAnalyzer,
    request: AnalyzeRequest,
    signal: AbortSignal | undefined,
    lastAttempt: boolean,
  ): Promise<AnalyzeOutcome> {
    try {
      return { image: await analyzer.analyze(request.bytes, { ...request.options, signal }, request.limits) };
    } catch (error) {
      if (isInputRefusal(error)) return { refused: refusalOf(error) };
      if (lastAttempt && !signal?.aborted) return { failed: (error as Error).message };
      throw error; // BullMQ retries the job (attempts, then "failed")
    }
  }
}
