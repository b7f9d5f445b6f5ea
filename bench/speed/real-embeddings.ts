/**
 * Real vectors (shipped pooling) of real images (CIFAR-10, flowers, museum paintings), embedded with the shipped
 * engine: the data the recall of the ANN index is judged on, and the centres of the synthetic rows.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { mapOrdered } from "../../src/cli/concurrency.ts";
import { LookalikeEngine } from "../../src/retrieval/engine.ts";
import { cifar, flowers, MODELS_DIR, museumDb, museumQueries, spread } from "./datasets.ts";

export interface RealEmbeddings {
  /** Rows of the real table (everything but the held-out queries). */
  readonly rows: Float32Array[];
  /** Held-out images of the same sets ("novel" queries) then the museum query photos ("repost" queries). */
  readonly queries: Float32Array[];
  /** The first `novel` queries are held-out images; the rest are museum query photos. */
  readonly novel: number;
  readonly images: number;
  readonly seconds: number;
}

export async function embedRealImages(quick: boolean, log: (line: string) => void): Promise<RealEmbeddings> {
  const [c, f, m, q] = await Promise.all([cifar(), flowers(), museumDb(), museumQueries()]);
  const tableFiles = quick ? [...spread(c, 400), ...spread(f, 200), ...m] : [...c, ...f, ...m];
  const queryFiles = quick ? spread(q, 30) : q;
  const all = [...tableFiles, ...queryFiles];
  const dbDir = await mkdtemp(path.join(os.tmpdir(), "lookalike-bench-embed-"));
  const engine = await LookalikeEngine.open({ db: dbDir, modelsDir: MODELS_DIR, download: false });
  const vectors: Float32Array[] = [];
  const started = performance.now();
  try {
    await mapOrdered(
      all,
      32,
      (file) => engine.analyze(file),
      (image) => {
        vectors.push(image.vector);
        if (vectors.length % 1000 === 0) log(`  embedded ${vectors.length}/${all.length}`);
      },
    );
  } finally {
    await engine.close();
    await rm(dbDir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const tableVectors = vectors.slice(0, tableFiles.length);
  const heldOut = new Set(
    spread(
      tableVectors.map((_, i) => i),
      quick ? 40 : 200,
    ),
  );
  return {
    rows: tableVectors.filter((_, i) => !heldOut.has(i)),
    queries: [...[...heldOut].map((i) => tableVectors[i]!), ...vectors.slice(tableFiles.length)],
    novel: heldOut.size,
    images: all.length,
    seconds,
  };
}
