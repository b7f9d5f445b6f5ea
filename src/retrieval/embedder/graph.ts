/** Edits the model's ONNX graph before the inference worker loads it. */
import { createRequire } from "node:module";
import type { ModelDescription } from "../models.ts";

/**
 * Turns the classifier into a feature extractor that runs at any input size. The file declares
 * its input as [N,3,224,224] and ends in a classifier over a global pool; the conv trunk up to the
 * feature tensor has no fixed size in it. So: the input's height and width become symbolic
 * (`dimParam`), only the nodes the feature tensor depends on are kept (the pool, reshape and
 * classifier go, with the initializers only they used), and the feature tensor becomes the only
 * output. At 224 the kept nodes are exactly the ones that computed the tensor before, so the
 * values are the same (test/embedder-sizes.test.ts checks against the unedited graph).
 */
export function featureGraph(bytes: Uint8Array, model: ModelDescription): Uint8Array {
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
  return onnx.ModelProto.encode(proto).finish();
}
