/**
 * Everything the non-CNN contenders and the fused verdict need from an image besides its feature
 * map: our pHash/dHash, the npm peers' hashes, the seed's colour histogram and the source size.
 * Cached per dataset in bench/.cache/signals/<dataset>.json (small next to the maps).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { perceptualHashes } from "../../src/retrieval/fingerprint.ts";
import { decodeImage } from "../../src/retrieval/image.ts";
import { type Bits, bitsFromBigint, peerHashes } from "../contenders/hashes.ts";
import { colourHistogram } from "../contenders/histogram.ts";
import { mapLimit } from "./concurrency.ts";
import type { ImageItem } from "./datasets.ts";
import { cacheDir } from "./paths.ts";

export interface Signals {
  readonly phash: bigint;
  readonly dhash: bigint;
  readonly phashBits: Bits;
  readonly dhashBits: Bits;
  readonly sharpPhash: Bits;
  readonly blockhash: Bits;
  readonly histogram: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** The intake refused the file (corrupt, unsupported): the reason, as the CLI would report it. */
export interface Refusal {
  readonly error: string;
}

export type SignalResult = Signals | Refusal;
export const isRefusal = (s: SignalResult): s is Refusal => "error" in s;

/** Bumped whenever the hashes' code changes (2: area-averaged grids instead of sharp resizes). */
const VERSION = 2;

interface Stored {
  phash: string;
  dhash: string;
  sharpPhash: number[];
  blockhash: number[];
  histogram: string;
  width: number;
  height: number;
}

const loaded = new Map<string, Promise<Map<string, Stored | Refusal>>>();

async function load(dataset: string): Promise<Map<string, Stored | Refusal>> {
  const file = path.join(cacheDir(), "signals", `${dataset}.json`);
  const json = await readFile(file, "utf8").catch(() => undefined);
  if (!json) return new Map();
  const parsed = JSON.parse(json) as { version: number; items: Record<string, Stored | Refusal> };
  return parsed.version === VERSION ? new Map(Object.entries(parsed.items)) : new Map();
}

async function save(dataset: string, items: Map<string, Stored | Refusal>): Promise<void> {
  const file = path.join(cacheDir(), "signals", `${dataset}.json`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ version: VERSION, items: Object.fromEntries(items) }));
}

async function compute(item: ImageItem): Promise<Stored | Refusal> {
  let image: Awaited<ReturnType<typeof decodeImage>>;
  try {
    image = await decodeImage(item.file);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  const [{ phash, dhash }, peers] = await Promise.all([perceptualHashes(image), peerHashes(await readFile(item.file))]);
  const histogram = colourHistogram(image);
  return {
    phash: phash.toString(16),
    dhash: dhash.toString(16),
    sharpPhash: Array.from(peers.sharpPhash),
    blockhash: Array.from(peers.blockhash),
    histogram: Buffer.from(histogram.buffer, histogram.byteOffset, histogram.byteLength).toString("base64"),
    width: image.sourceWidth,
    height: image.sourceHeight,
  };
}

function revive(stored: Stored | Refusal): SignalResult {
  if ("error" in stored) return stored;
  const phash = BigInt(`0x${stored.phash}`);
  const dhash = BigInt(`0x${stored.dhash}`);
  const bytes = Buffer.from(stored.histogram, "base64");
  const histogram = new Float32Array(bytes.length / 4);
  new Uint8Array(histogram.buffer).set(bytes);
  return {
    phash,
    dhash,
    phashBits: bitsFromBigint(phash),
    dhashBits: bitsFromBigint(dhash),
    sharpPhash: Uint32Array.from(stored.sharpPhash),
    blockhash: Uint32Array.from(stored.blockhash),
    histogram,
    width: stored.width,
    height: stored.height,
  };
}

/** Signals for each item, in order; computed (and cached) for the ones never seen before. */
export async function signalsOf(items: readonly ImageItem[]): Promise<SignalResult[]> {
  const datasets = [...new Set(items.map((i) => i.dataset))];
  for (const dataset of datasets) {
    let cache = loaded.get(dataset);
    if (!cache) loaded.set(dataset, (cache = load(dataset)));
    const stored = await cache;
    const missing = items.filter((i) => i.dataset === dataset && !stored.has(i.id));
    if (missing.length === 0) continue;
    await mapLimit(missing, 8, async (item) => {
      stored.set(item.id, await compute(item));
    });
    await save(dataset, stored);
  }
  const maps = new Map(await Promise.all(datasets.map(async (d) => [d, await loaded.get(d)!] as const)));
  return items.map((item) => revive(maps.get(item.dataset)!.get(item.id)!));
}
