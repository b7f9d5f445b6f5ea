/** Edits the model's ONNX graph before the inference worker loads it. */
import { createRequire } from "node:module";
import type { ModelDescription } from "../models.ts";
import type { FeatureProjection } from "./protocol.ts";

/** The graph's second output when it has a projection: [N, rows, H, W]. */
export const PROJECTED_TENSOR = "lookalike_projected";
const PROJECTION_WEIGHTS = "lookalike_projection_weights";

/**
 * Turns the classifier into a feature extractor that runs at any input size. The file declares
 * its input as [N,3,224,224] and ends in a classifier over a global pool; the conv trunk up to the
 * feature tensor has no fixed size in it. So: the input's height and width become symbolic
 * (`dimParam`), only the nodes the feature tensor depends on are kept (the pool, reshape and
 * classifier go, with the initializers only they used), and the feature tensor becomes the only
 * output. At 224 the kept nodes are exactly the ones that computed the tensor before, so the
 * values are the same (test/embedder-sizes.test.ts checks against the unedited graph). With a
 * `projection`, a 1×1 convolution of the feature tensor by its weights (no bias) is added and its
 * result becomes a second output, PROJECTED_TENSOR.
 */
export function featureGraph(bytes: Uint8Array, model: ModelDescription, projection?: FeatureProjection): Uint8Array {
  if (!model.features.intermediate) return bytes;
  // onnx-proto is CommonJS; a require keeps its namespace object intact.
  const { onnx } = createRequire(import.meta.url)("onnx-proto") as typeof import("onnx-proto");
  const proto = onnx.ModelProto.decode(bytes);
  const graph = proto.graph!;
  const target = model.features.tensor;

  const input = graph.input?.find((value) => value.name === model.input.name);
  const dims = input?.type?.tensorType?.shape?.dim;
  if (dims?.length !== 4) throw new Error(`the model has no 4-d input "${model.input.name}"`);
  dims[2] = onnx.TensorShapeProto.Dimension.create({ dimParam: "height" });
  dims[3] = onnx.TensorShapeProto.Dimension.create({ dimParam: "width" });

  // Walk back from the feature tensor: a node is kept if it produces something a kept node needs.
  const nodes = graph.node ?? [];
  const needed = new Set([target]);
  const keep = new Array<boolean>(nodes.length).fill(false);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (!(node.output ?? []).some((name) => needed.has(name))) continue;
    keep[i] = true;
    for (const name of node.input ?? []) if (name) needed.add(name);
  }
  if (!keep.some(Boolean)) throw new Error(`no node of the model produces tensor "${target}"`);
  graph.node = nodes.filter((_, i) => keep[i]);
  graph.initializer = (graph.initializer ?? []).filter((tensor) => needed.has(tensor.name ?? ""));
  // Shapes recorded for intermediate values were computed at 224; let ORT infer them again.
  graph.valueInfo = [];
  graph.output = [onnx.ValueInfoProto.create({ name: target })];
  if (projection) {
    const { channels } = model.features;
    if (projection.weights.length !== projection.rows * channels) {
      throw new Error(
        `a projection of ${channels} channels needs ${projection.rows}×${channels} weights, got ${projection.weights.length}`,
      );
    }
    graph.initializer.push(
      onnx.TensorProto.create({
        name: PROJECTION_WEIGHTS,
        dataType: onnx.TensorProto.DataType.FLOAT,
        dims: [projection.rows, channels, 1, 1],
        rawData: new Uint8Array(projection.weights.buffer, projection.weights.byteOffset, projection.weights.byteLength),
      }),
    );
    graph.node.push(onnx.NodeProto.create({ opType: "Conv", input: [target, PROJECTION_WEIGHTS], output: [PROJECTED_TENSOR] }));
    graph.output.push(onnx.ValueInfoProto.create({ name: PROJECTED_TENSOR }));
  }
  return onnx.ModelProto.encode(proto).finish();
}

/**
 * A graph of one Gemm: `product` = `a` × `b`ᵀ for `a` [rows, k] and `b` [columns, k], every size
 * free: entry (i, j) is the dot product of row i of `a` and row j of `b`. The inference worker
 * runs it for spatial verification's cell scores; the benchmark for its similarity matrices.
 */
export function transposedProductGraph(): Uint8Array {
  const { onnx } = createRequire(import.meta.url)("onnx-proto") as typeof import("onnx-proto");
  const matrix = (name: string, dims: string[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((dimParam) => ({ dimParam })) } } },
    });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: "transposed_product",
      input: [matrix("a", ["rows", "k"]), matrix("b", ["columns", "k"])],
      output: [matrix("product", ["rows", "columns"])],
      node: [
        onnx.NodeProto.create({
          opType: "Gemm",
          input: ["a", "b"],
          output: ["product"],
          attribute: [{ name: "transB", type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
        }),
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
