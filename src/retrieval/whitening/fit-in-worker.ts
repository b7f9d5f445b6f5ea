/** Runs `fitWhitening` in a short-lived worker thread (see fit-worker.ts for why). */
import { Worker } from "node:worker_threads";
import { LookalikeError, throwIfAborted } from "../errors.ts";
import type { Whitening, WhiteningOptions } from "../whitening.ts";

// The embedder's bootstrap registers tsx in the worker, then imports `entry`.
const BOOTSTRAP = new URL("../embedder/bootstrap.mjs", import.meta.url);
const ENTRY = new URL("./fit-worker.ts", import.meta.url).href;

export interface FitRequest {
  readonly entry: string;
  readonly rows: number;
  readonly dimension: number;
  /** rows × dimension, row-major. */
  readonly data: Float32Array;
  readonly options: WhiteningOptions;
}

export type FitReply = { readonly ok: true; readonly whitening: Whitening } | { readonly ok: false; readonly message: string };

export async function fitWhiteningInWorker(
  vectors: readonly Float32Array[],
  options: WhiteningOptions,
  signal?: AbortSignal,
): Promise<Whitening> {
  throwIfAborted(signal);
  const dimension = vectors[0]?.length ?? 0;
  const data = new Float32Array(vectors.length * dimension);
  vectors.forEach((v, i) => data.set(v, i * dimension));
  const request: FitRequest = { entry: ENTRY, rows: vectors.length, dimension, data, options };
  const worker = new Worker(BOOTSTRAP, { workerData: request, transferList: [data.buffer as ArrayBuffer] });
  const onAbort = () => void worker.terminate();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const reply = await new Promise<FitReply>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
      worker.once("exit", (code) => reject(signal?.aborted ? signal.reason : new Error(`exited with code ${code}`)));
    });
    if (!reply.ok) throw new Error(reply.message);
    return reply.whitening;
  } catch (error) {
    if (signal?.aborted) throw new LookalikeError("aborted", "Fitting the whitening was cancelled.");
    const message = error instanceof Error ? error.message : String(error);
    throw new LookalikeError(
      "internal",
      `Fitting the collection's whitening failed: ${message}`,
      { rows: vectors.length },
      { cause: error },
    );
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await worker.terminate();
  }
}
