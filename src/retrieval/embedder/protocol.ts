/** Messages between the embedder (main thread) and its inference worker. */
import type { ModelDescription } from "../models.ts";

export interface WorkerInit {
  readonly entry: string;
  readonly modelPath: string;
  readonly model: ModelDescription;
  readonly threads: number;
  /** A 1×1 projection of the feature map the graph also outputs (see `FeatureProjection`). */
  readonly projection?: FeatureProjection;
}

/**
 * A fixed linear map from the feature map's channels to `rows` values per cell, run by the model
 * as a 1×1 convolution after the feature tensor: native, vectorised, and in the worker thread.
 */
export interface FeatureProjection {
  readonly rows: number;
  /** rows × channels, row-major. */
  readonly weights: Float32Array;
}

/** What a run gives back: the feature maps, and their projections when the graph has one. */
export interface RunOutput {
  readonly features: Float32Array;
  readonly projected?: Float32Array;
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

/**
 * Dot products of every row of `a` with every row of `b` (both `dimension` wide, transferred):
 * the cells' scores of a spatial verification (regions/verify.ts, CellScores).
 */
export interface ScoresRequest {
  readonly type: "scores";
  readonly id: number;
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly dimension: number;
}

/** Finish the run in flight, release the session, exit. */
export interface CloseRequest {
  readonly type: "close";
}

export type WorkerRequest = RunRequest | ScoresRequest | CloseRequest;

export type WorkerReply =
  | { readonly type: "ready" }
  | { readonly type: "init-error"; readonly message: string }
  | ({ readonly type: "result"; readonly id: number } & RunOutput)
  | { readonly type: "scores"; readonly id: number; readonly values: Float32Array }
  | { readonly type: "error"; readonly id: number; readonly message: string };
