/**
 * A job's payloads, kept in Redis beside the job as binary values: the request (the image's bytes
 * and how to analyse it) under `…:payloads:request:<jobId>`, the result under `…:payloads:result:<jobId>`.
 *
 * Why not in the job itself: BullMQ keeps a job's data and return value as JSON, so bytes would
 * travel as base64 through JSON, string conversions and Lua, and every result would also ride in
 * the queue's event stream, which every producer (every bot shard, every `lookalike index`) reads
 * whole. Measured here, a 190 KB JSON job cost the producer ~4.6 ms of CPU to add against ~1 ms
 * for a binary SET (bench/queue, loaded machine). So the job carries only its id; the bytes travel
 * once each way, unencoded, and only to the process that needs them.
 *
 * Lifetimes: the producer deletes both once it has its answer (or gives up); the TTLs only clean
 * up after a producer that died. A request outlives any sensible wait for a worker; a result is
 * fetched within milliseconds of its job's "completed" event.
 */
import { Redis } from "ioredis";

const REQUEST_TTL_SECONDS = 24 * 3600;
const RESULT_TTL_SECONDS = 3600;

export class Payloads {
  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** `prefix`: the queue's key prefix (`lookalike:<queue>`), so the payloads sit with its keys. */
  static open(url: string, prefix: string, onError: (error: Error) => void): Payloads {
    const redis = new Redis(url, { lazyConnect: false });
    // Without a listener an "error" event would crash the process; ioredis reconnects by itself.
    redis.on("error", onError);
    return new Payloads(redis, prefix);
  }

  async putRequest(jobId: string, value: Buffer): Promise<void> {
    await this.redis.set(this.key("request", jobId), value, "EX", REQUEST_TTL_SECONDS);
  }

  /** The request, left in place for a retry on another worker; null once its producer gave up. */
  getRequest(jobId: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.key("request", jobId));
  }

  async putResult(jobId: string, value: Buffer): Promise<void> {
    await this.redis.set(this.key("result", jobId), value, "EX", RESULT_TTL_SECONDS);
  }

  /** The result, removed as it is read (with the request it answers). */
  async takeResult(jobId: string): Promise<Buffer | null> {
    const [result] = await Promise.all([this.redis.getdelBuffer(this.key("result", jobId)), this.redis.del(this.key("request", jobId))]);
    return result;
  }

  /** Drops both payloads of a job nobody waits for any more. */
  async forget(jobId: string): Promise<void> {
    await this.redis.del(this.key("request", jobId), this.key("result", jobId));
  }

  async close(): Promise<void> {
    // QUIT waits for the replies still due; a connection that is not up would only retry for ever.
    if (this.redis.status === "ready") await this.redis.quit().catch(() => this.redis.disconnect());
    else this.redis.disconnect();
  }

  private key(kind: "request" | "result", jobId: string): string {
    return `${this.prefix}:payloads:${kind}:${jobId}`;
  }
}
