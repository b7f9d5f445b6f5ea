/**
 * Dense row-major float32 matrices, and their products through onnxruntime's MatMul kernels.
 * A JS dot-product loop runs at ~3 GFLOP/s here, onnxruntime's (MLAS) at ~90: every similarity
 * matrix in the benchmark is a product, and this makes the whole grid of variants affordable.
 * The session is created on the main thread, which onnxruntime-node 1.30 only crashes for very
 * long command lines (STACK-NOTES); the benchmark's are short.
 */
import ort from "onnxruntime-node";
import { transposedProductGraph } from "../../src/retrieval/embedder/graph.ts";

export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

export function matrixOf(vectors: readonly Float32Array[], cols = vectors[0]?.length ?? 0): Matrix {
  const data = new Float32Array(vectors.length * cols);
  vectors.forEach((v, i) => {
    if (v.length !== cols) throw new Error(`row ${i} has ${v.length} values, expected ${cols}`);
    data.set(v, i * cols);
  });
  return { rows: vectors.length, cols, data };
}

export const rowOf = (m: Matrix, i: number): Float32Array => m.data.subarray(i * m.cols, (i + 1) * m.cols);

export function selectRows(m: Matrix, indices: readonly number[]): Matrix {
  const data = new Float32Array(indices.length * m.cols);
  indices.forEach((r, i) => data.set(rowOf(m, r), i * m.cols));
  return { rows: indices.length, cols: m.cols, data };
}

let session: Promise<ort.InferenceSession> | undefined;

/** Rows of A per call: bounds the output block (rows × b.rows floats). */
const BLOCK_ROWS = 2048;

/** A·Bᵀ: entry (i, j) is the dot product of row i of `a` and row j of `b`. */
export async function multiplyTransposed(a: Matrix, b: Matrix): Promise<Matrix> {
  if (a.cols !== b.cols) throw new Error(`cannot multiply ${a.rows}×${a.cols} by (${b.rows}×${b.cols})ᵀ`);
  const out = new Float32Array(a.rows * b.rows);
  if (a.rows === 0 || b.rows === 0) return { rows: a.rows, cols: b.rows, data: out };
  session ??= ort.InferenceSession.create(transposedProductGraph(), { intraOpNumThreads: 0, enableCpuMemArena: false });
  const s = await session;
  const right = new ort.Tensor("float32", b.data, [b.rows, b.cols]);
  for (let start = 0; start < a.rows; start += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, a.rows - start);
    const left = new ort.Tensor("float32", a.data.subarray(start * a.cols, (start + rows) * a.cols), [rows, a.cols]);
    const result = await s.run({ a: left, b: right });
    out.set(result.product!.data as Float32Array, start * b.rows);
  }
  return { rows: a.rows, cols: b.rows, data: out };
}

/** Aᵀ·A (the scatter matrix of the rows), via the same kernel on the transpose. */
export async function gram(a: Matrix): Promise<Matrix> {
  return multiplyTransposed(transpose(a), transpose(a));
}

export function transpose(a: Matrix): Matrix {
  const data = new Float32Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) data[j * a.rows + i] = a.data[i * a.cols + j]!;
  return { rows: a.cols, cols: a.rows, data };
}
