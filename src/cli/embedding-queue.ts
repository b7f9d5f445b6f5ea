/**
 * `lookalike index` with `LOOKALIKE_REDIS_URL` set: the images go to the embedding workers
 * (`npm run worker`) through Redis and this process opens no model; it waits for the results and
 * writes them. `search` and `check` embed their few queries in this process either way.
 */
import { vectorSpace } from "../retrieval/analyzer.ts";
import { LookalikeError } from "../retrieval/errors.ts";
import { QueuedAnalyzer } from "../retrieval/queue/queued-analyzer.ts";
import { queueSettings } from "../retrieval/queue/settings.ts";
import type { CliOptions } from "./options.ts";
import type { Output } from "./report.ts";

export async function openIndexQueue(
  options: Pick<CliOptions, "model" | "pooling">,
  io: Output,
  env: NodeJS.ProcessEnv = process.env,
): Promise<QueuedAnalyzer | undefined> {
  const { settings, problems } = queueSettings(env);
  // The workers' own settings are theirs to check; only the URL matters to this process.
  const problem = problems.find(({ variable }) => variable === "LOOKALIKE_REDIS_URL");
  if (problem) throw new LookalikeError("queue_config_invalid", `${problem.variable}: ${problem.message}`);
  if (!settings.redisUrl) return undefined;
  const queue = await QueuedAnalyzer.open({
    redisUrl: settings.redisUrl,
    space: vectorSpace({ modelId: options.model, pooling: options.pooling }),
  });
  const workers = await queue.workerCount().catch(() => 0);
  io.err(`embedding through ${queue.describe()}: ${workers} worker(s) connected`);
  if (workers === 0) io.err("warning: no embedding worker is connected yet: the images wait in Redis until one starts (npm run worker)");
  return queue;
}
