/**
 * The `lookalike` command line. One path from any error to the exit status: usage mistakes exit 2,
 * anything that stops the run exits 1, and per-image failures are reported and the run goes on.
 */
import { LookalikeEngine, vectorSpace } from "../retrieval/engine.ts";
import { LookalikeError } from "../retrieval/errors.ts";
import { ImageStore } from "../retrieval/store/image-store.ts";
import { openIndexQueue } from "./embedding-queue.ts";
import { runIndex } from "./index-files.ts";
import { type CliOptions, parseCli } from "./options.ts";
import { runCheck, runSearch } from "./query-commands.ts";
import { type Output, processOutput } from "./report.ts";
import { USAGE, UsageError } from "./usage.ts";

export async function main(argv: readonly string[], io: Output = processOutput): Promise<number> {
  try {
    const parsed = await parseCli(argv);
    if (parsed.help) {
      io.out(USAGE);
      return 0;
    }
    await run(parsed, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`lookalike: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    const message = error instanceof LookalikeError ? `${error.message} (${error.code})` : String((error as Error)?.stack ?? error);
    io.err(`lookalike: ${message}`);
    return 1;
  }
}

async function run(options: CliOptions, io: Output): Promise<void> {
  if (options.command === "info" || options.command === "drop") {
    const store = await ImageStore.open(options.db, vectorSpace({ modelId: options.model, pooling: options.pooling }));
    try {
      if (options.command === "drop") {
        await store.dropCollection(options.collection);
        io.out(`dropped collection "${options.collection}"`);
      } else {
        for (const { name, rows, space } of await store.summary()) {
          const line = { collection: name, rows, model: space.model, descriptor: space.descriptor, dimension: space.dimension };
          io.out(
            options.json ? JSON.stringify(line) : `${name}: ${rows} images (${space.model}, ${space.descriptor}, ${space.dimension}-d)`,
          );
        }
      }
    } finally {
      store.close();
    }
    return;
  }
  let lastPercent = -1;
  // With LOOKALIKE_REDIS_URL, `index` leaves the embedding to the workers and loads no model here.
  const queue = options.command === "index" ? await openIndexQueue(options, io) : undefined;
  const engine = await LookalikeEngine.open({
    analyzer: queue,
    db: options.db,
    modelsDir: options.modelsDir,
    modelId: options.model,
    pooling: options.pooling,
    threads: options.threads,
    download: options.download,
    onDownloadProgress: ({ url, receivedBytes, totalBytes }) => {
      const percent = Math.floor((100 * receivedBytes) / totalBytes);
      if (percent !== lastPercent) process.stderr.write(`\rdownloading model from ${url}: ${percent}%${percent === 100 ? "\n" : ""}`);
      lastPercent = percent;
    },
  });
  try {
    if (options.command === "index") await runIndex(engine, options, io);
    else if (options.command === "search") await runSearch(engine, options, io);
    else await runCheck(engine, options, io);
  } finally {
    await engine.close();
  }
}
