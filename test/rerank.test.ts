import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { alphaQueryExpansion, augmentDatabase, expand, nearestNeighbours } from "../bench/lib/rerank.ts";
import { augmentRows, expandRows } from "../bench/lib/vectors.ts";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import { randomUnitVector, seededRandom } from "./support/vectors.ts";

const unit = (...xs: number[]) => {
  const n = Math.hypot(...xs);
  return Float32Array.from(xs, (x) => x / n);
};
const close = (a: ArrayLike<number>, b: ArrayLike<number>, eps = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < eps, `[${i}] ${a[i]} vs ${b[i]}`);
};

describe("α-query expansion", () => {
  it("adds the top-k results weighted by similarity^α, the query itself with weight 1", () => {
    const q = unit(1, 0, 0);
    const results = [
      { vector: unit(0, 1, 0), score: 0.5 },
      { vector: unit(0, 0, 1), score: 0.25 },
    ];
    close(alphaQueryExpansion(q, results, { k: 2, alpha: 1 }), unit(1, 0.5, 0.25));
    close(alphaQueryExpansion(q, results, { k: 2, alpha: 2 }), unit(1, 0.25, 0.0625));
    close(alphaQueryExpansion(q, results, { k: 1, alpha: 1 }), unit(1, 0.5, 0)); // k limits the neighbours
  });

  it("with α = 0 is plain average query expansion, and ignores negative similarities", () => {
    const q = unit(1, 0);
    close(expand(q, [{ vector: unit(0, 1), score: 0.9 }], { k: 1, alpha: 0 }), unit(1, 1));
    close(expand(q, [{ vector: unit(0, 1), score: -0.4 }], { k: 1, alpha: 3 }), q);
  });

  it("refuses bad options and neighbours of another dimension", () => {
    assert.throws(() => expand(unit(1, 0), [], { k: -1, alpha: 1 }), isLookalikeError);
    assert.throws(() => expand(unit(1, 0), [{ vector: unit(1, 0, 0), score: 1 }], { k: 1, alpha: 1 }), isLookalikeError);
  });
});

describe("database-side augmentation", () => {
  it("expands every vector with its own neighbours, from the original vectors only", () => {
    const vectors = [unit(1, 0, 0), unit(1, 1, 0), unit(0, 0.2, 1)];
    const neighbours = nearestNeighbours(vectors, 1);
    assert.deepEqual(
      neighbours.map((n) => n[0]!.index),
      [1, 0, 1],
    );
    const augmented = augmentDatabase(vectors, neighbours, { k: 1, alpha: 1 });
    close(augmented[0]!, expand(vectors[0]!, [{ vector: vectors[1]!, score: neighbours[0]![0]!.score }], { k: 1, alpha: 1 }));
    // Vector 1's expansion uses the original vector 0, not its augmented version.
    close(augmented[1]!, expand(vectors[1]!, [{ vector: vectors[0]!, score: neighbours[1]![0]!.score }], { k: 1, alpha: 1 }));
    assert.ok(augmented.every((v) => Math.abs(Math.hypot(...v) - 1) < 1e-6));
  });

  it("refuses a vector listed as its own neighbour and a neighbour list of the wrong length", () => {
    const vectors = [unit(1, 0), unit(0, 1)];
    assert.throws(() => augmentDatabase(vectors, [[{ index: 0, score: 1 }], []], { k: 1, alpha: 1 }), isLookalikeError);
    assert.throws(() => augmentDatabase(vectors, [[]], { k: 1, alpha: 1 }), isLookalikeError);
  });

  it("nearestNeighbours returns the k most similar others, best first", () => {
    const random = seededRandom(11);
    const vectors = Array.from({ length: 30 }, () => randomUnitVector(8, random));
    const lists = nearestNeighbours(vectors, 4);
    lists.forEach((list, i) => {
      assert.equal(list.length, 4);
      assert.ok(list.every((n) => n.index !== i));
      for (let j = 1; j < list.length; j++) assert.ok(list[j - 1]!.score >= list[j]!.score);
      const worstKept = list.at(-1)!.score;
      const others = vectors
        .map((v, j) => ({ j, s: v.reduce((a, x, d) => a + x * vectors[i]![d]!, 0) }))
        .filter((x) => x.j !== i && !list.some((n) => n.index === x.j));
      assert.ok(others.every((o) => o.s <= worstKept + 1e-6));
    });
  });

  it("the benchmark's matrix versions agree with the library's functions", async () => {
    const random = seededRandom(12);
    const vectors = Array.from({ length: 25 }, () => randomUnitVector(16, random));
    const data = new Float32Array(25 * 16);
    vectors.forEach((v, i) => data.set(v, i * 16));
    const matrix = { rows: 25, cols: 16, data };
    const options = { k: 3, alpha: 3 };
    const reference = augmentDatabase(vectors, nearestNeighbours(vectors, 3), options);
    const fast = await augmentRows(matrix, options);
    reference.forEach((v, i) => close(fast.data.subarray(i * 16, (i + 1) * 16), v, 1e-5));
    const neighbours = nearestNeighbours(vectors, 2);
    const expanded = expandRows(matrix, matrix, neighbours, options);
    vectors.forEach((v, i) =>
      close(
        expanded.data.subarray(i * 16, (i + 1) * 16),
        expand(
          v,
          neighbours[i]!.map((n) => ({ vector: vectors[n.index]!, score: n.score })),
          options,
        ),
        1e-6,
      ),
    );
  });
});
