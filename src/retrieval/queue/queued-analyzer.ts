/**
 * The producer side of the embedding queue: an `ImageAnalyzer` that sends each image's bytes to
 * the embedding workers (`npm run worker`, on any machine) through a BullMQ queue on Redis and
 * waits for the result, which the caller then writes itself (idempotently: upserts by id).
 *
 * The image's bytes and its result travel as binary values beside the job (payloads.ts); a job's
 * "completed" event, read from one QueueEvents stream shared by every analysis in flight, says
 * its result is there. A waiter is registered under a job id chosen here *before* the job is
 * added, so no completion can go unseen. Bad images come back as results (a refusal, rethrown here as the same typed
 * LookalikeError as in-process) and are never retried; any other failure is retried by BullMQ a
 * few times, on any worker, and then reported. A job whose worker dies (SIGKILL, a lost machine)
 * stalls, and BullMQ hands it to another worker once its lock expires (settings.ts).
 */
import { randomUUID } from "node:crypto";
import { Queue, QueueEvents } from "bullmq";
import type { ImageAnalyzer } from "../analyzer.ts";
import type { AnalyzedImage, AnalyzeOptions } from "../engine.ts";
import { LookalikeError, throwIfAborted } from "../errors.ts";
import { type ImageLimits, readImageBytes } from "../image.ts";
import type { VectorSpace } from "../store/schema.ts";
import { redactRedisUrl, redisConnection } from "./connection.ts";
import { Payloads } from "./payloads.ts";
import { type AnalyzeOutcome, decode, encode, errorOf, type JobData, payloadPrefix, QUEUE_PREFIX, queueName } from "./protocol.ts";

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

interface Waiter {
  /** The job completed: its result is in the payload store. */
  resolve(): void;
  reject(error: unknown): void;
  /** Sweeps that found the job gone from the queue while it was still awaited. */
  missing: number;
}

export class QueuedAnalyzer implements ImageAnalyzer {
  private readonly waiters = new Map<string, Waiter>();
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
  ) {
    events.on("completed", ({ jobId }) => this.settle(jobId, (waiter) => waiter.resolve()));
    events.on("failed", ({ jobId, failedReason }) =>
      this.settle(jobId, (waiter) =>
        waiter.reject(
          new LookalikeError("queue_unavailable", `The embedding workers could not analyse the image: ${failedReason}`, {
            queue: name,
            jobId,
          }),
        ),
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
    return new QueuedAnalyzer(name, redis, queue, events, payloads, options.limits);
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
    const jobId = randomUUID();
    const context = { ...(typeof input === "string" ? { file: input } : {}), queue: this.name, jobId };
    const completed = this.waitFor(jobId, signal, context);
    // It may be rejected (an abort, `close`) while the job is still being added: handled below, not "unhandled".
    completed.catch(() => {});
    try {
      await this.payloads.putRequest(jobId, encode({ bytes, options: rest, limits: this.limits }));
      // `lifo`: someone is waiting for this one, so it goes ahead of the queued background images.
      await this.queue.add("analyze", { bytes: bytes.length }, { jobId, lifo: rest.urgent });
    } catch (error) {
      this.settle(jobId, (waiter) =>
        waiter.reject(
          new LookalikeError("queue_unavailable", `Cannot queue the image: ${(error as Error).message}`, context, { cause: error }),
        ),
      );
    }
    try {
      await completed;
    } catch (error) {
      this.payloads.forget(jobId).catch(() => {});
      throw error;
    }
    const result = await this.payloads.takeResult(jobId).catch((error: unknown) => {
      throw new LookalikeError("queue_unavailable", `Cannot read the image's result: ${(error as Error).message}`, context, {
        cause: error,
      });
    });
    if (!result) throw new LookalikeError("queue_unavailable", "The image's result is missing from Redis (expired or flushed).", context);
    const outcome = decode<AnalyzeOutcome>(result);
    if ("refused" in outcome) throw errorOf(outcome.refused, context);
    return outcome.image;
  }

  /**
   * Stops listening. Analyses still waiting are rejected as `aborted`, and their jobs and bytes are
   * taken back from Redis (a job a worker already started fails there, finding its bytes gone).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweeper);
      const abandoned = [...this.waiters.keys()];
      for (const jobId of abandoned) {
        this.settle(jobId, (waiter) => waiter.reject(new LookalikeError("aborted", "The embedding queue was closed.", { jobId })));
      }
      await Promise.allSettled(abandoned.flatMap((jobId) => [this.queue.remove(jobId), this.payloads.forget(jobId)]));
      await Promise.allSettled([this.events.close(), this.queue.close(), this.payloads.close()]);
    })();
    return this.closing;
  }

  private waitFor(jobId: string, signal: AbortSignal | undefined, context: Record<string, unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closing !== undefined) {
        reject(new LookalikeError("aborted", "The embedding queue was closed.", context));
        return;
      }
      const onAbort = () =>
        this.settle(jobId, (waiter) => {
          // Nobody wants the result any more: take the job back if no worker has started it.
          this.queue.remove(jobId).catch(() => {});
          waiter.reject(new LookalikeError("aborted", "The operation was cancelled.", context, { cause: signal?.reason }));
        });
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => signal?.removeEventListener("abort", onAbort);
      this.waiters.set(jobId, {
        resolve: () => {
          done();
          resolve();
        },
        reject: (error) => {
          done();
          reject(error);
        },
        missing: 0,
      });
    });
  }

  private settle(jobId: string, outcome: (waiter: Waiter) => void): void {
    const waiter = this.waiters.get(jobId);
    if (!waiter) return; // another producer's job, or one already settled
    this.waiters.delete(jobId);
    outcome(waiter);
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
    for (const [jobId, waiter] of this.waiters) {
      const state = await this.queue.getJobState(jobId).catch(() => undefined);
      waiter.missing = state === "unknown" ? waiter.missing + 1 : 0;
      if (waiter.missing >= 2) {
        this.settle(jobId, (w) =>
          w.reject(
            new LookalikeError("queue_unavailable", "The image's job disappeared from the queue (was Redis restarted or flushed?).", {
              queue: this.name,
              jobId,
            }),
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
