/**
 * Fitted whitenings on disk, keyed by what determines them: the rows' bytes, the options and the
 * source of src/retrieval/whitening.ts itself. An eigensolve of a 1280 × 1280 covariance takes
 * seconds and a full run needs dozens; a re-run reads them back, bit for bit the same result.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Whitening, WhiteningOptions } from "../../src/retrieval/whitening.ts";
import type { Matrix } from "./matrix.ts";
import { cacheDir } from "./paths.ts";

const librarySource = readFile(fileURLToPath(new URL("../../src/retrieval/whitening.ts", import.meta.url)));

async function keyOf(m: Matrix, options: WhiteningOptions): Promise<string> {
  return createHash("sha256")
    .update(await librarySource)
    .update(JSON.stringify({ rows: m.rows, cols: m.cols, options }))
    .update(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength))
    .digest("hex");
}

function encode(w: Whitening): Buffer {
  const header = Buffer.from(JSON.stringify({ inputDimension: w.inputDimension, outputDimension: w.outputDimension }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return Buffer.concat([length, header, bytes(w.mean), bytes(w.projection), bytes(w.eigenvalues)]);
}

function decode(buffer: Buffer): Whitening {
  const headerLength = buffer.readUInt32LE(0);
  const { inputDimension, outputDimension } = JSON.parse(buffer.toString("utf8", 4, 4 + headerLength)) as Pick<
    Whitening,
    "inputDimension" | "outputDimension"
  >;
  // Copy out of the file buffer: typed arrays need aligned offsets.
  const body = new Uint8Array(buffer.subarray(4 + headerLength));
  const mean = new Float32Array(body.buffer, 0, inputDimension);
  const projection = new Float32Array(body.buffer, inputDimension * 4, inputDimension * outputDimension);
  const eigenvalues = new Float64Array(body.buffer.slice((inputDimension + inputDimension * outputDimension) * 4));
  return { inputDimension, outputDimension, mean, projection, eigenvalues };
}

export async function cachedWhitening(m: Matrix, options: WhiteningOptions, fit: () => Promise<Whitening>): Promise<Whitening> {
  const file = path.join(cacheDir(), "whitening", `${await keyOf(m, options)}.bin`);
  const stored = await readFile(file).catch(() => undefined);
  if (stored) return decode(stored);
  const w = await fit();
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, encode(w));
  return w;
}
