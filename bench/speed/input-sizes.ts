/**
 * Model time per image at several input sizes (regional matching needs more cells than 224 px's
 * 7×7). Run by hand, not part of `npm run bench`:
 *
 *   node --import tsx bench/speed/input-sizes.ts [--threads N] [--rounds N] [--sizes 224,320,448]
 *
 * The prepared input tensors of real photos go straight to one inference worker (as the Embedder
 * sends them), so the numbers are the model's alone: no decoding or resizing. Each (size, batch)
 * gets a warm-up, then `rounds` timed runs; the median and the fastest run are reported.
 */

import { readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { InferenceWorker } from "../../src/retrieval/embedder/inference-worker.ts";
import { decodeImage, writeModelInput } from "../../src/retrieval/image.ts";
import { DEFAULT_MODEL_ID, ensureModelFile, getModel } from "../../src/retrieval/models.ts";
import { datasetsDir, modelsDir } from "../lib/paths.ts";

const { values } = parseArgs({
  options: {
    threads: { type: "string", default: String(os.availableParallelism()) },
    rounds: { type: "string", default: "40" },
    sizes: { type: "string", default: "224,320,448" },
    batches: { type: "string", default: "1,4" },
  },
});
const threads = Number(values.threads);
const rounds = Number(values.rounds);
const sizes = values.sizes.split(",").map(Number);
const batchSizes = values.batches.split(",").map(Number);

const model = getModel(DEFAULT_MODEL_ID);
const photos = path.join(datasetsDir, "photo-pool-cc", "images");
const files = (await readdir(photos)).sort().slice(0, Math.max(...batchSizes));
const images = await Promise.all(files.map((file) => decodeImage(path.join(photos, file))));

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const worker = await InferenceWorker.start(await ensureModelFile(model, { modelsDir, download: false }), model, threads);
try {
  console.log(`${os.cpus()[0]?.model ?? "cpu"}, ${os.availableParallelism()} cores; 1 worker × ${threads} threads; ${rounds} rounds`);
  console.log("size | cells | batch | ms/batch (median) | ms/image (median) | ms/image (best)");
  for (const size of sizes) {
    const spec = { ...model.input, size };
    const inputs = await Promise.all(images.map((image) => writeModelInput(image, spec, new Float32Array(3 * size * size))));
    for (const batch of batchSizes) {
      const tensor = () => {
        const out = new Float32Array(batch * 3 * size * size);
        for (let i = 0; i < batch; i++) out.set(inputs[i % inputs.length]!, i * 3 * size * size);
        return out;
      };
      for (let i = 0; i < 3; i++) await worker.run(tensor(), batch, size); // warm-up
      const times: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const input = tensor();
        const started = performance.now();
        await worker.run(input, batch, size);
        times.push(performance.now() - started);
      }
      const perBatch = median(times);
      const cells = size / model.features.stride;
      console.log(
        `${size} | ${cells}×${cells} | ${batch} | ${perBatch.toFixed(1)} | ${(perBatch / batch).toFixed(1)} | ${(Math.min(...times) / batch).toFixed(1)}`,
      );
    }
  }
} finally {
  await worker.close();
}
