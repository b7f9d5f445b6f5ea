/**
 * The embedding queue's settings from the environment, checked once at start and reported with
 * every other problem (one line each): the bot's config.ts, `npm run worker` and the CLI all read
 * them here. Without `LOOKALIKE_REDIS_URL` there is no queue and images are embedded in-process.
 */
import os from "node:os";
import { isLookalikeError } from "../errors.ts";
import type { SettingProblem } from "../store/database.ts";
import { parseRedisUrl } from "./connection.ts";

/**
 * Jobs one worker process runs at once (a job carries up to 16 images: batch.ts). The model takes
 * one batch at a time; a second job in hand keeps it busy while the first one's images are decoded
 * and their results sent back, a killed worker strands no more than 32 images, and a second
 * worker still finds jobs to take (`npm run bench -- --only queue` measures the throughput).
 */
export const DEFAULT_WORKER_CONCURRENCY = 2;
/** BullMQ's default: a job whose worker stopped renewing its lock this long ago is retried elsewhere. */
export const DEFAULT_WORKER_LOCK_MS = 30_000;

export interface WorkerSettings {
  /** `LOOKALIKE_WORKER_CONCURRENCY`: jobs in progress at once per worker process. */
  readonly concurrency: number;
  /** `LOOKALIKE_WORKER_THREADS`: the model's threads per worker process (undefined: every core). */
  readonly threads: number | undefined;
  /**
   * `LOOKALIKE_WORKER_LOCK_MS`: how long a job's lock lasts without renewal, and how often workers
   * look for jobs whose lock expired (a dead worker's) to retry them.
   */
  readonly lockDurationMs: number;
}

export interface QueueSettings {
  /** `LOOKALIKE_REDIS_URL` as given; undefined: no queue, images are embedded in this process. */
  readonly redisUrl: string | undefined;
  readonly worker: WorkerSettings;
}

function wholeNumber(
  env: NodeJS.ProcessEnv,
  variable: string,
  range: { min: number; max: number },
  problems: SettingProblem[],
): number | undefined {
  const value = env[variable]?.trim();
  if (!value) return undefined;
  const n = Number(value);
  if (/^\d+$/.test(value) && n >= range.min && n <= range.max) return n;
  problems.push({ variable, message: `a whole number from ${range.min} to ${range.max}, got "${value}"` });
  return undefined;
}

export function queueSettings(env: NodeJS.ProcessEnv = process.env): { settings: QueueSettings; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  let redisUrl: string | undefined;
  const url = env.LOOKALIKE_REDIS_URL?.trim();
  if (url) {
    try {
      redisUrl = parseRedisUrl(url);
    } catch (error) {
      if (!isLookalikeError(error, "queue_config_invalid")) throw error;
      problems.push({ variable: "LOOKALIKE_REDIS_URL", message: error.message });
    }
  }
  const worker: WorkerSettings = {
    concurrency: wholeNumber(env, "LOOKALIKE_WORKER_CONCURRENCY", { min: 1, max: 256 }, problems) ?? DEFAULT_WORKER_CONCURRENCY,
    threads: wholeNumber(env, "LOOKALIKE_WORKER_THREADS", { min: 1, max: Math.max(256, os.availableParallelism()) }, problems),
    lockDurationMs: wholeNumber(env, "LOOKALIKE_WORKER_LOCK_MS", { min: 500, max: 3_600_000 }, problems) ?? DEFAULT_WORKER_LOCK_MS,
  };
  return { settings: { redisUrl, worker }, problems };
}
