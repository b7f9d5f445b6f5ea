import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as lancedb from "@lancedb/lancedb";
import { fitWhiteningOn } from "../bench/lib/vectors.ts";
import { isLookalikeError } from "../src/retrieval/errors.ts";
import { fitWhiteningInWorker } from "../src/retrieval/whitening/fit-in-worker.ts";
import { WhiteningRepository } from "../src/retrieval/whitening/repository.ts";
import { applyWhitening, fitWhitening, moments, symmetricEigen, type Whitening, whiteningFromMoments } from "../src/retrieval/whitening.ts";
import { tempDir } from "./support/temp.ts";
import { seededRandom } from "./support/vectors.ts";

/** n vectors in d dimensions with a few strong directions (like CNN descriptors: anisotropic). */
function anisotropic(n: number, d: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const offset = Float32Array.from({ length: d }, () => 3 * random());
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, (_, j) => offset[j]! + gauss() * (j < 3 ? 10 / (j + 1) : 0.5)));
}

function symmetric(n: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = random() * 2 - 1;
  return a;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Cosine similarities of every pair after whitening: independent of the sign/order of the axes. */
function pairwise(w: Whitening, vectors: readonly Float32Array[]): number[] {
  const white = vectors.map((v) => applyWhitening(w, v));
  return white.flatMap((a, i) => white.slice(i + 1).map((b) => dot(a, b)));
}

describe("symmetricEigen", () => {
  it("finds the eigenvalues of a known matrix, largest first", () => {
    // [[2,1,0],[1,2,0],[0,0,5]] has eigenvalues 5, 3, 1.
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, 5]), 3);
    assert.deepEqual(
      Array.from(values, (v) => Math.round(v * 1e9) / 1e9),
      [5, 3, 1],
    );
    assert.ok(Math.abs(Math.abs(vectors[2]!) - 1) < 1e-12, "the eigenvector of 5 is the third axis");
    assert.ok(Math.abs(Math.abs(vectors[3]!) - Math.SQRT1_2) < 1e-12 && Math.abs(vectors[3]! - vectors[4]!) < 1e-12);
  });

  it("satisfies A·v = λ·v with orthonormal vectors on a random matrix", () => {
    const n = 40;
    const a = symmetric(n, 3);
    const copy = Float64Array.from(a);
    const { values, vectors } = symmetricEigen(a, n);
    assert.deepEqual(a, copy, "the input is not modified");
    for (let r = 0; r < n; r++) {
      const v = vectors.subarray(r * n, (r + 1) * n);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(dot(a.subarray(i * n, (i + 1) * n), v) - values[r]! * v[i]!) < 1e-10);
      for (let s = 0; s <= r; s++) assert.ok(Math.abs(dot(v, vectors.subarray(s * n, (s + 1) * n)) - (s === r ? 1 : 0)) < 1e-10);
      if (r > 0) assert.ok(values[r - 1]! >= values[r]!);
    }
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i]!;
    assert.ok(Math.abs(trace - values.reduce((x, y) => x + y, 0)) < 1e-10);
  });

  it("handles degenerate input: a zero matrix and a 1×1 matrix", () => {
    assert.deepEqual(Array.from(symmetricEigen(new Float64Array(9), 3).values), [0, 0, 0]);
    assert.deepEqual(Array.from(symmetricEigen(Float64Array.from([7]), 1).values), [7]);
    assert.throws(() => symmetricEigen(new Float64Array(5), 2), isLookalikeError);
  });
});

describe("PCA-whitening", () => {
  it("makes the training vectors' covariance the identity (no shrinkage, power ½)", () => {
    const vectors = anisotropic(400, 8, 1);
    const w = fitWhitening(vectors, { shrinkage: 0, power: 0.5 });
    assert.equal(w.outputDimension, 8);
    // Project without the final normalisation: (x − μ)·Pᵀ.
    const projected = vectors.map((v) =>
      Array.from({ length: w.outputDimension }, (_, r) =>
        dot(
          w.projection.subarray(r * 8, (r + 1) * 8),
          Float32Array.from(v, (x, i) => x - w.mean[i]!),
        ),
      ),
    );
    for (let a = 0; a < 8; a++) {
      for (let b = 0; b < 8; b++) {
        const c = projected.reduce((s, p) => s + p[a]! * p[b]!, 0) / projected.length;
        assert.ok(Math.abs(c - (a === b ? 1 : 0)) < 1e-3, `cov[${a}][${b}] = ${c}`);
      }
    }
  });

  it("returns unit vectors and keeps the requested number of dimensions", () => {
    const vectors = anisotropic(100, 12, 2);
    const w = fitWhitening(vectors, { dimensions: 5 });
    const out = applyWhitening(w, vectors[0]!);
    assert.equal(out.length, 5);
    assert.ok(Math.abs(Math.hypot(...out) - 1) < 1e-6);
    assert.throws(() => applyWhitening(w, new Float32Array(3)), isLookalikeError);
  });

  it("with power 0 is a rotation: cosines of centred vectors are kept", () => {
    const vectors = anisotropic(50, 6, 3);
    const w = fitWhitening(vectors, { power: 0, shrinkage: 0 });
    const centred = vectors.map((v) => Float32Array.from(v, (x, i) => x - w.mean[i]!));
    const cos = (a: Float32Array, b: Float32Array) => dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
    assert.ok(Math.abs(cos(centred[0]!, centred[1]!) - dot(applyWhitening(w, vectors[0]!), applyWhitening(w, vectors[1]!))) < 1e-5);
  });

  it("finds the same whitening from the small Gram matrix when there are fewer vectors than dimensions", () => {
    const vectors = anisotropic(20, 30, 4); // n < d: the dual path
    const dual = fitWhitening(vectors, { shrinkage: 0.2 });
    const primal = whiteningFromMoments(moments(vectors), { shrinkage: 0.2 });
    assert.equal(dual.outputDimension, 19, "centring leaves n − 1 axes");
    const a = pairwise(dual, vectors);
    const b = pairwise(primal, vectors);
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-4, `pair ${i}: ${x} vs ${b[i]}`));
  });

  it("shrinkage pulls small eigenvalues up, so weak directions are amplified less", () => {
    const vectors = anisotropic(300, 8, 5);
    const none = fitWhitening(vectors, { shrinkage: 0 });
    const strong = fitWhitening(vectors, { shrinkage: 0.9 });
    const norm = (w: Whitening, r: number) => Math.hypot(...w.projection.subarray(r * 8, (r + 1) * 8));
    assert.ok(norm(strong, 7) / norm(strong, 0) < norm(none, 7) / norm(none, 0));
  });

  it("refuses fewer than two vectors, mixed dimensions and invalid options", () => {
    assert.throws(() => fitWhitening([new Float32Array(3)]), isLookalikeError);
    assert.throws(() => fitWhitening([new Float32Array(3), new Float32Array(4)]), isLookalikeError);
    assert.throws(() => fitWhitening(anisotropic(10, 4, 6), { shrinkage: 2 }), isLookalikeError);
  });

  it("the benchmark's matrix-kernel fit agrees with the library's, both paths", async () => {
    for (const [n, d] of [
      [200, 16],
      [12, 40],
    ] as const) {
      const vectors = anisotropic(n, d, 7 + n);
      const data = new Float32Array(n * d);
      vectors.forEach((v, i) => data.set(v, i * d));
      const fast = await fitWhiteningOn({ rows: n, cols: d, data }, { shrinkage: 0.1 });
      const reference = fitWhitening(vectors, { shrinkage: 0.1 });
      assert.equal(fast.outputDimension, reference.outputDimension);
      const a = pairwise(fast, vectors);
      const b = pairwise(reference, vectors);
      a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-3, `${n}×${d} pair ${i}: ${x} vs ${b[i]}`));
    }
  });
});

describe("a collection's whitening: fitted in a worker, kept in LanceDB", () => {
  it("fits in a worker thread exactly as on the main thread", async () => {
    const vectors = anisotropic(60, 24, 11);
    const inline = fitWhitening(vectors, { shrinkage: 0.1 });
    const inWorker = await fitWhiteningInWorker(vectors, { shrinkage: 0.1 });
    assert.deepEqual(inWorker.projection, inline.projection);
    assert.deepEqual(inWorker.mean, inline.mean);
  });

  it("reports a failed fit as a typed error and honours an abort", async () => {
    await assert.rejects(fitWhiteningInWorker([new Float32Array(4)], {}), (error) => isLookalikeError(error, "internal"));
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(fitWhiteningInWorker(anisotropic(10, 4, 1), {}, controller.signal), (error) => isLookalikeError(error, "aborted"));
  });

  it("round-trips through the repository, per collection, and is dropped with it", async () => {
    const db = await lancedb.connect(await tempDir());
    const repository = new WhiteningRepository(db);
    const whitening = fitWhitening(anisotropic(40, 16, 5));
    assert.equal(await repository.load("a"), null);
    await repository.save("a", { whitening, collectionRows: 40, sampleRows: 40, space: "m/mac/contain", fittedAt: new Date(5_000) });
    const loaded = await repository.load("a");
    assert.deepEqual(loaded?.whitening.projection, whitening.projection);
    assert.deepEqual(loaded?.whitening.eigenvalues, whitening.eigenvalues);
    assert.deepEqual([loaded?.collectionRows, loaded?.space, loaded?.fittedAt.getTime()], [40, "m/mac/contain", 5_000]);
    assert.equal(await repository.load("b"), null, "another collection sees nothing");
    // A refit replaces the row: still exactly one, the newest.
    await repository.save("a", { whitening, collectionRows: 80, sampleRows: 40, space: "m/mac/contain", fittedAt: new Date(6_000) });
    assert.equal((await repository.load("a"))?.collectionRows, 80);
    await repository.drop("a");
    assert.equal(await repository.load("a"), null);
    db.close();
  });
});
