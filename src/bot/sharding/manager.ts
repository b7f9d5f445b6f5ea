/**
 * The shard manager: what `npm start` runs when sharding is on (`LOOKALIKE_SHARDS`, or
 * `LOOKALIKE_SHARD_COUNT` with `LOOKALIKE_SHARD_IDS`). It asks Discord (`GET /gateway/bot`) for the
 * recommended shard count and `max_concurrency`, imports old per-server state files once, then
 * starts one process per shard with discord.js's ShardingManager — `npm start`'s own entry point,
 * which runs as that shard (discord.js tells it which through its environment). Every shard's
 * identify waits for the manager's throttler (identify-queue.ts), so all shards start at once and
 * Discord's session-start pacing still holds. A shard that exits before it comes online stops them
 * all (it would only fail again; its output says why); one that exits later is started again.
 */
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { REST, type RESTGetAPIGatewayBotResult, Routes, type Shard, ShardingManager, SimpleIdentifyThrottler } from "discord.js";
import type { Logger } from "pino";
import type { BotConfig } from "../config.ts";
import { GuildStateStore } from "../guild-state.ts";
import { IDENTIFY_QUEUE_ENV, serveIdentifies } from "./identify-queue.ts";
import type { ShardingPlan } from "./settings.ts";

/** The script each shard process runs: `npm start`'s entry point. */
const SHARD_ENTRY = fileURLToPath(new URL("../main.ts", import.meta.url));
/** A shard asked to stop gets this long to finish its writes before it is killed. */
const STOP_TIMEOUT_MS = 30_000;

export interface RunningShards {
  readonly totalShards: number;
  readonly shardIds: readonly number[];
  /** Stops every shard (each finishes its writes) and starts none again. */
  stop(): Promise<void>;
}

export type ManagerConfig = BotConfig & { readonly token: string; readonly sharding: ShardingPlan };

/** Starts this machine's shards and resolves once every one is online. */
export async function startShards(config: ManagerConfig, logger: Logger): Promise<RunningShards> {
  const gateway = await gatewayInformation(config);
  const { max_concurrency: maxConcurrency, remaining } = gateway.session_start_limit;
  const totalShards = config.sharding.totalShards === "auto" ? gateway.shards : config.sharding.totalShards;
  const shardIds = config.sharding.shardIds ?? Array.from({ length: totalShards }, (_, id) => id);
  if (remaining < shardIds.length) {
    logger.warn({ remaining, shards: shardIds.length }, "Discord allows fewer session starts today than there are shards to start");
  }
  // Once, before any shard opens the database: old state files, and the state table itself.
  await (await GuildStateStore.open(config.db, { legacyDir: config.guildStateDir, logger })).close();

  // Each shard's environment is a copy of this process's, taken when the manager creates it.
  process.env[IDENTIFY_QUEUE_ENV] = "ipc";
  const manager = new ShardingManager(SHARD_ENTRY, {
    totalShards,
    shardList: [...shardIds],
    mode: "process",
    // Not until every shard is online: one that fails at start would fail again, forever.
    respawn: false,
    token: config.token,
    // The shards run the TypeScript entry point the way this process does (`--import tsx`).
    execArgv: process.execArgv,
  });
  const throttler = new SimpleIdentifyThrottler(maxConcurrency);
  const online: Promise<void>[] = [];
  manager.on("shardCreate", (shard) => {
    serveIdentifies(shard, throttler);
    watch(shard, manager, logger);
    online.push(comesOnline(shard));
  });
  logger.info({ totalShards, shardIds, maxConcurrency }, `starting ${shardIds.length} of ${totalShards} shards`);
  const stop = () => stopShards(manager);
  try {
    // All at once: the throttler, not a fixed delay, spaces their identifies.
    await manager.spawn({ amount: totalShards, delay: 0, timeout: -1 });
    await Promise.all(online);
  } catch (error) {
    await stop();
    throw error;
  }
  manager.respawn = true;
  logger.info({ totalShards, shardIds }, "every shard is online");
  return { totalShards, shardIds, stop };
}

/** `GET /gateway/bot` through the configured REST base (discord.js's own helper asks discord.com only). */
async function gatewayInformation(config: ManagerConfig): Promise<RESTGetAPIGatewayBotResult> {
  const rest = new REST(config.apiUrl ? { api: config.apiUrl } : {}).setToken(config.token);
  return (await rest.get(Routes.gatewayBot())) as RESTGetAPIGatewayBotResult;
}

function comesOnline(shard: Shard): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReady = () => {
      shard.off("death", onDeath);
      resolve();
    };
    const onDeath = () => {
      shard.off("ready", onReady);
      reject(new Error(`shard ${shard.id} exited before it came online (its output above says why)`));
    };
    shard.once("ready", onReady);
    shard.once("death", onDeath);
  });
}

function watch(shard: Shard, manager: ShardingManager, logger: Logger): void {
  const log = logger.child({ shard: shard.id, shardCount: manager.totalShards });
  shard.on("ready", () => log.info("shard is online"));
  shard.on("death", (child) => {
    const exit = "exitCode" in child ? { exitCode: child.exitCode, signal: child.signalCode } : {};
    if (manager.respawn) log.warn(exit, "shard exited; starting it again");
    else log.info(exit, "shard exited");
  });
  // Emitted when a restart fails; unhandled, it would end the manager and every shard with it.
  shard.on("error", (error) => log.error({ err: error }, "could not start the shard again"));
}

/** SIGTERM to every shard process (each stops cleanly), SIGKILL to any still running after STOP_TIMEOUT_MS. */
async function stopShards(manager: ShardingManager): Promise<void> {
  manager.respawn = false;
  await Promise.all(
    manager.shards.map(async (shard) => {
      const child = shard.process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }),
  );
}
