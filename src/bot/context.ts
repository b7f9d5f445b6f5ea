/**
 * The bot's services, built once by the composition root (app.ts): what its event handlers use,
 * and what the end-to-end tests inspect (RunningBot.context). Commands never see this: they get
 * the narrower CommandServices (command-services.ts), which app.ts builds from it.
 */
import type { Client } from "discord.js";
import type { Logger } from "pino";
import type { LookalikeEngine } from "../retrieval/engine.ts";
import type { AttachmentFetcher } from "./attachment-fetcher.ts";
import type { BotConfig } from "./config.ts";
import type { GuildStateStore } from "./guild-state.ts";
import type { BotMetrics } from "./metrics.ts";
import type { BackfillService } from "./services/backfill.ts";
import type { ChannelSync } from "./services/channel-sync.ts";
import type { GuildIndex } from "./services/guild-index.ts";
import type { ImagePipeline } from "./services/image-pipeline.ts";
import type { MessageIndexer } from "./services/message-indexer.ts";
import type { RepostAlerts } from "./services/repost-alerts.ts";

export interface BotContext {
  readonly config: BotConfig;
  readonly logger: Logger;
  readonly client: Client;
  /** Searches only: every write and delete goes through `index`. */
  readonly engine: LookalikeEngine;
  readonly fetcher: AttachmentFetcher;
  readonly pipeline: ImagePipeline;
  readonly indexer: MessageIndexer;
  /** The one write path to each server's index. */
  readonly index: GuildIndex;
  readonly sync: ChannelSync;
  readonly alerts: RepostAlerts;
  readonly state: GuildStateStore;
  readonly backfill: BackfillService;
  readonly metrics: BotMetrics;
}
