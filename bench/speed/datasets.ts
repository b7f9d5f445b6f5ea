/** The shared image sets the speed benchmark reads (read-only; never copied into the repo). */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";

export const DATASETS = process.env.LOOKALIKE_DATASETS ?? "/work/shared/datasets";
export const MODELS_DIR = process.env.LOOKALIKE_MODELS_DIR ?? "/work/shared/models";

async function jpegs(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && /\.jpe?g$/i.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** Real ≤1024-px photos (39 of them). */
export const photoPool = () => jpegs(path.join(DATASETS, "photo-pool-cc", "images"));
/** Paintings, ≤512 px (287). */
export const museumDb = () => jpegs(path.join(DATASETS, "museum-paintings-mcv", "db"));
/** Flower photos, 128 px (1,500). */
export const flowers = () => jpegs(path.join(DATASETS, "flowers5-128px", "images"));
/** CIFAR-10 test images, 32 px (5,000). */
export const cifar = () => jpegs(path.join(DATASETS, "cifar10-test-5k", "images"));

/** The museum set's query photos (re-photographed, cropped, shifted copies of db paintings). */
export async function museumQueries(): Promise<string[]> {
  const root = path.join(DATASETS, "museum-paintings-mcv");
  const csv = await readFile(path.join(root, "queries.csv"), "utf8");
  return csv
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => path.join(root, "queries", line.split(",")[0]!));
}

/** Every n-th item, then the first `limit` of those: a spread-out, deterministic subset. */
export function spread<T>(items: readonly T[], limit: number): T[] {
  if (items.length <= limit) return [...items];
  const step = items.length / limit;
  return Array.from({ length: limit }, (_, i) => items[Math.floor(i * step)]!);
}
