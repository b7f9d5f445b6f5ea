/**
 * Where the benchmark reads shared data and keeps its cache. The shared sets live beside the
 * repository (…/main/bench/lib → …/shared) unless LOOKALIKE_SHARED_DIR says otherwise; the cache is
 * bench/.cache/ unless LOOKALIKE_BENCH_CACHE says otherwise. It is git-ignored and safe to delete
 * (everything in it is recomputed deterministically).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";

const besideRepo = fileURLToPath(new URL("../../../shared/", import.meta.url));

export const sharedDir: string = path.resolve(process.env.LOOKALIKE_SHARED_DIR || besideRepo);
export const datasetsDir: string = path.join(sharedDir, "datasets");
export const modelsDir: string = path.join(sharedDir, "models");
const besideBench = fileURLToPath(new URL("../.cache/", import.meta.url));

/**
 * The cache directory, read when it is used (not when this module loads), so a caller can point
 * LOOKALIKE_BENCH_CACHE elsewhere first: the test suite gives each run a fresh temp directory.
 */
export const cacheDir = (): string => path.resolve(process.env.LOOKALIKE_BENCH_CACHE || besideBench);
