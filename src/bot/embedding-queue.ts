/**
 * The bot's side of the embedding queue: with `LOOKALIKE_REDIS_URL` set, background images go to
 * embedding workers (`npm run worker`) through Redis; without it, nothing here runs and the model
 * stays in this process, as it always was.
 */
import type { Logger } from "pino";
import type { LookalikeEngine } from "../retrieval/engine.ts";
import { QueuedAnalyzer } from "../retrieval/queue/queued-analyzer.ts";
import type { BotConfig } from "./config.ts";

/** The queue of the engine's vector space, or undefined without `LOOKALIKE_REDIS_URL`. */
export async function openEmbeddingQueue(config: BotConfig, engine: LookalikeEngine, logger: Logger): Promise<QueuedAnalyzer | undefined> {
  const { redisUrl } = config.queue;
  if (!redisUrl) return undefined;
  const queue = await QueuedAnalyzer.open({
    redisUrl,
    space: engine.store.space,
    limits: { maxBytes: config.maxImageBytes },
    onError: (error) => logger.warn({ err: error }, "embedding queue: Redis trouble"),
  });
  const workers = await queue.workerCount().catch(() => 0);
  logger.info({ queue: queue.describe(), workers }, "background images are embedded by workers through Redis");
  // Not an error: images wait in Redis (and the background lane fills) until a worker starts.
  if (workers === 0) logger.warn({ queue: queue.describe() }, "no embedding worker is connected yet: start one with npm run worker");
  return queue;
}
