/**
 * Instance retrieval (museum paintings: each re-photographed query has one painting in the db) and
 * leave-one-out category retrieval (flowers, CIFAR-10), for every contender.
 */

import type { Classifier } from "../contenders/cam.ts";
import { contenders, type Family } from "../contenders/registry.ts";
import { cifar, flowers, type ImageItem, museum, QUICK_SALT, sample } from "../lib/datasets.ts";
import type { FeatureCache } from "../lib/feature-cache.ts";
import { categoryMetrics, instanceMetrics } from "../lib/metrics.ts";
import { qualityInput } from "./input.ts";

export interface RetrievalRow {
  readonly name: string;
  readonly family: Family;
  readonly shipped: boolean;
  /** Metric name → value (top1/top5/map for instance, p10/map for category). */
  readonly metrics: Record<string, number>;
}

export interface RetrievalResult {
  readonly dataset: string;
  readonly queries: number;
  readonly stored: number;
  readonly rows: RetrievalRow[];
  readonly learnedNote: string;
}

type Log = (line: string) => void;

/**
 * The quick slice (the test suite's smoke run): 12 museum queries among 36 paintings (theirs and
 * others), 50 flowers and 60 CIFAR images (5 and 10 classes, evenly).
 */
const QUICK = { museumQueries: 12, museumDb: 36, flowers: 50, cifar: 60 };

/** The paintings the queries show, then others in hash order, `count` in all (in db order). */
function haystack(db: readonly ImageItem[], queries: readonly ImageItem[], count: number): ImageItem[] {
  const relevant = new Set(queries.map((q) => q.label));
  const others = sample(
    db.filter((d) => !relevant.has(d.id)),
    count - relevant.size,
    QUICK_SALT,
  );
  const kept = new Set([...relevant, ...others.map((d) => d.id)]);
  return db.filter((d) => kept.has(d.id));
}

/** The museum queries and paintings a run uses (all of them, or the quick slice). */
export async function museumSets(quick: boolean): Promise<{ queries: ImageItem[]; db: ImageItem[] }> {
  const set = await museum();
  const queries = quick ? sample(set.queries, QUICK.museumQueries, QUICK_SALT) : set.queries;
  return { queries, db: quick ? haystack(set.db, queries, QUICK.museumDb) : set.db };
}

/** The flowers or CIFAR images a run uses (all of them, or the quick slice). */
export async function categorySet(which: "flowers" | "cifar", quick: boolean): Promise<ImageItem[]> {
  const all = which === "flowers" ? await flowers() : await cifar();
  return quick ? sample(all, QUICK[which], QUICK_SALT) : all;
}

export async function museumRetrieval(cache: FeatureCache, classifier: Classifier, quick: boolean, log: Log): Promise<RetrievalResult> {
  const { queries, db } = await museumSets(quick);
  const { input, learnedNote } = await qualityInput(cache, classifier, { stored: db, queries, compareModes: true, quick });
  const relevant = queries.map((q) => db.findIndex((d) => d.id === q.label));
  const rows: RetrievalRow[] = [];
  for (const c of contenders(input)) {
    const m = await instanceMetrics(await c.make(), relevant);
    rows.push({ name: c.name, family: c.family, shipped: c.shipped === true, metrics: { top1: m.top1, top5: m.top5, map: m.map } });
  }
  log(`  museum: ${rows.length} contenders`);
  return { dataset: "museum-paintings-mcv", queries: queries.length, stored: db.length, rows, learnedNote: learnedNote() };
}

export async function categoryRetrieval(
  cache: FeatureCache,
  classifier: Classifier,
  which: "flowers" | "cifar",
  quick: boolean,
  log: Log,
): Promise<RetrievalResult> {
  const stored = await categorySet(which, quick);
  // Square images: every resize mode gives the model the same input, so modes are not compared.
  const { input, learnedNote } = await qualityInput(cache, classifier, { stored, queries: "stored", compareModes: false, quick });
  const labels = stored.map((s) => s.label!);
  const rows: RetrievalRow[] = [];
  for (const c of contenders(input)) {
    const m = await categoryMetrics(await c.make(), labels);
    rows.push({ name: c.name, family: c.family, shipped: c.shipped === true, metrics: { p10: m.precisionAt10, map: m.map } });
  }
  log(`  ${which}: ${rows.length} contenders`);
  return {
    dataset: which === "flowers" ? "flowers5-128px" : "cifar10-test-5k",
    queries: stored.length,
    stored: stored.length,
    rows,
    learnedNote: learnedNote(),
  };
}
