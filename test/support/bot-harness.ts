/**
 * Starts the real bot — the same `startBot` composition root `npm start` uses — against the fake
 * Discord on loopback, with a temp data directory and the real model. `spawnBotProcess` runs
 * `src/bot/main.ts` as a child process instead, for kill-and-restart tests.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { ALLOCATOR_TUNABLES } from "../../src/bot/allocator.ts";
import { type RunningBot, startBot } from "../../src/bot/app.ts";
import { loadConfig } from "../../src/bot/config.ts";
import { FakeDiscord } from "./fake-discord/index.ts";
import { modelsDir } from "./paths.ts";
import { waitUntil } from "./polling.ts";
import { tempDir } from "./temp.ts";

export interface BotEnvironment {
  readonly DISCORD_TOKEN: string;
  readonly DISCORD_API_URL: string;
  readonly DISCORD_EXTERNAL_MEDIA_HOSTS: string;
  readonly LOOKALIKE_DATA_DIR: string;
  readonly LOOKALIKE_MODELS_DIR: string;
  readonly LOG_LEVEL: string;
}

export async function botEnvironment(fake: FakeDiscord, dataDir?: string): Promise<BotEnvironment> {
  return {
    DISCORD_TOKEN: "fake-bot-token",
    DISCORD_API_URL: fake.apiUrl,
    // Images of unfurled links come from the fake's external-media proxy, a host of its own.
    DISCORD_EXTERNAL_MEDIA_HOSTS: fake.externalMediaHost,
    LOOKALIKE_DATA_DIR: dataDir ?? (await tempDir("lookalike-bot-")),
    LOOKALIKE_MODELS_DIR: modelsDir,
    LOG_LEVEL: process.env.LOOKALIKE_TEST_LOG_LEVEL ?? "silent",
  };
}

/** The bot in this process; `stop()` it before `fake.close()`. */
export async function startTestBot(env: BotEnvironment): Promise<RunningBot> {
  const config = loadConfig({ ...env });
  const logger = pino({ level: env.LOG_LEVEL });
  return startBot({ ...config, token: env.DISCORD_TOKEN }, logger);
}

export interface Harness {
  readonly fake: FakeDiscord;
  readonly env: BotEnvironment;
  bot: RunningBot;
  /** Stops the bot and starts a new one on the same data directory (a clean restart). */
  restart(): Promise<RunningBot>;
  close(): Promise<void>;
}

/** `extraEnv`: more settings for the bot (e.g. a small LOOKALIKE_QUEUE_LIMIT). */
export async function startHarness(
  setup?: (fake: FakeDiscord) => void | Promise<void>,
  extraEnv: Record<string, string> = {},
): Promise<Harness> {
  const fake = await FakeDiscord.start();
  await setup?.(fake);
  const env = { ...(await botEnvironment(fake)), ...extraEnv };
  const harness: Harness = {
    fake,
    env,
    bot: await startTestBot(env),
    async restart() {
      await harness.bot.stop();
      harness.bot = await startTestBot(env);
      return harness.bot;
    },
    async close() {
      await harness.bot.stop();
      await fake.close();
    },
  };
  return harness;
}

const MAIN = fileURLToPath(new URL("../../src/bot/main.ts", import.meta.url));

/** A bot process whose stderr and stdout are collected. */
export type BotProcess = ChildProcess & { output: () => string };

/** `node --import tsx src/bot/main.ts` with the given environment; stderr/stdout are collected. */
export function spawnBotProcess(env: BotEnvironment): BotProcess {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    // As `npm start` runs it (package.json), so the benchmarks measure the bot users run.
    env: { GLIBC_TUNABLES: ALLOCATOR_TUNABLES, ...process.env, ...env, LOG_LEVEL: env.LOG_LEVEL === "silent" ? "info" : env.LOG_LEVEL },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  return Object.assign(child, { output: () => output });
}

/** Runs `check`; a failure carries the end of each bot's output, which says why. */
export async function explainedByOutput<T>(bots: BotProcess[], check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    if (error instanceof Error)
      for (const [i, bot] of bots.entries())
        error.message += `\n--- bot ${i + 1}'s last lines ---\n${bot.output().split("\n").slice(-40).join("\n")}`;
    throw error;
  }
}

/** Bot processes started by one test suite; `killAll` in its `after` hook leaves none behind. */
export class BotProcesses {
  private readonly children: BotProcess[] = [];

  /**
   * Starts `npm start`'s entry point with info logs and waits until it says it is online — `online`
   * times when it starts that many bots (the shards of a shard manager).
   */
  async start(env: BotEnvironment, { online = 1 }: { online?: number } = {}): Promise<BotProcess> {
    const child = spawnBotProcess({ ...env, LOG_LEVEL: "info" });
    this.children.push(child);
    await waitUntil(
      "the bot process to come online",
      () => {
        if (child.exitCode !== null) throw new Error(`bot exited early:\n${child.output()}`);
        return child.output().split("Lookalike is online").length > online;
      },
      60_000,
    );
    return child;
  }

  /** SIGTERM, then resolves once the process has exited (a shard manager: with its shards). */
  async stop(child: BotProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }

  killAll(): void {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}
