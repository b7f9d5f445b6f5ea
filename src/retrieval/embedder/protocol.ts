/** Messages between the embedder (main thread) and its inference worker. */
import type { ModelDescription } from "../models.ts";

export interface WorkerInit {
  readonly entry: string;
  readonly modelPath: string;
  readonly model: ModelDescription;
  readonly threads: number;
}

export interface RunRequest {
  readonly type: "run";
  readonly id: number;
  /** [count, 3, size, size] float32, transferred. */
  readonly input: Float32Array;
  readonly count: number;
  /** The input's height and width. */
  readonly size: number;
}

/** Finish the run in flight, release the session, exit. */
export interface CloseRequest {
  readonly type: "close";
}

export type WorkerRequest = RunRequest | CloseRequest;

export type WorkerReply =
  | { readonly type: "ready" }
  | { readonly type: "init-error"; readonly message: string }
  | { readonly type: "result"; readonly id: number; readonly features: Float32Array }
  | { readonly type: "error"; readonly id: number; readonly message: string };
