/**
 * `npm run worker`: an embedding worker. It takes image jobs from the Redis queue named by
 * `LOOKALIKE_REDIS_URL` (the bot's background images, `lookalike index`), analyses them with the
 * model, and sends the results back to whoever queued them. It opens the model and Redis only,
 * never the database, so it runs on any machine that reaches Redis; start several where the cores
 * allow (`LOOKALIKE_WORKER_THREADS` splits them). SIGTERM or SIGINT: finish the jobs in hand, then
 * exit; a worker killed outright leaves its jobs to be retried by the others (README, "Embedding
 * workers"). Logs are JSON lines (pino) on stdout, like the bot's.
 */

import { loadConfigOrReport } from "./bot/config.ts";
import { createLogger } from "./bot/logger.ts";
import { LocalAnalyzer, vectorSpace } from "./retrieval/analyzer.ts";
import { redactRedisUrl } from "./retrieval/queue/connection.ts";
import { EmbeddingWorker } from "./retrieval/queue/embedding-worker.ts";

async function main(): Promise<number> {
  const config = loadConfigOrReport();
  if (!config) return 2;
  const { redisUrl, worker: settings } = config.queue;
  if (!redisUrl) {
    process.stderr.write(
      'LOOKALIKE_REDIS_URL is not set: an embedding worker needs the Redis its jobs come from (README, "Embedding workers").\n',
    );
    return 2;
  }
  const logger = createLogger(config.logLevel).child({ role: "embedding-worker", pid: process.pid });
  const analyzer = await LocalAnalyzer.open({
    modelsDir: config.modelsDir,
    modelId: config.modelId,
    threads: settings.threads,
    onDownloadProgress: ({ receivedBytes, totalBytes }) => logger.info({ receivedBytes, totalBytes }, "downloading the model"),
  });
  // The bot's vector space (its model, the default pooling): the queue the bot's images go to.
  const space = vectorSpace({ modelId: config.modelId });
  logger.info({ redis: redactRedisUrl(redisUrl) }, "connecting to Redis");
  const worker = await EmbeddingWorker.start({
    redisUrl,
    analyzer,
    space,
    concurrency: settings.concurrency,
    lockDurationMs: settings.lockDurationMs,
    onJob: ({ jobId, ms, outcome, error }) => {
      if (error) logger.warn({ jobId, err: error }, "job failed");
      // An image the model failed on, on the job's last try: its caller is told; worth a look.
      else if (outcome === "failed") logger.warn({ jobId, outcome }, "image done");
      else logger.debug({ jobId, ms: Math.round(ms * 100) / 100, outcome }, "image done");
    },
    onError: (error) => logger.warn({ err: error }, "queue trouble"),
  }).catch(async (error: unknown) => {
    await analyzer.close();
    throw error;
  });
  logger.info({ redis: redactRedisUrl(redisUrl), queue: worker.queue, concurrency: settings.concurrency }, "embedding worker ready");

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "finishing the jobs in hand, then exiting");
    worker
      .close()
      .then(() => analyzer.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "unclean shutdown");
          process.exit(1);
        },
      );
  };
  process.once("SIGINT", stop).once("SIGTERM", stop);
  return -1; // keep running
}

const code = await main().catch((error: unknown) => {
  process.stderr.write(`lookalike worker: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
// A worker that could not start exits at once (a half-open Redis connection would keep it alive).
if (code >= 0) process.exit(code);
