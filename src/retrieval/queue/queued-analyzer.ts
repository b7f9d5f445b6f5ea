/**
 * The producer side of the embedding queue: an `ImageAnalyzer` that sends each image's bytes to
 * the embedding workers (`npm run worker`, on any machine) through a BullMQ queue on Redis and
 * waits for the result, which the caller then writes itself (idempotently: upserts by id).
 * Background images queued while earlier jobs are still in the workers' hands share a job
 * (batch.ts); an urgent one, or one arriving when nothing is in flight, goes alone at once.
 *
 * The images' bytes and their results travel as binary values beside the job (payloads.ts); a
 * job's "completed" event, read from one QueueEvents stream shared by every analysis in flight,
 * says its results are there. A job is registered under an id chosen here *before* it is added,
 * so no completion can go unseen. Bad images come back as results (a refusal, rethrown here as
 * the same typed LookalikeError as in-process) and are never retried; any other failure is
 * retried by BullMQ a few times, on any worker, and then reported. A job whose worker dies (SIGKILL, a lost machine)
 * stalls, and BullMQ hands it to another worker once its lock expires (settings.ts).
 */
import { randomUUID } from "node:crypto";
import { Queue, QueueEvents } from "bullmq";
import type { ImageAnalyzer } from "../analyzer.ts";
import type { AnalyzedImage, AnalyzeOptions } from "../engine.ts";
import { LookalikeError, throwIfAborted } from "../errors.ts";
import { type ImageLimits, readImageBytes } from "../image.ts";
import type { VectorSpace } from "../store/schema.ts";
import { Batcher, type BatchLimits, DEFAULT_BATCH } from "./batch.ts";
import { redactRedisUrl, redisConnection } from "./connection.ts";
import { Payloads } from "./payloads.ts";
import {
  type AnalyzeOutcome,
  type AnalyzeRequest,
  decode,
  encode,
  errorOf,
  type JobData,
  type JobResult,
  payloadPrefix,
  QUEUE_PREFIX,
  queueName,
} from "./protocol.ts";

export interface QueuedAnalyzerOptions {
  readonly redisUrl: string;
  /** The vector space the results must be in (the collection's): it names the queue. */
  readonly space: VectorSpace;
  /** Decode limits, applied as in-process: the byte cap here, the rest on the worker. */
  readonly limits?: Partial<ImageLimits>;
  /** How long `open` waits for Redis before giving up (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Connection trouble after `open` (ioredis reconnects by itself); without it, errors are ignored. */
  readonly onError?: (error: Error) => void;
  /** How background images are grouped into jobs (default DEFAULT_BATCH). */
  readonly batch?: Partial<BatchLimits>;
}

/**
 * Attempts for a job that fails for another reason than its image (a worker's model failing);
 * a bad image is answered at once, a stalled job is retried by the stalled-job check (worker.ts).
 */
const ATTEMPTS = 3;
const BACKOFF = { type: "exponential", delay: 1000 } as const;
/**
 * Events kept in the queue's stream (BullMQ's default is 10,000): they are read within
 * milliseconds, and a reader that fell this far behind is caught by the sweep below.
 */
const EVENTS_KEPT = 2000;
/** How long `open` waits for Redis by default. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Failed jobs kept for inspection (their ids and reasons; the payloads are dropped). */
const FAILED_KEPT = { count: 100, age: 24 * 3600 };
/**
 * How often waiting analyses are checked against the queue. A job that vanished (Redis restarted
 * without persistence, flushed) is reported after two sweeps instead of being awaited forever.
 */
const SWEEP_MS = 30_000;

/** One image waiting for its answer. */
interface Pending {
  readonly request: AnalyzeRequest;
  readonly bytes: number;
  /** For its errors: the file, the queue, and once sent, the job's id. */
  readonly context: Record<string, unknown>;
  /** The job it was sent in. */
  jobId?: string;
  /** Answered, failed or given up by its caller: whatever comes later is dropped. */
  settled: boolean;
  resolve(outcome: AnalyzeOutcome): void;
  reject(error: unknown): void;
}

/** A job sent and not answered yet. */
interface SentJob {
  readonly items: readonly Pending[];
  /** Sweeps that found the job gone from the queue while it was still awaited. */
  missing: number;
}

const closedError = (context: Record<string, unknown>) => new LookalikeError("aborted", "The embedding queue was closed.", context);

export class QueuedAnalyzer implements ImageAnalyzer {
  private readonly jobs = new Map<string, SentJob>();
  private readonly batcher: Batcher<Pending>;
  private readonly sweeper: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private sweeping = false;

  private constructor(
    readonly name: string,
    private readonly redis: string,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly payloads: Payloads,
    private readonly limits: Partial<ImageLimits> | undefined,
    batch: BatchLimits,
  ) {
    this.batcher = new Batcher(batch, (items) => void this.send(items));
    events.on("completed", ({ jobId }) => void this.complete(jobId));
    events.on("failed", ({ jobId, failedReason }) =>
      this.fail(
        jobId,
        (context) => new LookalikeError("queue_unavailable", `The embedding workers could not analyse the image: ${failedReason}`, context),
      ),
    );
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Connects to Redis (waiting at most `connectTimeoutMs`) and starts listening for results. */
  static async open(options: QueuedAnalyzerOptions): Promise<QueuedAnalyzer> {
    const name = queueName(options.space);
    const connection = redisConnection(options.redisUrl);
    const redis = redactRedisUrl(options.redisUrl);
    const onError = options.onError ?? (() => {});
    const unavailable = (error: unknown) =>
      new LookalikeError(
        "queue_unavailable",
        `Cannot use Redis at ${redis}: ${(error as Error).message}`,
        { queue: name },
        { cause: error },
      );
    const queue = new Queue<JobData, number>(name, {
      connection,
      prefix: QUEUE_PREFIX,
      streams: { events: { maxLen: EVENTS_KEPT } },
      defaultJobOptions: { attempts: ATTEMPTS, backoff: BACKOFF, removeOnComplete: true, removeOnFail: FAILED_KEPT },
    });
    // An EventEmitter's unhandled "error" would crash the process; ioredis reconnects on its own.
    queue.on("error", onError);
    // The queue's own connection first: a QueueEvents that never connected does not close (BullMQ 6.7).
    try {
      await within(queue.waitUntilReady(), options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    } catch (error) {
      await queue.close().catch(() => {});
      throw unavailable(error);
    }
    // Read results from a little before now, not from "the next event after the first read": that
    // read starts a round trip after `waitUntilReady`, and a completion must not slip through in
    // between. Stream ids are Redis's clock in ms; the margin covers clock skew between machines.
    const events = new QueueEvents(name, { connection, prefix: QUEUE_PREFIX, lastEventId: `${Date.now() - 10_000}-0` });
    events.on("error", onError);
    const payloads = Payloads.open(options.redisUrl, payloadPrefix(name), onError);
    try {
      await within(events.waitUntilReady(), options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    } catch (error) {
      // Redis went away in the last milliseconds: don't wait for closes that may never finish.
      void Promise.allSettled([events.close(), queue.close(), payloads.close()]);
      throw unavailable(error);
    }
    return new QueuedAnalyzer(name, redis, queue, events, payloads, options.limits, { ...DEFAULT_BATCH, ...options.batch });
  }

  /** Embedding workers connected to this queue now. */
  workerCount(): Promise<number> {
    return this.queue.getWorkersCount();
  }

  /** Where the queue is, for logs: `redis://host:port (queue name)`, without a password. */
  describe(): string {
    return `${this.redis} (queue ${this.name})`;
  }

  async analyze(input: Buffer | string, options: AnalyzeOptions = {}): Promise<AnalyzedImage> {
    const { signal, ...rest } = options;
    throwIfAborted(signal);
    // The byte cap is checked (and a path read) here: only an image's bytes travel.
    const bytes = await readImageBytes(input, this.limits?.maxBytes);
    throwIfAborted(signal);
    const context: Record<string, unknown> = { ...(typeof input === "string" ? { file: input } : {}), queue: this.name };
    const outcome = await this.submit({ bytes, options: rest, limits: this.limits }, context, signal);
    if ("refused" in outcome) throw errorOf(outcome.refused, context);
    if ("failed" in outcome) {
      throw new LookalikeError("queue_unavailable", `The embedding workers could not analyse the image: ${outcome.failed}`, context);
    }
    return outcome.image;
  }

  /**
   * Stops listening. Analyses still waiting are rejected as `aborted`, and their jobs and bytes are
   * taken back from Redis (a job a worker already started fails there, finding its bytes gone).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweeper);
      for (const item of this.batcher.drain()) item.reject(closedError(item.context));
      const abandoned = [...this.jobs.keys()];
      for (const jobId of abandoned) this.fail(jobId, closedError);
      await Promise.allSettled(abandoned.flatMap((jobId) => [this.queue.remove(jobId), this.payloads.forget(jobId)]));
      await Promise.allSettled([this.events.close(), this.queue.close(), this.payloads.close()]);
    })();
    return this.closing;
  }

  /** Hands the image to the batcher (urgent: in a job of its own, ahead of the queue) and waits for its answer. */
  private submit(request: AnalyzeRequest, context: Record<string, unknown>, signal: AbortSignal | undefined): Promise<AnalyzeOutcome> {
    return new Promise<AnalyzeOutcome>((resolve, reject) => {
      if (this.closing !== undefined) {
        reject(closedError(context));
        return;
      }
      const onAbort = () => {
        if (item.settled) return;
        item.reject(new LookalikeError("aborted", "The operation was cancelled.", context, { cause: signal?.reason }));
        if (!this.batcher.withdraw(item)) this.dropIfAbandoned(item.jobId);
      };
      const settle = () => {
        item.settled = true;
        signal?.removeEventListener("abort", onAbort);
      };
      const item: Pending = {
        request,
        bytes: request.bytes.length,
        context,
        settled: false,
        resolve: (outcome) => {
          if (item.settled) return;
          settle();
          resolve(outcome);
        },
        reject: (error) => {
          if (item.settled) return;
          settle();
          reject(error);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (request.options.urgent) this.batcher.sendAlone(item);
      else this.batcher.add(item);
    });
  }

  /** Puts the images' bytes beside a new job and adds the job. */
  private async send(items: readonly Pending[]): Promise<void> {
    const jobId = randomUUID();
    // Registered before the job is added, so no completion can go unseen.
    this.jobs.set(jobId, { items, missing: 0 });
    for (const item of items) {
      item.jobId = jobId;
      item.context.jobId = jobId;
    }
    try {
      await this.payloads.putRequest(jobId, encode(items.map((item) => item.request)));
      const data: JobData = { images: items.length, bytes: items.reduce((sum, item) => sum + item.bytes, 0) };
      // `lifo`: someone is waiting for this one, so it goes ahead of the queued background images.
      await this.queue.add("analyze", data, { jobId, lifo: items.some((item) => item.request.options.urgent) });
    } catch (error) {
      this.fail(
        jobId,
        (context) =>
          new LookalikeError("queue_unavailable", `Cannot queue the image: ${(error as Error).message}`, context, { cause: error }),
      );
    }
  }

  /** The job's results are in Redis: each image gets its own outcome. */
  private async complete(jobId: string): Promise<void> {
    const job = this.take(jobId);
    if (!job) return; // another producer's job, or one already settled
    const unavailable = (message: string, cause?: unknown) => {
      for (const item of job.items) item.reject(new LookalikeError("queue_unavailable", message, item.context, { cause }));
    };
    let result: Buffer | null;
    try {
      result = await this.payloads.takeResult(jobId);
    } catch (error) {
      unavailable(`Cannot read the image's result: ${(error as Error).message}`, error);
      return;
    }
    if (!result) {
      unavailable("The image's result is missing from Redis (expired or flushed).");
      return;
    }
    let outcomes: JobResult;
    try {
      outcomes = decode<JobResult>(result);
    } catch (error) {
      // Nothing may escape: this runs from an event listener, where a throw would be unhandled.
      unavailable(`Unreadable result: ${(error as Error).message}`, error);
      return;
    }
    if (outcomes.length !== job.items.length) {
      unavailable(`The job's result holds ${outcomes.length} answers for ${job.items.length} images.`);
      return;
    }
    job.items.forEach((item, i) => item.resolve(outcomes[i]!));
  }

  /** Fails every image of the job still waiting, each with its own context. */
  private fail(jobId: string, error: (context: Record<string, unknown>) => Error): void {
    for (const item of this.take(jobId)?.items ?? []) item.reject(error(item.context));
  }

  /** Stops tracking the job; the batcher may send the next one. */
  private take(jobId: string): SentJob | undefined {
    const job = this.jobs.get(jobId);
    if (!job) return undefined;
    this.jobs.delete(jobId);
    this.batcher.answered();
    return job;
  }

  /** Nobody waits for any image of the job any more: take it back if no worker has started it. */
  private dropIfAbandoned(jobId: string | undefined): void {
    const job = jobId === undefined ? undefined : this.jobs.get(jobId);
    if (!jobId || !job?.items.every((item) => item.settled)) return;
    this.take(jobId);
    this.queue.remove(jobId).catch(() => {});
    this.payloads.forget(jobId).catch(() => {});
  }

  private async sweep(): Promise<void> {
    if (this.sweeping) return; // a slow Redis: the previous sweep is still asking
    this.sweeping = true;
    try {
      await this.sweepOnce();
    } finally {
      this.sweeping = false;
    }
  }

  private async sweepOnce(): Promise<void> {
    for (const [jobId, job] of this.jobs) {
      const state = await this.queue.getJobState(jobId).catch(() => undefined);
      job.missing = state === "unknown" ? job.missing + 1 : 0;
      if (job.missing >= 2) {
        this.fail(
          jobId,
          (context) =>
            new LookalikeError(
              "queue_unavailable",
              "The image's job disappeared from the queue (was Redis restarted or flushed?).",
              context,
            ),
        );
      }
    }
  }
}

/** Resolves with `work`, or rejects after `ms` (ioredis would keep retrying a connection for ever). */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
