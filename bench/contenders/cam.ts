/**
 * Class-weighted features (Jimenez, Alvarez & Giró-i-Nieto, "Class-Weighted Convolutional Features
 * for Visual Instance Search", BMVC 2017): the classifier says which ImageNet classes it sees; each
 * class's activation map (CAM, Zhou et al. 2016: Σ_k w_kc·X_k) says where, and sum-pooling the
 * feature map under that map gives a class-specific vector. The descriptor is the sum of the
 * vectors of the top predicted classes: background that no confident class cares about fades out.
 *
 * The weights are the model's own final layer, read from the ONNX graph (MobileNetV2-int8 stores it
 * as a QLinearMatMul with int8 weights, per-class scale and zero point, and a uint8 bias).
 */

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { ModelDescription } from "../../src/retrieval/models.ts";
import type { FeatureMap } from "../../src/retrieval/pooling.ts";
import { l2normalize } from "../../src/retrieval/vectors.ts";

export interface Classifier {
  readonly channels: number;
  readonly classes: number;
  /** channels × classes, row-major (w[k·classes + c]). */
  readonly weights: Float32Array;
  readonly bias: Float32Array;
}

/** Classes whose maps are summed (the paper uses tens at most; 10 covers MobileNet's usual mass). */
export const CAM_TOP_CLASSES = 10;

type OnnxTensor = import("onnx-proto").onnx.ITensorProto;

/** Values of a (possibly quantized) initializer as numbers, whatever its storage field. */
function values(tensor: OnnxTensor): Float64Array {
  const type = tensor.dataType!;
  const raw = tensor.rawData && tensor.rawData.length > 0 ? Buffer.from(tensor.rawData) : undefined;
  if (type === 1)
    return Float64Array.from(raw ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)) : tensor.floatData!);
  if (type === 2) return Float64Array.from(raw ?? (tensor.int32Data as number[])); // uint8
  if (type === 3) return Float64Array.from(raw ? new Int8Array(raw.buffer, raw.byteOffset, raw.length) : (tensor.int32Data as number[])); // int8
  if (type === 6)
    return Float64Array.from(
      raw ? new Int32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)) : (tensor.int32Data as number[]),
    );
  throw new Error(`unsupported initializer type ${type} (${tensor.name})`);
}

/** Dequantized (q − zero) · scale, with per-axis parameters broadcast along the last axis. */
function dequantize(q: Float64Array, scale: Float64Array, zero: Float64Array): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const axis = i % scale.length;
    out[i] = (q[i]! - zero[zero.length === 1 ? 0 : axis]!) * scale[axis]!;
  }
  return out;
}

/** Finds the final fully connected layer (Gemm, MatMul or QLinearMatMul + bias) and dequantizes it. */
export function loadClassifier(model: ModelDescription, modelsDir: string): Classifier {
  const { onnx } = createRequire(import.meta.url)("onnx-proto") as typeof import("onnx-proto");
  const proto = onnx.ModelProto.decode(readFileSync(path.join(modelsDir, model.fileName)));
  const graph = proto.graph!;
  const init = new Map(graph.initializer!.map((t) => [t.name!, t]));
  const get = (name: string) => {
    const t = init.get(name);
    if (!t) throw new Error(`initializer ${name} not found`);
    return values(t);
  };
  const nodes = graph.node!;
  const matmul = [...nodes].reverse().find((n) => ["QLinearMatMul", "MatMul", "Gemm"].includes(n.opType!));
  if (!matmul) throw new Error("no fully connected layer found in the model");
  const channels = model.features.channels;
  let weights: Float32Array;
  let bias: Float32Array;
  if (matmul.opType === "QLinearMatMul") {
    const [, , , w, wScale, wZero] = matmul.input!;
    weights = dequantize(get(w!), get(wScale!), get(wZero!));
    const add = nodes.find((n) => n.opType === "QLinearAdd" && n.input![0] === matmul.output![0]);
    const [, , , b, bScale, bZero] = add!.input!;
    bias = dequantize(get(b!), get(bScale!), get(bZero!));
  } else {
    weights = Float32Array.from(get(matmul.input![1]!));
    bias = matmul.input![2] ? Float32Array.from(get(matmul.input![2])) : new Float32Array(weights.length / channels);
  }
  const classes = weights.length / channels;
  if (!Number.isInteger(classes) || bias.length !== classes) throw new Error("classifier shape does not match the features");
  return { channels, classes, weights, bias };
}

/** The spatial mean of every channel (the classifier's input after global average pooling). */
export function channelMeans(map: FeatureMap): Float32Array {
  const plane = map.height * map.width;
  const out = new Float32Array(map.channels);
  for (let k = 0; k < map.channels; k++) {
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += map.data[k * plane + i]!;
    out[k] = sum / plane;
  }
  return out;
}

/** The classifier's logits for one image, from its channel means (Wᵀ·mean + b). */
export function logitsOf(means: Float32Array, classifier: Classifier): Float32Array {
  const { channels, classes, weights, bias } = classifier;
  const logits = Float32Array.from(bias);
  for (let k = 0; k < channels; k++) {
    const a = means[k]!;
    if (a === 0) continue;
    const row = k * classes;
    for (let c = 0; c < classes; c++) logits[c]! += a * weights[row + c]!;
  }
  return logits;
}

/**
 * The descriptor: Σ over the top classes c of L2(Σ_ij CAM_c(ij)·X(ij)), L2-normalised. `logits` may
 * be given when the caller computed them for many images at once.
 */
export function classWeighted(
  map: FeatureMap,
  classifier: Classifier,
  logits: Float32Array = logitsOf(channelMeans(map), classifier),
  topClasses = CAM_TOP_CLASSES,
): Float32Array {
  const { channels, classes, weights } = classifier;
  const plane = map.height * map.width;
  const top = Array.from({ length: classes }, (_, c) => c)
    .sort((a, b) => logits[b]! - logits[a]!)
    .slice(0, topClasses);
  const out = new Float32Array(channels);
  const cam = new Float64Array(plane);
  const part = new Float32Array(channels);
  for (const c of top) {
    cam.fill(0);
    for (let k = 0; k < channels; k++) {
      const w = weights[k * classes + c]!;
      for (let i = 0; i < plane; i++) cam[i]! += w * map.data[k * plane + i]!;
    }
    // Min–max to [0, 1], as the paper: only the shape of the map matters, not the logit's size.
    let low = Infinity;
    let high = -Infinity;
    for (const v of cam) {
      low = Math.min(low, v);
      high = Math.max(high, v);
    }
    const range = high - low;
    for (let i = 0; i < plane; i++) cam[i] = range > 0 ? (cam[i]! - low) / range : 1;
    for (let k = 0; k < channels; k++) {
      let sum = 0;
      for (let i = 0; i < plane; i++) sum += cam[i]! * map.data[k * plane + i]!;
      part[k] = sum;
    }
    l2normalize(part);
    for (let k = 0; k < channels; k++) out[k]! += part[k]!;
  }
  return l2normalize(out);
}
