/**
 * Ingest throughput on real JPEGs: decode + embed (with the parts: regions and cells from a 448-px
 * run, as `lookalike index` stores them) + hash + upsert, as `lookalike index` does it (analyze each
 * file with N in flight, results in order, one upsert per W rows), over a grid of inference workers
 * × threads, batch size, images in flight and rows per write. The grid writes the image rows only;
 * the parts' own rows are written by the real CLI's run (section.ts). Also the cost of each stage
 * on its own, so the share of time per stage is known.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { mapOrdered } from "../../src/cli/concurrency.ts";
import { INDEX_ANALYSIS } from "../../src/cli/index-files.ts";
import { DEFAULT_POOLING, poolingDescriptor } from "../../src/retrieval/descriptor.ts";
import { InferenceWorker } from "../../src/retrieval/embedder/inference-worker.ts";
import { DEFAULT_EMBEDDER_WORKERS, DEFAULT_MAX_BATCH, Embedder } from "../../src/retrieval/embedder.ts";
import { type Fingerprint, Fingerprinter, perceptualHashes } from "../../src/retrieval/fingerprint.ts";
import { type DecodedImage, decodeImage, writeModelInput } from "../../src/retrieval/image.ts";
import { DEFAULT_MODEL_ID, ensureModelFile, getModel } from "../../src/retrieval/models.ts";
import { pool } from "../../src/retrieval/pooling.ts";
import { cellProjectionWeights, cellsOf, PARTS_INPUT_SIZE, regionsOf } from "../../src/retrieval/regions/parts.ts";
import { ImageStore } from "../../src/retrieval/store/image-store.ts";
import type { ImageRecord } from "../../src/retrieval/store/schema.ts";
import { flowers, MODELS_DIR, museumDb, photoPool, spread } from "./datasets.ts";
import { load, median, timed } from "./stats.ts";

/** Shipped values of `src/cli/index-files.ts` (kept in step by hand; the CLI row below runs the real constants). */
export const CLI_IN_FLIGHT = 32;
export const CLI_WRITE_BATCH = 128;

export interface IngestConfig {
  readonly workers: number;
  /** Threads per worker. */
  readonly threads: number;
  readonly maxBatch: number;
  readonly inFlight: number;
  readonly writeBatch: number;
  /** ORT intra-op spin-waiting (only matters with threads > 1). */
  readonly spin: boolean;
}

export const SHIPPED: IngestConfig = {
  workers: DEFAULT_EMBEDDER_WORKERS,
  threads: Math.max(1, Math.floor(os.availableParallelism() / DEFAULT_EMBEDDER_WORKERS)),
  maxBatch: DEFAULT_MAX_BATCH,
  inFlight: CLI_IN_FLIGHT,
  writeBatch: CLI_WRITE_BATCH,
  spin: false,
};

/** What the code shipped before this benchmark: one worker with every core, batches of 16, ORT spinning. */
export const SEED_DEFAULTS: IngestConfig = {
  workers: 1,
  threads: os.availableParallelism(),
  maxBatch: 16,
  inFlight: 32,
  writeBatch: 128,
  spin: true,
};

export const describe = (c: IngestConfig): string =>
  `${c.workers}×${c.threads}${c.threads > 1 ? (c.spin ? " spin" : " no-spin") : ""}, batch ${c.maxBatch}, ${c.inFlight} in flight, write ${c.writeBatch}`;

/** photo-pool-cc repeated to ~500 images, the 287 museum paintings and 200 flower photos (quick: ~200 in all). */
export async function ingestFiles(quick: boolean): Promise<string[]> {
  const [photos, museum, flower] = await Promise.all([photoPool(), museumDb(), flowers()]);
  const repeats = quick ? 3 : 13;
  const repeated = Array.from({ length: repeats }, () => photos).flat();
  return [...repeated, ...(quick ? spread(museum, 40) : museum), ...spread(flower, quick ? 40 : 200)];
}

async function withEmbedder<T>(config: IngestConfig, work: (embedder: Embedder) => Promise<T>): Promise<T> {
  const before = process.env.LOOKALIKE_ORT_SPIN;
  process.env.LOOKALIKE_ORT_SPIN = config.spin ? "1" : "0"; // read by each worker as it starts
  const embedder = await Embedder.create({
    model: getModel(DEFAULT_MODEL_ID),
    modelsDir: MODELS_DIR,
    download: false,
    threads: config.workers * config.threads,
    workers: config.workers,
    maxBatch: config.maxBatch,
    // As LocalAnalyzer opens it: the parts' cell projection runs in the model.
    projection: cellProjectionWeights(getModel(DEFAULT_MODEL_ID).features.channels),
  });
  if (before === undefined) delete process.env.LOOKALIKE_ORT_SPIN;
  else process.env.LOOKALIKE_ORT_SPIN = before;
  try {
    return await work(embedder);
  } finally {
    await embedder.close();
  }
}

async function withTable<T>(work: (upsert: (records: ImageRecord[]) => Promise<void>) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "lookalike-bench-ingest-"));
  const model = getModel(DEFAULT_MODEL_ID);
  const store = await ImageStore.open(dir, { model: model.id, descriptor: DEFAULT_POOLING, dimension: model.features.channels });
  try {
    const table = await store.collection("ingest");
    return await work((records) => table.upsert(records));
  } finally {
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const toRecord = (file: string, index: number, print: Fingerprint): ImageRecord => ({
  id: `${index}:${file}`,
  source: file,
  width: print.width,
  height: print.height,
  phash: print.phash,
  dhash: print.dhash,
  vector: print.vector,
});

export interface IngestRun {
  readonly config: IngestConfig;
  readonly images: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  /** Process CPU time / wall time: ~2 means both cores were busy with this run. */
  readonly coresUsed: number;
  readonly load: number;
}

/** The CLI's loop (engine.analyze = decode then fingerprint; engine.add = upsert) with `config`. */
export async function runIngest(config: IngestConfig, files: readonly string[]): Promise<IngestRun> {
  return withEmbedder(config, (embedder) =>
    withTable(async (upsert) => {
      const fingerprinter = new Fingerprinter(embedder, poolingDescriptor(DEFAULT_POOLING, embedder.model.features.channels));
      const analyze = async (file: string) => fingerprinter.fingerprint(await decodeImage(file), { parts: INDEX_ANALYSIS.parts });
      await Promise.all(files.slice(0, 8).map(analyze)); // warm-up: JIT, ORT's first runs
      const { seconds, cpuSeconds } = await timed(async () => {
        const pending: ImageRecord[] = [];
        await mapOrdered(files, config.inFlight, analyze, async (print, file, index) => {
          pending.push(toRecord(file, index, print));
          if (pending.length >= config.writeBatch) await upsert(pending.splice(0));
        });
        await upsert(pending.splice(0));
      });
      return {
        config,
        images: files.length,
        seconds,
        imagesPerSecond: files.length / seconds,
        coresUsed: cpuSeconds / seconds,
        load: load(),
      };
    }),
  );
}

export interface StageCost {
  readonly stage: string;
  readonly imagesPerSecond: number;
  /** CPU milliseconds per image, all threads of the process. */
  readonly cpuMsPerImage: number;
}

/**
 * Each stage alone over the same images, with the shipped concurrency: wall throughput and CPU
 * time per image. The shares of CPU time say where an ingest's time goes (the stages overlap in
 * the real pipeline, and the CPU is the bottleneck).
 */
export async function stageCosts(config: IngestConfig, files: readonly string[]): Promise<StageCost[]> {
  const model = getModel(DEFAULT_MODEL_ID);
  const n = files.length;
  const each = <T, R>(items: readonly T[], work: (item: T, i: number) => Promise<R>) =>
    mapOrdered(items, config.inFlight, work, () => undefined);
  const costs: StageCost[] = [];
  const record = (stage: string, run: { seconds: number; cpuSeconds: number }) =>
    costs.push({ stage, imagesPerSecond: n / run.seconds, cpuMsPerImage: (run.cpuSeconds * 1000) / n });

  await Promise.all(files.slice(0, 8).map((file) => decodeImage(file)));
  const decoded: DecodedImage[] = new Array(n);
  record(
    "decode (read, sniff, header, JPEG → ≤512 px RGB)",
    await timed(() => each(files, async (file, i) => void (decoded[i] = await decodeImage(file)))),
  );

  const size = model.input.size;
  const inputs: Float32Array[] = new Array(n);
  record(
    "model input (resize to 224², normalise)",
    await timed(() =>
      each(decoded, async (image, i) => void (inputs[i] = await writeModelInput(image, model.input, new Float32Array(3 * size * size)))),
    ),
  );

  // Inference alone: the prepared tensors straight to the workers, batches as the Embedder forms them.
  const modelPath = await ensureModelFile(model, { modelsDir: MODELS_DIR, download: false });
  process.env.LOOKALIKE_ORT_SPIN = config.spin ? "1" : "0";
  const workers = await Promise.all(Array.from({ length: config.workers }, () => InferenceWorker.start(modelPath, model, config.threads)));
  delete process.env.LOOKALIKE_ORT_SPIN;
  const outputs: Float32Array[] = [];
  try {
    const batches: Float32Array[][] = [];
    for (let i = 0; i < n; i += config.maxBatch) batches.push(inputs.slice(i, i + config.maxBatch));
    const runBatch = (worker: InferenceWorker, batch: Float32Array[]) => {
      const tensor = new Float32Array(batch.length * inputs[0]!.length);
      batch.forEach((input, j) => tensor.set(input, j * input.length));
      return worker.run(tensor, batch.length);
    };
    await Promise.all(workers.map((worker) => runBatch(worker, batches[0]!))); // warm-up
    let next = 0;
    record(
      `inference (${config.workers} worker × ${config.threads} thread, batch ${config.maxBatch})`,
      await timed(() =>
        Promise.all(
          workers.map(async (worker) => {
            while (next < batches.length) outputs.push((await runBatch(worker, batches[next++]!)).features);
          }),
        ),
      ),
    );
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
  const { channels, height, width } = model.features;
  const stride = channels * height * width;
  const maps = outputs.flatMap((data) =>
    Array.from({ length: data.length / stride }, (_, j) => ({
      data: data.subarray(j * stride, (j + 1) * stride),
      channels,
      height,
      width,
    })),
  );
  record(`pooling (${DEFAULT_POOLING} over 1280×7×7)`, await timed(async () => void maps.forEach((map) => pool(DEFAULT_POOLING, map))));

  await withEmbedder(config, async (embedder) => {
    const { stride } = embedder.model.features;
    const parts = async (image: DecodedImage) => {
      const map = await embedder.featureMap(image, undefined, "contain", false, PARTS_INPUT_SIZE);
      regionsOf(map, image.width, image.height, stride);
      cellsOf(map, image.width, image.height, stride);
    };
    await Promise.all(decoded.slice(0, 8).map(parts)); // warm-up
    record(
      `parts (${PARTS_INPUT_SIZE}² input, model with the cell projection, regions, cells)`,
      await timed(() => each(decoded, (image) => parts(image))),
    );
  });

  record("perceptual hashes (pHash + dHash grids)", await timed(() => each(decoded, async (image) => void perceptualHashes(image))));

  const vectors = decoded.map((_, i) => {
    const v = new Float32Array(model.features.channels);
    v[i % v.length] = 1;
    return v;
  });
  await withTable(async (upsert) => {
    record(
      `store (upsert, ${config.writeBatch} rows per write)`,
      await timed(async () => {
        for (let i = 0; i < n; i += config.writeBatch) {
          await upsert(
            vectors
              .slice(i, i + config.writeBatch)
              .map((vector, j) => ({ id: `${i + j}`, source: files[i + j]!, width: 1, height: 1, phash: 1n, dhash: 2n, vector })),
          );
        }
      }),
    );
  });
  return costs;
}

/** Sequential single-image analyse latency (the bot's case: one image arrives, nothing else queued). */
export async function singleImageLatency(config: IngestConfig, files: readonly string[]): Promise<number> {
  return withEmbedder(config, async (embedder) => {
    const fingerprinter = new Fingerprinter(embedder, poolingDescriptor(DEFAULT_POOLING, embedder.model.features.channels));
    const latencies: number[] = [];
    for (const [i, file] of files.entries()) {
      const started = performance.now();
      await fingerprinter.fingerprint(await decodeImage(file), { parts: INDEX_ANALYSIS.parts });
      if (i >= 3) latencies.push(performance.now() - started);
    }
    return median(latencies);
  });
}
