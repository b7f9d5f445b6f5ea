/**
 * Every contender, by name, as a recipe for a Scorer over one evaluation's stored images and
 * queries. Both sections run this same list, so their tables have the same rows and every
 * contender goes through the same metric code.
 */
import { DEFAULT_POOLING } from "../../src/retrieval/descriptor.ts";
import { DEFAULT_WHITENING, type Whitening } from "../../src/retrieval/whitening.ts";
import type { DescribedCollection } from "../lib/collection.ts";
import { CNN_DESCRIPTORS, type CnnDescriptor, LIBRARY_POOLINGS } from "../lib/descriptors.ts";
import type { ResizeMode } from "../lib/feature-cache.ts";
import type { Matrix } from "../lib/matrix.ts";
import { DEFAULT_DATABASE_AUGMENTATION, DEFAULT_QUERY_EXPANSION } from "../lib/rerank.ts";
import { type CnnOptions, cnnScorer, hashScorer, histogramScorer, type QuerySide, type Scorer } from "../lib/scorers.ts";
import type { Signals } from "../lib/signals.ts";
import { HASH_NAMES, type HashName } from "./hashes.ts";
import { PWA_PARTS } from "./pwa.ts";

export type Family = "seed" | "hash" | "cnn" | "learned";

export interface Contender {
  readonly name: string;
  readonly family: Family;
  /** The configuration the product ships (DEFAULT_POOLING, the model's resize mode, flip on, nothing else). */
  readonly shipped?: boolean;
  /** Scores higher = more alike; for hashes the score is −Hamming distance. */
  make(): Promise<Scorer>;
}

export interface EvaluationInput {
  readonly storedSignals: readonly Signals[];
  readonly querySignals: readonly Signals[];
  /** Descriptors per resize mode; the shipped mode has every descriptor, the others the library poolings. */
  readonly described: ReadonlyMap<ResizeMode, DescribedCollection>;
  readonly shippedMode: ResizeMode;
  readonly self?: readonly (number | undefined)[];
  readonly skip?: readonly (ReadonlySet<number> | undefined)[];
  /** The learned projection for the shipped pooling (contender 4), when trained for this evaluation. */
  readonly learned?: () => Promise<{ learned: Whitening; pcaSameSize: Whitening }>;
}

export const DESCRIPTOR_LABEL: Record<CnnDescriptor, string> = {
  spoc: "SPoC",
  mac: "MAC",
  gem: "GeM",
  rmac: "R-MAC",
  crow: "CroW",
  cam: "CAM (class-weighted)",
  pwa: `PWA (${PWA_PARTS} parts)`,
};

const HASH_LABEL: Record<HashName, string> = {
  dhash64: "dHash 64 (ours)",
  phash64: "pHash 64 (ours)",
  "sharp-phash": "pHash 64 (sharp-phash)",
  blockhash256: "blockhash 256 (imghash → blockhash-core)",
};

const hashBits = (s: Signals, name: HashName) =>
  name === "dhash64" ? s.dhashBits : name === "phash64" ? s.phashBits : name === "sharp-phash" ? s.sharpPhash : s.blockhash;

const RERANKS = [
  { label: "", options: {} },
  { label: " + αQE", options: { aqe: DEFAULT_QUERY_EXPANSION } },
  { label: " + DBA + αQE", options: { dba: DEFAULT_DATABASE_AUGMENTATION, aqe: DEFAULT_QUERY_EXPANSION } },
] as const;

export function cnnVariantName(descriptor: CnnDescriptor, whiten: boolean, rerank = ""): string {
  return `${DESCRIPTOR_LABEL[descriptor]}${whiten ? " + PCAw" : ""}${rerank}`;
}

export function contenders(input: EvaluationInput): Contender[] {
  const shipped = input.described.get(input.shippedMode)!;
  const side = (d: DescribedCollection, name: CnnDescriptor, flip = true): QuerySide => ({
    queries: d.queries.matrices.get(name)!,
    mirrored: flip ? d.mirrored?.matrices.get(name) : undefined,
    self: input.self,
    skip: input.skip,
  });
  const stored = (d: DescribedCollection, name: CnnDescriptor): Matrix => d.stored.matrices.get(name)!;
  // PWA rows are parts × channels: whitening is fitted per part (see CnnOptions.partDimension).
  const parts = (d: DescribedCollection, name: CnnDescriptor) =>
    name === "pwa" ? { partDimension: stored(d, name).cols / d.partChannels.length } : {};
  const cnn =
    (d: DescribedCollection, name: CnnDescriptor, options: CnnOptions, flip = true) =>
    () =>
      cnnScorer(stored(d, name), side(d, name, flip), { ...options, ...parts(d, name) });

  const list: Contender[] = [
    {
      name: "seed demo: RGB histograms 3×256, Pearson",
      family: "seed",
      make: async () =>
        histogramScorer(
          input.querySignals.map((s) => s.histogram),
          input.storedSignals.map((s) => s.histogram),
        ),
    },
    ...HASH_NAMES.map(
      (h): Contender => ({
        name: HASH_LABEL[h],
        family: "hash",
        make: async () =>
          hashScorer(
            input.querySignals.map((s) => hashBits(s, h)),
            input.storedSignals.map((s) => hashBits(s, h)),
          ),
      }),
    ),
  ];
  for (const descriptor of CNN_DESCRIPTORS) {
    for (const whiten of [false, true]) {
      for (const rerank of RERANKS) {
        list.push({
          name: cnnVariantName(descriptor, whiten, rerank.label),
          family: "cnn",
          shipped: descriptor === DEFAULT_POOLING && !whiten && rerank.label === "",
          make: cnn(shipped, descriptor, { ...rerank.options, whiten: whiten ? DEFAULT_WHITENING : undefined }),
        });
      }
    }
  }
  const label = DESCRIPTOR_LABEL[DEFAULT_POOLING];
  list.push({ name: `${label}, no query-time flip`, family: "cnn", make: cnn(shipped, DEFAULT_POOLING, {}, false) });
  // The other resize modes: every library pooling as shipped would use it (raw cosine), and the
  // shipped pooling with whitening too.
  for (const [mode, d] of input.described) {
    if (mode === input.shippedMode) continue;
    for (const pooling of LIBRARY_POOLINGS) {
      list.push({ name: `${DESCRIPTOR_LABEL[pooling]}, resize "${mode}"`, family: "cnn", make: cnn(d, pooling, {}) });
    }
    list.push({ name: `${label} + PCAw, resize "${mode}"`, family: "cnn", make: cnn(d, DEFAULT_POOLING, { whiten: DEFAULT_WHITENING }) });
  }
  if (input.learned) {
    const learned = input.learned;
    list.push({
      name: `${label} + PCAw to 256 d`,
      family: "learned",
      make: async () =>
        cnnScorer(stored(shipped, DEFAULT_POOLING), side(shipped, DEFAULT_POOLING), { projection: (await learned()).pcaSameSize }),
    });
    list.push({
      name: `${label} + learned projection 256 d (triplet, from PCAw)`,
      family: "learned",
      make: async () =>
        cnnScorer(stored(shipped, DEFAULT_POOLING), side(shipped, DEFAULT_POOLING), { projection: (await learned()).learned }),
    });
  }
  return list;
}
