/**
 * The shared evaluation sets, read in the formats their READMEs describe. Every image is an
 * `ImageItem`: a dataset name plus an id that is unique within it (the path relative to the set),
 * which together key every cache entry.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { datasetsDir } from "./paths.ts";
import { seedOf } from "./random.ts";

export interface ImageItem {
  readonly dataset: string;
  readonly id: string;
  readonly file: string;
  /** Category (flowers, cifar) or the instance an item shows (museum, reposts). */
  readonly label?: string;
}

const dir = (...parts: string[]) => path.join(datasetsDir, ...parts);

async function labelled(dataset: string, folder: string): Promise<ImageItem[]> {
  const csv = await readFile(dir(folder, "labels.csv"), "utf8");
  return csv
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => {
      const [file, label] = line.split(",");
      return { dataset, id: file!, file: dir(folder, file!), label: label! };
    });
}

export const flowers = (): Promise<ImageItem[]> => labelled("flowers", "flowers5-128px");
export const cifar = (): Promise<ImageItem[]> => labelled("cifar", "cifar10-test-5k");

export interface MuseumSet {
  readonly db: ImageItem[];
  /** Each query's label is its one relevant db id. */
  readonly queries: ImageItem[];
}

export async function museum(): Promise<MuseumSet> {
  const root = dir("museum-paintings-mcv");
  const gt = JSON.parse(await readFile(path.join(root, "gt.json"), "utf8")) as Record<string, string[]>;
  const dbFiles = (await readdir(path.join(root, "db"))).filter((f) => f.endsWith(".jpg")).sort();
  const db = dbFiles.map((f) => ({ dataset: "museum", id: f, file: path.join(root, "db", f), label: f }));
  const queries = Object.keys(gt)
    .filter((q) => !q.endsWith("_mask.png")) // masks are annotations, not queries
    .sort()
    .map((q) => ({ dataset: "museum", id: `queries/${q}`, file: path.join(root, "queries", q), label: gt[q]![0]! }));
  return { db, queries };
}

export async function photoPool(): Promise<ImageItem[]> {
  const root = dir("photo-pool-cc", "images");
  const files = (await readdir(root)).filter((f) => f.endsWith(".jpg")).sort();
  return files.map((f) => ({ dataset: "photo-pool", id: f, file: path.join(root, f), label: f }));
}

export interface AuglySet {
  readonly original: ImageItem;
  readonly transformed: ImageItem[];
  readonly others: ImageItem[];
  readonly screenshotTemplates: { mobile: string; web: string; boxes: Record<string, [number, number, number, number]> };
}

export async function augly(): Promise<AuglySet> {
  const root = dir("peer-tests", "augly");
  const item = (id: string, label: string) => ({ dataset: "augly", id, file: path.join(root, id), label });
  const transformed = (await readdir(path.join(root, "expected_from_dfdc_1")))
    .filter((f) => f.endsWith(".jpg"))
    .sort()
    .map((f) => item(`expected_from_dfdc_1/${f}`, "dfdc_1"));
  const templates = path.join(root, "screenshot_templates");
  return {
    original: item("inputs/dfdc_1.jpg", "dfdc_1"),
    transformed,
    others: [item("inputs/dfdc_2.jpg", "dfdc_2"), item("inputs/dfdc_3.jpg", "dfdc_3")],
    screenshotTemplates: {
      mobile: path.join(templates, "mobile.png"),
      web: path.join(templates, "web.png"),
      boxes: JSON.parse(await readFile(path.join(templates, "bboxes.json"), "utf8")),
    },
  };
}

export interface ImagededupSet {
  readonly base: ImageItem[];
  /** Copies of ukbench00120 (label "ukbench00120"), ukbench09268 and its corrupt twin. */
  readonly mixed: ImageItem[];
}

export async function imagededup(): Promise<ImagededupSet> {
  const root = dir("peer-tests", "imagededup");
  const group = (f: string) => f.replace(/_(hflip|resize|rotation|gray|corrupt)\.jpg$/, ".jpg").replace(".jpg", "");
  const item = (id: string) => ({ dataset: "imagededup", id, file: path.join(root, id), label: group(path.basename(id)) });
  const base = (await readdir(path.join(root, "base_images"))).sort().map((f) => item(`base_images/${f}`));
  const mixed = (await readdir(path.join(root, "mixed_images"))).sort().map((f) => item(`mixed_images/${f}`));
  return { base, mixed: [...mixed, item("ukbench00120_gray.jpg")] };
}

/** Other peer fixtures (blockhash-js test images): real photos and clip art, used as distractors. */
export async function blockhashImages(): Promise<ImageItem[]> {
  const root = dir("peer-tests", "blockhash-js");
  const files = (await readdir(root)).filter((f) => /\.(jpg|png)$/.test(f)).sort();
  return files.map((f) => ({ dataset: "blockhash-js", id: f, file: path.join(root, f), label: f }));
}

/**
 * A deterministic sample of `count` items, spread over labels when there are labels: order by a
 * hash of the id within each label, then take labels round-robin.
 */
export function sample(items: readonly ImageItem[], count: number, salt = "sample"): ImageItem[] {
  if (count >= items.length) return items.slice();
  const byLabel = new Map<string, ImageItem[]>();
  for (const item of items) {
    const key = item.label ?? "";
    byLabel.set(key, [...(byLabel.get(key) ?? []), item]);
  }
  // Hash order within each label, and labels in the hash order of their first item, so a set
  // whose labels are all distinct (museum) is sampled at random too, not alphabetically.
  const byHash = (group: ImageItem[]) => group.map((item) => ({ item, key: seedOf(salt, item.id) })).sort((a, b) => a.key - b.key);
  const groups = [...byLabel.values()]
    .map(byHash)
    .sort((a, b) => a[0]!.key - b[0]!.key)
    .map((group) => group.map((x) => x.item));
  const out: ImageItem[] = [];
  for (let round = 0; out.length < count; round++) {
    for (const group of groups) if (round < group.length && out.length < count) out.push(group[round]!);
  }
  return out;
}

/**
 * The salt of the quick slices' samples (quality, peer fixtures, repost distractors): one hash
 * order for all, so a smaller slice of a set is a prefix of a larger one and shares its feature maps.
 */
export const QUICK_SALT = "quick";

/** Ids are only unique per dataset; this key is unique across all of them. */
export const itemKey = (item: Pick<ImageItem, "dataset" | "id">): string => `${item.dataset}:${item.id}`;
