/**
 * engine.analyze results on disk, outside the repository (os.tmpdir() unless
 * LOOKALIKE_ANALYSIS_CACHE says otherwise), keyed by the image's bytes, the analyze options and
 * fingerprintVersion() — a hash of all of src/retrieval, the model file and the native libraries —
 * so a change to the fingerprint's code is a cache miss, never a stale hit. Values are stored with
 * v8.serialize, which keeps typed arrays, Buffers and bigints; a result that is not plain data
 * (a class instance would come back without its methods) is never cached.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { deserialize, serialize } from "node:v8";
import type { AnalyzedImage, AnalyzeOptions, LookalikeEngine } from "../../src/retrieval/engine.ts";

/** Versions kept side by side (others are deleted): a morning's worth of engine changes. */
const KEEP_VERSIONS = 4;

export const analysisCacheRoot = (): string =>
  path.resolve(process.env.LOOKALIKE_ANALYSIS_CACHE || path.join(tmpdir(), "lookalike-analysis-cache"));

/** Plain objects, arrays, typed arrays, Buffers and primitives only: what v8.serialize round-trips exactly. */
export function isPlainData(value: unknown): boolean {
  if (value === null || typeof value !== "object") return typeof value !== "function" && typeof value !== "symbol";
  if (ArrayBuffer.isView(value)) return true;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return false;
  return Object.values(value).every(isPlainData);
}

export class AnalysisCache {
  hits = 0;
  misses = 0;
  uncacheable = 0;
  /** Off: every analysis is computed and nothing is kept (the code changed under the running process). */
  private enabled = true;
  private readonly written: string[] = [];
  /** A few files whose analysis came from the cache, with their options (spot-checked against a fresh analysis). */
  readonly cachedFiles: { readonly file: string; readonly options: AnalyzeOptions }[] = [];

  private constructor(
    private readonly dir: string,
    readonly version: string,
  ) {}

  static async open(version: string): Promise<AnalysisCache> {
    const root = analysisCacheRoot();
    const dir = path.join(root, version.slice(0, 24));
    await mkdir(dir, { recursive: true });
    const now = new Date();
    await utimes(dir, now, now); // in use: not pruned by a concurrent run
    await prune(root, dir);
    return new AnalysisCache(dir, version);
  }

  /** engine.analyze(bytes of `file`, options), from the cache when it was computed before by the same code. */
  async analyze(engine: LookalikeEngine, file: string, options: AnalyzeOptions): Promise<AnalyzedImage> {
    const bytes = await readFile(file);
    const key = createHash("sha256").update(this.version).update(JSON.stringify(options)).update(bytes).digest("hex");
    const entry = path.join(this.dir, key.slice(0, 2), `${key}.bin`);
    const cached = this.enabled ? await readFile(entry).catch(() => undefined) : undefined;
    if (cached) {
      this.hits++;
      if (this.cachedFiles.length < 8) this.cachedFiles.push({ file, options });
      return deserialize(cached) as AnalyzedImage;
    }
    this.misses++;
    const image = await engine.analyze(bytes, options);
    if (!this.enabled) return image;
    if (!isPlainData(image)) {
      this.uncacheable++;
      return image;
    }
    await mkdir(path.dirname(entry), { recursive: true });
    // Written aside and renamed: a run killed mid-write leaves no truncated entry behind.
    const partial = `${entry}.${process.pid}.partial`;
    await writeFile(partial, serialize(image));
    await rename(partial, entry);
    this.written.push(entry);
    return image;
  }

  /**
   * Stops using the cache and deletes what this run wrote to it: for when src/retrieval changed
   * while the process ran (its worker threads may have loaded newer code than its main thread).
   */
  async forgetThisRun(): Promise<void> {
    this.enabled = false;
    await Promise.all(this.written.splice(0).map((entry) => rm(entry, { force: true })));
  }
}

/** Deletes version folders beyond the most recently used few that no run has opened for an hour. */
async function prune(root: string, current: string): Promise<void> {
  const dirs = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => path.join(root, d.name));
  const dated = await Promise.all(
    dirs.map(async (dir) => ({
      dir,
      mtime: dir === current ? Date.now() : ((await stat(dir).catch(() => undefined))?.mtimeMs ?? Date.now()),
    })),
  );
  const stale = dated
    .sort((a, b) => b.mtime - a.mtime)
    .slice(KEEP_VERSIONS)
    .filter((d) => Date.now() - d.mtime > 3_600_000);
  await Promise.all(stale.map(({ dir }) => rm(dir, { recursive: true, force: true })));
}

/** Largest difference between two analyses (numbers, typed arrays), or Infinity when their shapes differ. */
export function analysisDifference(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b);
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const [x, y] = [a as unknown as ArrayLike<number | bigint>, b as unknown as ArrayLike<number | bigint>];
    if (x.length !== y.length) return Number.POSITIVE_INFINITY;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, analysisDifference(x[i], y[i]));
    return worst;
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    let worst = 0;
    for (const k of keys) worst = Math.max(worst, analysisDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
    return worst;
  }
  return Object.is(a, b) ? 0 : Number.POSITIVE_INFINITY;
}
