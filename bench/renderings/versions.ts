/**
 * Version strings that change whenever what they name changes: cached renderings and cached
 * analyses are keyed by them, so a cache can never outlive the code that produced it (the
 * engine's fingerprint changes during the day while src/retrieval is being worked on).
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { modelsDir } from "../lib/paths.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));

/** Every file under `dir`, recursively, sorted (so the hash does not depend on listing order). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** sha256 over the paths (relative to the repository) and contents of `files`, plus `extra` strings. */
export async function contentHash(files: readonly string[], extra: readonly string[] = []): Promise<string> {
  const hash = createHash("sha256");
  for (const file of files)
    hash
      .update(path.relative(repo, file))
      .update("\0")
      .update(await readFile(file))
      .update("\0");
  for (const e of extra) hash.update(e).update("\0");
  return hash.digest("hex");
}

/** Read from node_modules directly: sharp does not export its package.json. */
const packageVersion = async (name: string): Promise<string> =>
  `${name}@${(JSON.parse(await readFile(path.join(repo, "node_modules", name, "package.json"), "utf8")) as { version: string }).version}`;

/** The renderings' generator: the drawing code (kinds/), the repost edits and overlays it reuses, and sharp. */
export async function rendererVersion(): Promise<string> {
  const own = await filesUnder(path.join(repo, "bench", "renderings", "kinds"));
  const reused = [
    ...["edits.ts", "overlays.ts"].map((f) => path.join(repo, "bench", "repost", f)),
    path.join(repo, "bench", "lib", "random.ts"),
    path.join(repo, "bench", "renderings", "generate.ts"),
  ];
  return contentHash([...own, ...reused], [await packageVersion("sharp")]);
}

/**
 * Parts of src/retrieval an analysed image cannot depend on (storage, search, verdicts, the queue):
 * changing them keeps the cache. `spotCheck` re-analyses a few cached files, so a file wrongly
 * listed here fails the run instead of passing stale analyses.
 */
const NOT_ANALYSIS = [
  /^store\//,
  /^queue\//,
  /^whitening/,
  /^(engine|reposts|thresholds|filters|errors-http)\.ts$/,
  /^regions\/(evidence|verify|lineup|describe)\.ts$/,
];

/** What an analysed image depends on: the analysis code in src/retrieval, the model files, the native libraries. */
export async function fingerprintVersion(): Promise<string> {
  const root = path.join(repo, "src", "retrieval");
  const sources = (await filesUnder(root)).filter((file) => !NOT_ANALYSIS.some((pattern) => pattern.test(path.relative(root, file))));
  const modelFiles = (await readdir(modelsDir)).filter((f) => f.endsWith(".onnx")).map((f) => path.join(modelsDir, f));
  return contentHash([...sources, ...modelFiles], [await packageVersion("sharp"), await packageVersion("onnxruntime-node"), process.arch]);
}
