/** `lookalike index`: fingerprint every image under the given paths and upsert them. */
import type { AnalyzedImage, AnalyzeOptions, LookalikeEngine } from "../retrieval/engine.ts";
import { mapOrdered } from "./concurrency.ts";
import { expandPaths } from "./files.ts";
import type { CliOptions } from "./options.ts";
import { ProgressBar } from "./progress.ts";
import { errorPayload, type Output } from "./report.ts";

/** What indexing computes per image: no thumbnail (the CLI shows none), the parts (stored with it). */
export const INDEX_ANALYSIS = { thumbnail: false, parts: true } as const satisfies AnalyzeOptions;

/** Images in flight at once: enough to keep the model's batches full while others decode. */
const IN_FLIGHT = 32;
/** Rows per write: fewer, larger LanceDB commits (each write is a fragment). */
const WRITE_BATCH = 128;

export async function runIndex(engine: LookalikeEngine, options: CliOptions, io: Output): Promise<void> {
  const started = Date.now();
  const files = await expandPaths(options.paths);
  const table = await engine.collection(options.collection);
  const todo = options.force ? files : await notYetIndexed(files, (ids) => table.get(ids));
  const already = files.length - todo.length;
  if (already > 0) io.err(`${already} image(s) already indexed in "${options.collection}" (use --force to re-index them).`);

  const progress = new ProgressBar("indexing", todo.length);
  const pending: { image: AnalyzedImage; meta: { id: string; source: string } }[] = [];
  let indexed = 0;
  let skipped = 0;
  const flush = async () => {
    const batch = pending.splice(0);
    await engine.add(options.collection, batch);
    indexed += batch.length;
  };

  await mapOrdered(
    todo,
    IN_FLIGHT,
    (file) =>
      engine.analyze(file, INDEX_ANALYSIS).then(
        (image) => ({ image }),
        (error: unknown) => ({ error }),
      ),
    async (result, file, index) => {
      if ("error" in result) {
        skipped++;
        const { code, message } = errorPayload(result.error);
        io.err(`warning: skipped ${file}: ${message} (${code})`);
      } else {
        pending.push({ image: result.image, meta: { id: file, source: file } });
        if (pending.length >= WRITE_BATCH) await flush();
      }
      progress.update(index + 1, skipped > 0 ? `(${skipped} skipped)` : "");
    },
  );
  await flush();
  progress.finish();
  const maintenance = await engine.maintain(options.collection);
  if (maintenance.index === "none") await engine.compact(options.collection);
  if (maintenance.whitening === "fitted") io.err(`learned this collection's whitening for repost checks`);

  const seconds = (Date.now() - started) / 1000;
  const rate = seconds > 0 ? indexed / seconds : 0;
  const summary = {
    indexed,
    skipped,
    alreadyIndexed: already,
    seconds: Number(seconds.toFixed(2)),
    imagesPerSecond: Number(rate.toFixed(1)),
  };
  if (options.json) io.out(JSON.stringify(summary));
  else
    io.out(`indexed ${indexed}, skipped ${skipped}, already indexed ${already}, ${summary.seconds} s, ${summary.imagesPerSecond} images/s`);
}

async function notYetIndexed(files: string[], get: (ids: string[]) => Promise<Map<string, unknown>>): Promise<string[]> {
  const todo: string[] = [];
  for (let i = 0; i < files.length; i += 500) {
    const chunk = files.slice(i, i + 500);
    const found = await get(chunk);
    todo.push(...chunk.filter((file) => !found.has(file)));
  }
  return todo;
}
