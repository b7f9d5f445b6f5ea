/**
 * The composition root: config → logger → engine → services → client, then the commands: the
 * services they may use (command-services.ts) built from the bot's, and the command registry
 * handed to the interaction dispatcher. `npm start` (main.ts) and the end-to-end tests both start
 * the bot through `startBot`; everything is wired here and only here, and only those entry points
 * import this module.
 */
import { type Client, Events, Status } from "discord.js";
import type { Logger } from "pino";
import { commandRegistry } from "../commands/registry.ts";
import { LookalikeEngine } from "../retrieval/engine.ts";
import { AttachmentFetcher } from "./attachment-fetcher.ts";
import { createClient } from "./client.ts";
import type { CommandServices } from "./command-services.ts";
import type { BotConfig } from "./config.ts";
import type { BotContext } from "./context.ts";
import { openEmbeddingQueue } from "./embedding-queue.ts";
import { reportToUser } from "./errors.ts";
import { createDispatcher } from "./events/interaction-create.ts";
import { registerEvents } from "./events/register.ts";
import { GuildStateStore } from "./guild-state.ts";
import { createLogger } from "./logger.ts";
import { attachmentRef, imagesInMessage } from "./message-images.ts";
import { BotMetrics } from "./metrics.ts";
import { healthReport, startMetricsServer } from "./metrics-server.ts";
import { askerOf } from "./permissions.ts";
import { InteractionProgressSink } from "./services/backfill/interaction-sink.ts";
import { renderProgress } from "./services/backfill/progress.ts";
import { canRead } from "./services/backfill/targets.ts";
import { BackfillService } from "./services/backfill.ts";
import { ChannelSync } from "./services/channel-sync.ts";
import { GuildIndex } from "./services/guild-index.ts";
import { ImagePipeline } from "./services/image-pipeline.ts";
import { LiveCheckpoints } from "./services/live-checkpoints.ts";
import { MessageIndexer } from "./services/message-indexer.ts";
import { RepostAlerts } from "./services/repost-alerts.ts";
import { shardClientOptions } from "./sharding/shard-client.ts";
import { GuildWriteGuard } from "./sharding/write-guard.ts";
import { buildSimilarReply } from "./similar-reply.ts";
import { WorkQueue } from "./work-queue.ts";

export interface RunningBot {
  readonly context: BotContext;
  stop(): Promise<void>;
}

/** Background images in progress at once (downloads overlap; the CPU part has its own limit). */
const BACKGROUND_CONCURRENCY = 8;
/**
 * Background images decoding, embedding and being checked at once. The model already uses every
 * core; two keep it busy while one decodes, and leave the CPU to searches during a flood
 * (`npm run bench -- --only flood`: /similar p95 under a 300-image flood fell from ~1 s at 8 to
 * ~0.35 s at 2, for the same indexing rate). Checked again with the regions (three floods in a row
 * on 2 cores): 2 / 3 / 4 slots drained at 2.32 / 2.44 / 2.40 images/s, /similar p95 1.2 / 1.6 /
 * 2.0 s; the bot already used 1.8 cores at 2.
 */
const BACKGROUND_COMPUTE_CONCURRENCY = 2;
/** `/similar` and the context menu: their own slots, never behind indexing. */
const INTERACTIVE_CONCURRENCY = 4;
const INTERACTIVE_LIMIT = 64;

export async function startBot(config: BotConfig & { token: string }, logger: Logger = createLogger(config.logLevel)): Promise<RunningBot> {
  let client: Client | undefined;
  let sync: ChannelSync | undefined;
  const lanes = {
    interactive: new WorkQueue(INTERACTIVE_CONCURRENCY, INTERACTIVE_LIMIT),
    background: new WorkQueue(BACKGROUND_CONCURRENCY, config.queueLimit),
    // Bounded by the background lane itself; no limit of its own. With embedding workers (Redis) the
    // model's CPU is theirs, and a slot here mostly waits for a result: the lane's bound is enough.
    backgroundCompute: new WorkQueue(
      config.queue.redisUrl ? BACKGROUND_CONCURRENCY : BACKGROUND_COMPUTE_CONCURRENCY,
      Number.MAX_SAFE_INTEGER,
    ),
  };
  const metrics = new BotMetrics({
    queueDepths: () => ({ interactive: lanes.interactive.depth, background: lanes.background.depth }),
    catchUpBacklog: () => sync?.backlog ?? 0,
    gatewayConnected: () => client?.ws.status === Status.Ready,
  });
  // Only the shard that owns a server writes its index and state (null: no shards, every server).
  const guard = new GuildWriteGuard(config.shard, logger);
  // Servers' settings and checkpoints, in the same database as the images; state files from before
  // the database are imported here, once (by the shard manager, before it starts the shards).
  const state = await GuildStateStore.open(config.db, { legacyDir: config.shard ? undefined : config.guildStateDir, logger, guard });
  const engine = await LookalikeEngine.open({
    db: config.db,
    modelsDir: config.modelsDir,
    modelId: config.modelId,
    limits: { maxBytes: config.maxImageBytes },
    onDownloadProgress: ({ receivedBytes, totalBytes }) => logger.info({ receivedBytes, totalBytes }, "downloading the model"),
    onModelBatch: (seconds, images) => metrics.observeModel(seconds, images),
  }).catch(async (error: unknown) => {
    await state.close();
    throw error;
  });
  const embeddingQueue = await openEmbeddingQueue(config, engine, logger).catch(async (error: unknown) => {
    await engine.close();
    await state.close();
    throw error;
  });
  client = createClient(config, shardClientOptions(config.shard));
  const fetcher = new AttachmentFetcher({
    maxBytes: config.maxImageBytes,
    extraHosts: config.apiUrl ? [new URL(config.apiUrl).host] : [],
    externalProxyHosts: config.externalMediaHosts,
  });
  const pipeline = new ImagePipeline(engine, fetcher, lanes, embeddingQueue);
  const index = new GuildIndex(engine, state, logger, { guard });
  const indexer = new MessageIndexer(pipeline, index, state, metrics, logger);
  const alerts = new RepostAlerts(logger);
  const checkpoints = new LiveCheckpoints(state, logger);
  sync = new ChannelSync({ client, indexer, index, checkpoints, state, alerts, metrics, logger });
  const backfill = new BackfillService({ client, indexer, state, logger, index });
  const context: BotContext = { config, logger, client, engine, fetcher, pipeline, indexer, index, sync, alerts, state, backfill, metrics };
  // Before the handlers, which read the server's state: a server that becomes available may have
  // been written by another process since it was cached (its owner before a restart with another shard count).
  client.on(Events.GuildAvailable, (guild) => index.serverAvailable(guild.id));
  client.on(Events.GuildCreate, (guild) => index.serverAvailable(guild.id));
  registerEvents(context, createDispatcher({ registry: commandRegistry, services: commandServices(context), logger, metrics }));

  const metricsServer = config.metricsPort
    ? await startMetricsServer({
        // One port per shard process on a machine: the setting is shard 0's.
        port: config.metricsPort + (config.shard?.id ?? 0),
        metrics,
        health: () => healthReport(client.ws.status === Status.Ready, lanes.background.depth, config.queueLimit),
      })
    : undefined;
  const statsTimer = setInterval(() => logger.info({ queues: pipeline.depths, catchUpBacklog: sync.backlog }, "work queues"), 60_000);
  statsTimer.unref();
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  const closeAll = async () => {
    clearInterval(statsTimer);
    await backfill.stopAll();
    await sync.stop();
    await client.destroy();
    index.close();
    await metricsServer?.close();
    await embeddingQueue?.close();
    await engine.close();
    await state.close();
  };
  try {
    await client.login(config.token);
    await ready;
  } catch (error) {
    await closeAll();
    throw error;
  }
  logger.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, "Lookalike is online");
  backfill.resumeAll();

  return { context, stop: closeAll };
}

/** What commands may use of the bot (command-services.ts), from its services. */
function commandServices({ config, logger, engine, pipeline, index, state, backfill, sync, metrics }: BotContext): CommandServices {
  return {
    search: {
      imagesIn: (message) => imagesInMessage(message),
      fromAttachment: (attachment) => attachmentRef(attachment),
      async lookalikes(interaction, ref, { fileName, ...query }) {
        const image = await pipeline.analyzeRef(ref, { lane: "interactive", flipped: true, regions: true });
        return buildSimilarReply(engine, { ...askerOf(interaction), ...query, image }, fileName);
      },
      timeAnswer: (command) => metrics.timeSimilar(command),
    },
    backfill: {
      status: (guildId) => backfill.status(guildId),
      cancel: (guildId) => backfill.cancel(guildId),
      assertIdle: (guildId) => backfill.assertIdle(guildId),
      canRead(channel) {
        const me = channel.guild.members.me;
        return me !== null && canRead(channel, me);
      },
      start: (interaction, channelIds) =>
        backfill.start(interaction.guild, channelIds, new InteractionProgressSink(interaction, logger)).report(),
      describe: (report) => renderProgress(report),
    },
    repostSettings: {
      get: async (guildId) => (await state.get(guildId)).settings,
      update: async (guildId, change) => (await state.update(guildId, (current) => change(current.settings))).settings,
    },
    notReposts: {
      async mark(guildId, imageId, originalId) {
        const marked = await index.markNotARepost(guildId, imageId, originalId);
        if (marked) metrics.notARepostMarked();
        return marked;
      },
    },
    members: {
      forget: (guildId, userId) => index.forgetAuthor(guildId, userId),
      remember: (guildId, userId) => index.rememberAuthor(guildId, userId),
    },
    async stats(guildId) {
      const [stats, guildState, whitening] = await Promise.all([index.stats(guildId), state.get(guildId), engine.whitening(guildId)]);
      const { lastStartedAt, lastFinishedAt } = guildState.backfill;
      const date = (iso: string | null) => (iso ? new Date(iso) : null);
      const { enabled, action, sensitivity } = guildState.settings;
      return {
        images: stats.images,
        channels: stats.channels,
        lastBackfill: { startedAt: date(lastStartedAt), finishedAt: date(lastFinishedAt) },
        backlog: { ...pipeline.depths, limit: config.queueLimit, channelsCatchingUp: sync.backlog },
        model: { id: config.modelId, descriptor: engine.store.space.descriptor },
        repost: { enabled, action, sensitivity },
        whitening: whitening ? { rows: whitening.collectionRows, fittedAt: whitening.fittedAt } : null,
        whiteningMinRows: engine.whiteningMinRows,
        shard: config.shard,
      };
    },
    reportError: (error, details) => reportToUser(error, { logger, metrics }, "image search", details),
  };
}
