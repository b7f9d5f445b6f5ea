/**
 * Inference worker. The ONNX session lives here, never on the main thread, because
 * `session.run()` blocks its thread for hundreds of milliseconds on a batch, and because
 * onnxruntime-node 1.30 segfaults (exit 139) when it creates a session on the main thread of a
 * process whose command line is longer than about 28 KB (e.g. a CLI call with 600 image paths).
 */

import { readFile } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import ort from "onnxruntime-node";
import { featureGraph, PROJECTED_TENSOR, transposedProductGraph } from "./graph.ts";
import type { RunRequest, ScoresRequest, WorkerInit, WorkerReply, WorkerRequest } from "./protocol.ts";

const port = parentPort!;
const init = workerData as WorkerInit;

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function createSession(): Promise<ort.InferenceSession> {
  const bytes = featureGraph(await readFile(init.modelPath), init.model, init.projection);
  return ort.InferenceSession.create(bytes, {
    intraOpNumThreads: init.threads,
    interOpNumThreads: 1,
    // The arena keeps the peak of the largest batch forever; batches are modest and the
    // allocation cost is small next to the convolutions.
    enableCpuMemArena: false,
    graphOptimizationLevel: "all",
    // ORT's pool threads spin-wait between operators by default, burning a core the JPEG decoder
    // needs: with spinning off, ingest ran ~15% faster on 2 cores (bench/speed/ingest.ts).
    // LOOKALIKE_ORT_SPIN=1 turns it back on, so the benchmark can show the difference.
    extra: { session: { intra_op: { allow_spinning: process.env.LOOKALIKE_ORT_SPIN === "1" ? "1" : "0" } } },
  });
}

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await createSession();
  } catch (error) {
    reply({ type: "init-error", message: error instanceof Error ? error.message : String(error) });
    return;
  }
  const { input, features } = init.model;
  // Settles once every run started so far has (the embedder sends one batch at a time, but closing
  // must not depend on that).
  let inFlight = Promise.resolve();
  const run = async (request: RunRequest) => {
    try {
      const tensor = new ort.Tensor("float32", request.input, [request.count, 3, request.size, request.size]);
      const outputs = await session.run(
        { [input.name]: tensor },
        init.projection ? [features.tensor, PROJECTED_TENSOR] : [features.tensor],
      );
      // Copies out of ORT's buffers, so the results can be transferred without a second copy.
      const result = new Float32Array(outputs[features.tensor]!.data as Float32Array);
      const projected = init.projection && new Float32Array(outputs[PROJECTED_TENSOR]!.data as Float32Array);
      const transfer = [result.buffer as ArrayBuffer, ...(projected ? [projected.buffer as ArrayBuffer] : [])];
      reply({ type: "result", id: request.id, features: result, projected }, transfer);
    } catch (error) {
      reply({ type: "error", id: request.id, message: error instanceof Error ? error.message : String(error) });
    }
  };
  // The scores session is small and made on the first request: most processes never verify.
  let scoresSession: Promise<ort.InferenceSession> | undefined;
  const score = async (request: ScoresRequest) => {
    try {
      scoresSession ??= ort.InferenceSession.create(transposedProductGraph(), {
        intraOpNumThreads: init.threads,
        interOpNumThreads: 1,
        enableCpuMemArena: false,
      });
      const { dimension } = request;
      const a = new ort.Tensor("float32", request.a, [request.a.length / dimension, dimension]);
      const b = new ort.Tensor("float32", request.b, [request.b.length / dimension, dimension]);
      const outputs = await (await scoresSession).run({ a, b });
      const values = new Float32Array(outputs.product!.data as Float32Array);
      reply({ type: "scores", id: request.id, values }, [values.buffer as ArrayBuffer]);
    } catch (error) {
      reply({ type: "error", id: request.id, message: error instanceof Error ? error.message : String(error) });
    }
  };
  port.on("message", (request: WorkerRequest) => {
    if (request.type === "run" || request.type === "scores") {
      inFlight = Promise.all([inFlight, request.type === "run" ? run(request) : score(request)]).then(() => undefined);
      return;
    }
    // Closing: a session torn down mid-run (worker.terminate()) aborts the whole process with an
    // uncaught Napi::Error, so the run in flight finishes first and the session is released.
    void inFlight
      .then(() => Promise.all([session.release(), scoresSession?.then((scores) => scores.release())]))
      .finally(() => port.close());
  });
  reply({ type: "ready" });
}

await main();
