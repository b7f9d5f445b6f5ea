/** Main-thread handle on the inference worker: model runs and cell scores, answered by id. */
import { Worker } from "node:worker_threads";
import { LookalikeError } from "../errors.ts";
import type { ModelDescription } from "../models.ts";
import type { CloseRequest, FeatureProjection, RunOutput, RunRequest, ScoresRequest, WorkerInit, WorkerReply } from "./protocol.ts";

const BOOTSTRAP = new URL("./bootstrap.mjs", import.meta.url);
const ENTRY = new URL("./worker.ts", import.meta.url).href;

/** How long a closing worker may take to finish its run in flight (a batch takes well under a second). */
const CLOSE_GRACE_MS = 10_000;

type Answer = Extract<WorkerReply, { type: "result" | "scores" }>;

interface Pending {
  resolve(answer: Answer): void;
  reject(error: Error): void;
}

export class InferenceWorker {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly defaultSize: number,
  ) {
    worker.on("message", (message: WorkerReply) => this.onMessage(message));
    worker.on("error", (error) => this.fail(error));
    this.exited = new Promise((resolve) =>
      worker.on("exit", (code) => {
        this.fail(new Error(`inference worker exited with code ${code}`));
        resolve();
      }),
    );
  }

  static async start(
    modelPath: string,
    model: ModelDescription,
    threads: number,
    projection?: FeatureProjection,
  ): Promise<InferenceWorker> {
    const init: WorkerInit = { entry: ENTRY, modelPath, model, threads, projection };
    const worker = new Worker(BOOTSTRAP, { workerData: init });
    // Only our own listeners are removed afterwards: Worker keeps internal ones (removeAllListeners
    // would stop message delivery).
    let onMessage!: (message: WorkerReply) => void;
    let onError!: (error: Error) => void;
    let onExit!: (code: number) => void;
    await new Promise<void>((resolve, reject) => {
      onMessage = (message) => {
        if (message.type === "ready") resolve();
        else if (message.type === "init-error") reject(new Error(message.message));
      };
      onError = reject;
      onExit = (code) => reject(new Error(`inference worker exited with code ${code} while loading`));
      worker.on("message", onMessage).on("error", onError).on("exit", onExit);
    })
      .catch(async (error: Error) => {
        await worker.terminate();
        throw new LookalikeError("model_load_failed", `Could not load model ${model.id}: ${error.message}`, {
          model: model.id,
          path: modelPath,
        });
      })
      .finally(() => worker.off("message", onMessage).off("error", onError).off("exit", onExit));
    return new InferenceWorker(worker, model.input.size);
  }

  /**
   * Runs the model on a [count,3,size,size] tensor (transferred: `input` is unusable afterwards);
   * `size` defaults to the model's input size.
   */
  async run(input: Float32Array, count: number, size = this.defaultSize): Promise<RunOutput> {
    const answer = await this.request((id): RunRequest => ({ type: "run", id, input, count, size }), [input.buffer as ArrayBuffer]);
    if (answer.type !== "result") throw new LookalikeError("internal", `The inference worker answered a run with "${answer.type}".`);
    return { features: answer.features, projected: answer.projected };
  }

  /** Every row of `a` times every row of `b` (both `dimension` wide, transferred): rows(a) × rows(b) values, row-major. */
  async scores(a: Float32Array, b: Float32Array, dimension: number): Promise<Float32Array> {
    const answer = await this.request(
      (id): ScoresRequest => ({ type: "scores", id, a, b, dimension }),
      [a.buffer as ArrayBuffer, b.buffer as ArrayBuffer],
    );
    if (answer.type !== "scores") throw new LookalikeError("internal", `The inference worker answered scores with "${answer.type}".`);
    return answer.values;
  }

  private request(make: (id: number) => RunRequest | ScoresRequest, transfer: ArrayBuffer[]): Promise<Answer> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(make(id), transfer);
    });
  }

  /**
   * Lets the run in flight finish, then stops the worker: terminating it mid-run aborts the whole
   * process (onnxruntime-node throws a Napi::Error nobody can catch). A worker that does not exit
   * within CLOSE_GRACE_MS (a run stuck in native code) is terminated anyway.
   */
  async close(): Promise<void> {
    this.failure ??= new LookalikeError("aborted", "The embedder was closed.");
    this.worker.postMessage({ type: "close" } satisfies CloseRequest);
    const grace = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS);
    await this.exited;
    clearTimeout(grace);
  }

  private onMessage(message: WorkerReply): void {
    if (message.type !== "result" && message.type !== "scores" && message.type !== "error") return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.type !== "error") pending.resolve(message);
    else pending.reject(new LookalikeError("internal", `Inference failed: ${message.message}`));
  }

  private fail(error: Error): void {
    this.failure ??= new LookalikeError("internal", `The inference worker stopped: ${error.message}`, {}, { cause: error });
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
  }
}
