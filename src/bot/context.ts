/** Everything a command or event handler may use, built once by the composition root (main.ts). */
import type { Client } from "discord.js";
import type { Logger } from "pino";
import type { LookalikeEngine } from "../retrieval/engine.ts";
import type { AttachmentFetcher } from "./attachment-fetcher.ts";
import type { BotConfig } from "./config.ts";
import type { GuildStateStore } from "./guild-state.ts";
import type { BackfillService } from "./services/backfill.ts";
import type { ImagePipeline } from "./services/image-pipeline.ts";
import type { MessageIndexer } from "./services/message-indexer.ts";
import type { RepostAlerts } from "./services/repost-alerts.ts";

export interface BotContext {
  readonly config: BotConfig;
  readonly logger: Logger;
  readonly client: Client;
  readonly engine: LookalikeEngine;
  readonly fetcher: AttachmentFetcher;
  readonly pipeline: ImagePipeline;
  readonly indexer: MessageIndexer;
  readonly alerts: RepostAlerts;
  readonly state: GuildStateStore;
  readonly backfill: BackfillService;
}
