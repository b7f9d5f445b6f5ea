/**
 * `npm start`: runs the bot when DISCORD_TOKEN is set; otherwise explains how to set it and shows
 * what Lookalike does with the offline demo (src/demo.ts, which needs neither Discord nor the CLI).
 */
import { loadConfigOrReport } from "./config.ts";
import { createLogger } from "./logger.ts";

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
  const logger = createLogger(config.logLevel);
  // Loaded only here, so the demo never loads discord.js.
  const { startBot } = await import("./app.ts");
  const bot = await startBot({ ...config, token: config.token }, logger);
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    bot.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "unclean shutdown");
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", shutdown).once("SIGTERM", shutdown);
  return -1; // keep running
}

const code = await main();
if (code >= 0) process.exitCode = code;
