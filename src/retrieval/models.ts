/**
 * The model registry: every model is described by data, so adding one is a new entry, not new code.
 * Model files live in a cache directory under their upstream file names, so a directory that already
 * holds them (for instance a model folder shared by several checkouts) can be used as the cache as is.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { LookalikeError, throwIfAborted } from "./errors.ts";

/** How the image is fitted to the square model input: crop to the centre, squash, or letterbox. */
export type ResizeMode = "cover" | "fill" | "contain";

export interface ModelDescription {
  readonly id: string;
  readonly fileName: string;
  /** Tried in order; a file is accepted only if its size and sha256 match. */
  readonly urls: readonly string[];
  readonly sha256: string;
  readonly bytes: number;
  readonly license: string;
  readonly input: {
    readonly name: string;
    readonly size: number;
    readonly resize: ResizeMode;
    readonly mean: readonly [number, number, number];
    readonly std: readonly [number, number, number];
  };
  /** The convolutional feature tensor the descriptors are pooled from. */
  readonly features: {
    readonly tensor: string;
    readonly layout: "NCHW";
    readonly channels: number;
    /** The map's height and width at the default input size (`input.size`). */
    readonly height: number;
    readonly width: number;
    /**
     * Input pixels per feature cell: a fully convolutional trunk takes any input size that is a
     * multiple of this and gives a (size/stride)² map (embedder/graph.ts makes the size symbolic).
     */
    readonly stride: number;
    /**
     * The tensor is an intermediate value: before loading, the graph is cut after it and it becomes
     * the only output (embedder/graph.ts).
     */
    readonly intermediate: boolean;
  };
}

export const MODELS = {
  "mobilenetv2-int8": {
    id: "mobilenetv2-int8",
    fileName: "mobilenetv2-12-int8.onnx",
    urls: [
      "https://github.com/onnx/models/raw/main/validated/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx",
      "https://huggingface.co/webml/models/resolve/main/int8/mobilenetv2-12-int8.onnx",
    ],
    sha256: "cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f",
    bytes: 3_655_033,
    license: "Apache-2.0 (ONNX Model Zoo)",
    input: {
      name: "input",
      size: 224,
      // Letterboxed: the whole picture, undistorted. On the repost benchmark this beat squashing
      // ("fill") for every pooling and matched centre-cropping ("cover") while keeping real
      // re-photos findable far more often (bench/RESULTS.md, "Pooling × resize mode").
      resize: "contain",
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
    },
    features: { tensor: "627", layout: "NCHW", channels: 1280, height: 7, width: 7, stride: 32, intermediate: true },
  },
} as const satisfies Record<string, ModelDescription>;

export type ModelId = keyof typeof MODELS;
export const DEFAULT_MODEL_ID: ModelId = "mobilenetv2-int8";

export function getModel(id: string): ModelDescription {
  const model = (MODELS as Record<string, ModelDescription>)[id];
  if (!model) {
    throw new LookalikeError("model_unknown", `Unknown model "${id}". Known models: ${Object.keys(MODELS).join(", ")}.`, { id });
  }
  return model;
}

/** `LOOKALIKE_MODELS_DIR`, else `data/models` under the working directory. */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.LOOKALIKE_MODELS_DIR || path.join("data", "models"));
}

export interface DownloadProgress {
  readonly url: string;
  readonly receivedBytes: number;
  readonly totalBytes: number;
}

export interface EnsureModelOptions {
  readonly modelsDir: string;
  /** Download a missing file (default true). Tests pass false so they can never touch the network. */
  readonly download?: boolean;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  /** Injected for tests of the downloader against a loopback server. */
  readonly fetch?: typeof fetch;
}

/** Returns the path of the verified model file, downloading it first if it is not in the cache. */
export async function ensureModelFile(model: ModelDescription, options: EnsureModelOptions): Promise<string> {
  const target = path.join(options.modelsDir, model.fileName);
  if (await fileExists(target)) {
    await verifyFile(target, model);
    return target;
  }
  if (options.download === false) {
    throw new LookalikeError(
      "model_download_failed",
      `Model file ${model.fileName} is not in ${options.modelsDir} and downloading is disabled.`,
      { model: model.id, path: target },
    );
  }
  await mkdir(options.modelsDir, { recursive: true });
  const failures: string[] = [];
  for (const url of model.urls) {
    throwIfAborted(options.signal, { model: model.id });
    try {
      await downloadVerified(url, target, model, options);
      return target;
    } catch (error) {
      if (error instanceof LookalikeError && error.code === "aborted") throw error;
      failures.push(`${url}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new LookalikeError(
    "model_download_failed",
    `Could not download model ${model.id}. Tried:\n  ${failures.join("\n  ")}\n` +
      `Download ${model.fileName} by hand (sha256 ${model.sha256}) into ${options.modelsDir}, or set LOOKALIKE_MODELS_DIR.`,
    { model: model.id, failures },
  );
}

/** Streams `url` to a `.part` file, then renames it into place only if size and sha256 match. */
async function downloadVerified(url: string, target: string, model: ModelDescription, options: EnsureModelOptions) {
  const partial = `${target}.${process.pid}.part`;
  try {
    const response = await (options.fetch ?? fetch)(url, { signal: options.signal, redirect: "follow" });
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    const totalBytes = Number(response.headers.get("content-length")) || model.bytes;
    let receivedBytes = 0;
    const hash = createHash("sha256");
    const counted = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>).map((chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes > model.bytes) throw new Error(`more than the expected ${model.bytes} bytes`);
      hash.update(chunk);
      options.onProgress?.({ url, receivedBytes, totalBytes });
      return chunk;
    });
    await pipeline(counted, createWriteStream(partial), { signal: options.signal });
    if (receivedBytes !== model.bytes) throw new Error(`got ${receivedBytes} bytes, expected ${model.bytes} (truncated transfer)`);
    const digest = hash.digest("hex");
    if (digest !== model.sha256) {
      throw new LookalikeError("model_checksum_mismatch", `sha256 ${digest} does not match the expected ${model.sha256}`, {
        url,
      });
    }
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    if (options.signal?.aborted) {
      throw new LookalikeError("aborted", "Model download cancelled.", { url }, { cause: error });
    }
    throw error;
  }
}

async function verifyFile(file: string, model: ModelDescription): Promise<void> {
  const { size } = await stat(file);
  const digest = size === model.bytes ? await sha256File(file) : "(size differs)";
  if (digest !== model.sha256) {
    throw new LookalikeError(
      "model_checksum_mismatch",
      `Model file ${file} is damaged or not the expected file (size ${size}, sha256 ${digest}; ` +
        `expected ${model.bytes} bytes, ${model.sha256}). Delete it to download it again.`,
      { model: model.id, path: file },
    );
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

async function fileExists(file: string): Promise<boolean> {
  return stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}
