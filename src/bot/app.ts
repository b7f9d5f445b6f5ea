/**
 * The composition root: config → logger → engine → services → client. `npm start` and the
 * end-to-end tests both start the bot through `startBot`.
 */
import { Events, type Client } from "discord.js";
import type { Logger } from "pino";
import { LookalikeEngine } from "../retrieval/engine.ts";
import { AttachmentFetcher } from "./attachment-fetcher.ts";
import { createClient } from "./client.ts";
import type { BotConfig } from "./config.ts";
import type { BotContext } from "./context.ts";
import { registerEvents } from "./events/register.ts";
import { GuildStateStore } from "./guild-state.ts";
import { createLogger } from "./logger.ts";
import { BackfillService } from "./services/backfill.ts";
import { ImagePipeline } from "./services/image-pipeline.ts";
import { MessageIndexer } from "./services/message-indexer.ts";
import { RepostAlerts } from "./services/repost-alerts.ts";
import { WorkQueue } from "./work-queue.ts";

export interface RunningBot {
  readonly context: BotContext;
  stop(): Promise<void>;
}

/** Images processed at once: enough for full model batches while downloads and decodes overlap. */
const PIPELINE_CONCURRENCY = 16;

export async function startBot(config: BotConfig & { token: string }, logger: Logger = createLogger(config.logLevel)): Promise<RunningBot> {
  const engine = await LookalikeEngine.open({
    dbDir: config.dbDir,
    modelsDir: config.modelsDir,
    modelId: config.modelId,
    limits: { maxBytes: config.maxImageBytes },
    onDownloadProgress: ({ receivedBytes, totalBytes }) =>
      logger.info({ receivedBytes, totalBytes }, "downloading the model"),
  });
  const client: Client = createClient(config);
  const fetcher = new AttachmentFetcher({
    maxBytes: config.maxImageBytes,
    extraHosts: config.apiUrl ? [new URL(config.apiUrl).host] : [],
  });
  const queue = new WorkQueue(PIPELINE_CONCURRENCY, config.queueLimit);
  const pipeline = new ImagePipeline(engine, fetcher, queue);
  const state = new GuildStateStore(config.guildStateDir);
  const indexer = new MessageIndexer(pipeline, state, logger);
  const backfill = new BackfillService({ client, indexer, state, logger, engine });
  const context: BotContext = { config, logger, client, engine, fetcher, pipeline, indexer, alerts: new RepostAlerts(logger), state, backfill };
  registerEvents(context);

  const statsTimer = setInterval(() => logger.info({ queue: pipeline.queueStats }, "work queue"), 60_000);
  statsTimer.unref();
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  try {
    await client.login(config.token);
    await ready;
  } catch (error) {
    await client.destroy();
    await engine.close();
    throw error;
  }
  logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, "Lookalike is online");
  backfill.resumeAll();

  return {
    context,
    async stop() {
      clearInterval(statsTimer);
      await backfill.stopAll();
      await client.destroy();
      await engine.close();
    },
  };
}
