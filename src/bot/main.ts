/**
 * `npm start`: runs the bot when DISCORD_TOKEN is set; otherwise explains how to set it and shows
 * what Lookalike does with the offline demo (src/demo.ts, which needs neither Discord nor the CLI).
 * With sharding on (`LOOKALIKE_SHARDS`, …) this process is the shard manager
 * (sharding/manager.ts), which starts this same entry point once per shard; those processes run
 * the bot as their shard.
 */
import type { Logger } from "pino";
import { type BotConfig, loadConfigOrReport } from "./config.ts";
import { createLogger } from "./logger.ts";
import type { ShardingPlan } from "./sharding/settings.ts";

type Runnable = BotConfig & { token: string };

async function main(): Promise<number> {
  const config = loadConfigOrReport();
  if (!config) return 2;
  if (!config.token) {
    process.stderr.write(
      "DISCORD_TOKEN is not set, so the bot is not started. To run it, create a bot in the Discord developer\n" +
        'portal and start it with DISCORD_TOKEN=... npm start (README.md, "Running the bot").\n' +
        "Meanwhile, here is the offline demo of what it does:\n\n",
    );
    const { runDemo } = await import("../demo.ts");
    return runDemo();
  }
  const { sharding } = config;
  if (sharding && !config.shard) return runShardManager({ ...config, token: config.token, sharding });
  return runBot({ ...config, token: config.token });
}

/** One process: the whole bot (no shards), or the shard the manager started this process as. */
async function runBot(config: Runnable): Promise<number> {
  const { shard } = config;
  const logger = shard ? createLogger(config.logLevel).child({ shard: shard.id, shardCount: shard.count }) : createLogger(config.logLevel);
  // Loaded only here, so the demo never loads discord.js.
  const { startBot } = await import("./app.ts");
  const bot = await startBot(config, logger);
  const stop = stopOnce(logger, () => bot.stop());
  process.once("SIGINT", stop).once("SIGTERM", stop);
  // A shard whose manager is gone stops too: a manager started again starts this shard again, and
  // two processes must never serve (and write) the same servers.
  if (shard) process.once("disconnect", () => stop("the shard manager is gone"));
  return -1; // keep running
}

async function runShardManager(config: Runnable & { sharding: ShardingPlan }): Promise<number> {
  const logger = createLogger(config.logLevel).child({ shardManager: true });
  const { startShards } = await import("./sharding/manager.ts");
  try {
    const shards = await startShards(config, logger);
    const stop = stopOnce(logger, () => shards.stop());
    process.once("SIGINT", stop).once("SIGTERM", stop);
    return -1;
  } catch (error) {
    logger.error({ err: error }, "could not start the shards");
    return 1;
  }
}

/** A shutdown that runs once, whichever of the signals (or reasons) comes first and however many follow. */
function stopOnce(logger: Logger, stop: () => Promise<void>): (reason: string) => void {
  let stopping = false;
  return (reason) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: reason }, "shutting down");
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "unclean shutdown");
        process.exit(1);
      },
    );
  };
}

const code = await main();
if (code >= 0) process.exitCode = code;
