/**
 * The embedder at other input sizes: the worker cuts MobileNetV2 after its conv trunk and makes the
 * input's height and width symbolic, so 320 px gives a 10×10 map and 448 px a 14×14 one, while
 * 224 px gives exactly the map the unedited graph gave.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import ort from "onnxruntime-node";
import { featureGraph } from "../src/retrieval/embedder/graph.ts";
import { Embedder } from "../src/retrieval/embedder.ts";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import { type DecodedImage, decodeImage, writeModelInput } from "../src/retrieval/image.ts";
import { ensureModelFile, getModel } from "../src/retrieval/models.ts";
import type { FeatureMap } from "../src/retrieval/pooling.ts";
import { CELL_DIMENSION, cellProjectionWeights, cellsOf } from "../src/retrieval/regions/parts.ts";
import { datasetsDir, modelsDir } from "./support/paths.ts";

const { onnx } = createRequire(import.meta.url)("onnx-proto") as typeof import("onnx-proto");
const model = getModel("mobilenetv2-int8");
const photos = path.join(datasetsDir, "photo-pool-cc", "images");

/** The graph as the worker loaded it before sizes became free: the whole classifier, plus `627` as an extra output. */
function uneditedWithFeatureOutput(bytes: Uint8Array): Uint8Array {
  const proto = onnx.ModelProto.decode(bytes);
  proto.graph!.output!.push(onnx.ValueInfoProto.create({ name: model.features.tensor }));
  return onnx.ModelProto.encode(proto).finish();
}

describe("feature maps at other input sizes", () => {
  let embedder: Embedder;
  let images: DecodedImage[];
  const batches: number[] = [];
  before(async () => {
    const onBatch = (_seconds: number, count: number) => void batches.push(count);
    embedder = await Embedder.create({ model, modelsDir, download: false, threads: 2, maxBatch: 4, onBatch });
    const files = (await readdir(photos)).sort().slice(0, 4);
    images = await Promise.all(files.map((file) => decodeImage(path.join(photos, file))));
  });
  after(() => embedder.close());

  it("cuts the graph after the feature tensor, with a symbolic height and width", async () => {
    const bytes = await readFile(await ensureModelFile(model, { modelsDir, download: false }));
    const original = onnx.ModelProto.decode(bytes).graph!;
    const edited = onnx.ModelProto.decode(featureGraph(bytes, model)).graph!;
    assert.deepEqual(
      edited.output!.map((o) => o.name),
      [model.features.tensor],
    );
    const dims = edited.input!.find((i) => i.name === model.input.name)!.type!.tensorType!.shape!.dim!;
    assert.deepEqual(
      dims.slice(2).map((d) => d.dimParam),
      ["height", "width"],
    );
    assert.ok(edited.node!.length < original.node!.length, "the pool and classifier are gone");
    assert.ok(!edited.node!.some((n) => n.opType === "QLinearGlobalAveragePool" || n.opType === "QLinearMatMul"));
    assert.ok(edited.node!.at(-1)!.output!.includes(model.features.tensor));
  });

  it("gives exactly the unedited graph's 1280×7×7 map at 224", async () => {
    const bytes = await readFile(await ensureModelFile(model, { modelsDir, download: false }));
    const reference = await ort.InferenceSession.create(uneditedWithFeatureOutput(bytes), {
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      enableCpuMemArena: false,
      graphOptimizationLevel: "all",
    });
    try {
      for (const image of images) {
        const size = model.input.size;
        const input = await writeModelInput(image, model.input, new Float32Array(3 * size * size));
        const outputs = await reference.run({ [model.input.name]: new ort.Tensor("float32", input, [1, 3, size, size]) }, [
          model.features.tensor,
        ]);
        const expected = outputs[model.features.tensor]!.data as Float32Array;
        const [byDefault, explicit] = await Promise.all([
          embedder.featureMap(image),
          embedder.featureMap(image, undefined, undefined, false, 224),
        ]);
        for (const map of [byDefault, explicit]) {
          assert.deepEqual([map.channels, map.height, map.width], [1280, 7, 7]);
          assert.equal(map.data.length, expected.length);
          assert.ok(
            map.data.every((x, i) => x === expected[i]),
            "identical values",
          );
        }
      }
    } finally {
      await reference.release();
    }
  });

  for (const [size, cells] of [
    [320, 10],
    [448, 14],
  ] as const) {
    it(`gives a 1280×${cells}×${cells} map at ${size}`, async () => {
      const map = await embedder.featureMap(images[0]!, undefined, undefined, false, size);
      assert.deepEqual([map.channels, map.height, map.width], [1280, cells, cells]);
      assert.equal(map.data.length, 1280 * cells * cells);
      assert.ok(map.data.every(Number.isFinite));
      assert.ok(
        map.data.some((x) => x > 0),
        "a real photo activates the map",
      );
    });
  }

  it("answers mixed sizes requested concurrently with the map each one gets alone", async () => {
    const sizes = [224, 320, 448, 64] as const;
    const requests = images.flatMap((image) => sizes.map((size) => ({ image, size })));
    const alone: FeatureMap[] = [];
    for (const { image, size } of requests) alone.push(await embedder.featureMap(image, undefined, undefined, false, size));
    // Interleaved, so the queue holds several sizes at once and batches must pick their own.
    batches.length = 0;
    const together = await Promise.all(
      requests.map(({ image, size }, i) => embedder.featureMap(image, undefined, undefined, i % 3 === 0, size)),
    );
    together.forEach((map, i) => {
      const { size } = requests[i]!;
      assert.deepEqual([map.height, map.width], [size / 32, size / 32], `request ${i}`);
      const expected = alone[i]!.data;
      assert.equal(map.data.length, expected.length, `request ${i}`);
      assert.ok(
        map.data.every((x, j) => x === expected[j]),
        `request ${i} (${size} px) differs from its solo run`,
      );
    });
    assert.ok(
      batches.some((count) => count > 1),
      `requests were batched (${batches.join(", ")})`,
    );
  });

  it("projects every cell in the model as the parts would here: the same cell codes, batched or alone, at every size", async () => {
    const projecting = await Embedder.create({
      model,
      modelsDir,
      download: false,
      threads: 2,
      maxBatch: 4,
      projection: cellProjectionWeights(model.features.channels),
    });
    try {
      for (const size of [224, 320, 448]) {
        const maps = await Promise.all(images.map((image) => projecting.featureMap(image, undefined, undefined, false, size)));
        maps.forEach((map, i) => {
          const cells = (size / 32) ** 2;
          assert.equal(map.projected?.length, CELL_DIMENSION * cells, `${size} px, image ${i}`);
          const { width, height } = images[i]!;
          const byModel = cellsOf(map, width, height, 32);
          const here = cellsOf({ ...map, projected: undefined }, width, height, 32);
          assert.deepEqual([byModel.width, byModel.height], [here.width, here.height]);
          // Float sums in another order: a code may round the other way, never by more than one step.
          let differing = 0;
          byModel.codes.forEach((code, j) => {
            assert.ok(Math.abs(code - here.codes[j]!) <= 1, `${size} px, image ${i}, value ${j}: ${code} vs ${here.codes[j]}`);
            if (code !== here.codes[j]) differing++;
          });
          assert.ok(
            differing <= byModel.codes.length / 100,
            `${size} px, image ${i}: ${differing} of ${byModel.codes.length} codes differ`,
          );
        });
      }
    } finally {
      await projecting.close();
    }
  });

  it("refuses a size that is not a whole number of cells, below one cell or too large", async () => {
    for (const size of [0, 16, 31, 100, 225, 224.5, Number.NaN, 2048]) {
      await assert.rejects(
        embedder.featureMap(images[0]!, undefined, undefined, false, size),
        (error) =>
          isLookalikeError(error) && /multiple of 32 from 32 to \d+ px/.test(error.message) && error.message.includes(String(size)),
        String(size),
      );
    }
  });
});
