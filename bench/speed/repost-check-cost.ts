/**
 * What a repost check costs the main thread, with its matrix products (the spatial verification's
 * cell scores, the whitening projections) computed in the inference worker (shipped) and in this
 * thread (as without a model in the process): the real engine on the shared model, `n` photos of
 * photo-pool-cc stored with their parts, then a 60 % corner crop of each of the first 16 checked
 * against them, alternating the two ways twice. A collection this small has no whitening yet, so
 * only the cell scores move.
 * Main-thread time is the event loop's busy time per check (performance.eventLoopUtilization).
 *
 *   node --import tsx bench/speed/repost-check-cost.ts [stored photos, default 60]
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { LookalikeEngine } from "../../src/retrieval/engine.ts";
import { MODELS_DIR, photoPool, spread } from "./datasets.ts";

const stored = Number(process.argv[2] ?? 60);
const files = spread(await photoPool(), stored);
const db = await mkdtemp(path.join(os.tmpdir(), "lookalike-check-cost-"));
const engine = await LookalikeEngine.open({ db, modelsDir: MODELS_DIR, download: false });
try {
  const images = await Promise.all(files.map((file) => engine.analyze(file, { parts: true })));
  await engine.add(
    "photos",
    images.map((image, i) => ({ image, meta: { id: String(i), source: files[i]! } })),
  );
  const queries = await Promise.all(
    files.slice(0, 16).map(async (file) => {
      const { width = 0, height = 0 } = await sharp(file).metadata();
      const crop = await sharp(file)
        .extract({ left: 0, top: 0, width: Math.round(width * 0.6), height: Math.round(height * 0.6) })
        .jpeg()
        .toBuffer();
      return engine.analyze(crop, { flipped: true, centre: true, regions: true, parts: true });
    }),
  );
  const analyzer = engine.analyzer as { product?: unknown };
  const inWorker = analyzer.product;
  for (const where of ["inference worker", "main thread", "inference worker", "main thread"] as const) {
    // Without the analyzer's product the engine computes the products in this thread.
    Object.defineProperty(analyzer, "product", { value: where === "main thread" ? undefined : inWorker, configurable: true });
    const before = performance.eventLoopUtilization();
    const started = performance.now();
    let matched = 0;
    for (const query of queries) if ((await engine.checkRepost(query, { collection: "photos" })).match) matched++;
    const busy = performance.eventLoopUtilization(before).active / queries.length;
    const wall = (performance.now() - started) / queries.length;
    console.log(
      `matrix products in the ${where}: ${wall.toFixed(1)} ms per check, main thread busy ${busy.toFixed(1)} ms; ${matched} of ${queries.length} matched`,
    );
  }
} finally {
  await engine.close();
  await rm(db, { recursive: true, force: true });
}
