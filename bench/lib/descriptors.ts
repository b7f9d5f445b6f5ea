/**
 * Every CNN descriptor of a list of images, computed in one pass over their (cached) feature maps:
 * the library's poolings (src/retrieval/pooling.ts) plus the class-weighted (CAM) and part-based
 * (PWA) contenders. Rows of each matrix follow the request order; an image the intake refused
 * gets a zero row and its error.
 */
import { type FeatureMap, type PoolingName, pool } from "../../src/retrieval/pooling.ts";
import { type Classifier, channelMeans, classWeighted } from "../contenders/cam.ts";
import { partWeighted } from "../contenders/pwa.ts";
import type { FeatureCache, MapRequest } from "./feature-cache.ts";
import { type Matrix, matrixOf, multiplyTransposed, rowOf, transpose } from "./matrix.ts";

export const LIBRARY_POOLINGS: readonly PoolingName[] = ["spoc", "mac", "gem", "rmac", "crow"];
export const CNN_DESCRIPTORS = [...LIBRARY_POOLINGS, "cam", "pwa"] as const;
export type CnnDescriptor = (typeof CNN_DESCRIPTORS)[number];

export interface DescribeOptions {
  readonly descriptors: readonly CnnDescriptor[];
  readonly classifier?: Classifier;
  /** PWA's part channels (selected on the indexed collection beforehand). */
  readonly partChannels?: readonly number[];
  /** Also return each map's channel averages (for PWA's channel selection). */
  readonly averages?: boolean;
}

export interface Described {
  readonly matrices: Map<CnnDescriptor, Matrix>;
  readonly averages: Float32Array[];
  /** Per request: why the image could not be read, if it could not. */
  readonly errors: (Error | undefined)[];
}

function describeOne(name: CnnDescriptor, map: FeatureMap, options: DescribeOptions, logits: Float32Array | undefined): Float32Array {
  if (name === "cam") return classWeighted(map, options.classifier!, logits);
  if (name === "pwa") return partWeighted(map, options.partChannels!);
  return pool(name, map);
}

/** Maps held in memory at once: 256 × 250 KB; their logits come from one matrix product. */
const CHUNK = 256;

/** The classifier's weights as classes × channels rows (the layout the matrix kernel multiplies by). */
const transposedWeights = new WeakMap<Classifier, Matrix>();
function classRows(classifier: Classifier): Matrix {
  let m = transposedWeights.get(classifier);
  if (!m) {
    m = transpose({ rows: classifier.channels, cols: classifier.classes, data: classifier.weights });
    transposedWeights.set(classifier, m);
  }
  return m;
}

export async function describe(cache: FeatureCache, requests: readonly MapRequest[], options: DescribeOptions): Promise<Described> {
  const channels = cache.model.features.channels;
  const width = (name: CnnDescriptor) => (name === "pwa" ? options.partChannels!.length * channels : channels);
  const matrices = new Map<CnnDescriptor, Matrix>(
    options.descriptors.map((name) => [
      name,
      { rows: requests.length, cols: width(name), data: new Float32Array(requests.length * width(name)) },
    ]),
  );
  const averages: Float32Array[] = options.averages ? new Array(requests.length) : [];
  const errors: (Error | undefined)[] = new Array(requests.length).fill(undefined);
  for (let start = 0; start < requests.length; start += CHUNK) {
    const chunk = requests.slice(start, start + CHUNK);
    const maps: (FeatureMap | undefined)[] = new Array(chunk.length);
    await cache.each(chunk, (result, i) => {
      if (result instanceof Error) errors[start + i] = result;
      else maps[i] = result;
    });
    const means = maps.map((map) => (map ? channelMeans(map) : new Float32Array(channels)));
    let logits: Matrix | undefined;
    if (options.descriptors.includes("cam")) {
      logits = await multiplyTransposed(matrixOf(means, channels), classRows(options.classifier!));
      for (let i = 0; i < logits.rows; i++) {
        const row = rowOf(logits, i);
        for (let c = 0; c < row.length; c++) row[c]! += options.classifier!.bias[c]!;
      }
    }
    maps.forEach((map, i) => {
      if (options.averages) averages[start + i] = means[i]!;
      if (!map) return;
      for (const [name, matrix] of matrices)
        matrix.data.set(describeOne(name, map, options, logits && rowOf(logits, i)), (start + i) * matrix.cols);
    });
  }
  return { matrices, averages, errors };
}
