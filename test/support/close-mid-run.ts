/**
 * Child process for test/embedder-close.test.ts: starts an inference worker, hands it a batch that
 * takes a while, and closes it `process.argv[2]` ms later, while the batch runs. Prints what became
 * of the batch. A worker torn down mid-run used to abort this whole process (SIGABRT).
 */
import { InferenceWorker } from "../../src/retrieval/embedder/inference-worker.ts";
import { ensureModelFile, getModel } from "../../src/retrieval/models.ts";
import { modelsDir } from "./paths.ts";

const model = getModel("mobilenetv2-int8");
const worker = await InferenceWorker.start(await ensureModelFile(model, { modelsDir, download: false }), model, 2);
const size = 448;
const count = 8;
const batch = worker.run(new Float32Array(count * 3 * size * size).fill(0.5), count, size).then(
  ({ features }) => `finished (${features.length} values)`,
  (error: Error) => `rejected: ${error.message}`,
);
await new Promise((resolve) => setTimeout(resolve, Number(process.argv[2] ?? 100)));
await worker.close();
console.log(`closed; batch ${await batch}`);
