/**
 * The images of a flood run, all prepared before anything is timed. Every flood image comes from a
 * different source photo while the pool lasts (photo-pool-cc, then the museum database, then
 * flowers), so the flood is new content and not a burst of reposts; each gets its own seeded crop
 * and size, so the bot downloads, decodes and resizes photo-sized JPEGs, not 128 px thumbnails.
 */
import path from "node:path";
import sharp from "sharp";
import { recompress } from "../../test/support/bot-fixtures.ts";
import { mapLimit } from "../lib/concurrency.ts";
import { flowers, type ImageItem, museum, photoPool } from "../lib/datasets.ts";
import { between, seededRandom, seedOf } from "../lib/random.ts";

export interface PostedImage {
  readonly filename: string;
  readonly bytes: Buffer;
}

export interface FloodImages {
  /** Posted and indexed before the flood; the /similar queries look for these. */
  readonly baseline: readonly PostedImage[];
  /** `queries[i]` is a recompressed copy of `baseline[i]` (what a member would upload to ask). */
  readonly queries: readonly Buffer[];
  readonly flood: readonly PostedImage[];
  /** How many flood images had to reuse a source photo (with another crop): 0 unless N > pool. */
  readonly reusedSources: number;
}

/** A crop of 70–95 % of each side at a seeded offset, its long side scaled to 768–1024 px. */
async function edit(item: ImageItem, round: number): Promise<PostedImage> {
  const random = seededRandom(seedOf("flood", item.dataset, item.id, round));
  const { width = 0, height = 0 } = await sharp(item.file).metadata();
  const w = Math.max(16, Math.round(width * between(random, 0.7, 0.95)));
  const h = Math.max(16, Math.round(height * between(random, 0.7, 0.95)));
  const left = Math.floor(random() * (width - w + 1));
  const top = Math.floor(random() * (height - h + 1));
  const longSide = Math.round(between(random, 768, 1024));
  const bytes = await sharp(item.file)
    .extract({ left, top, width: w, height: h })
    .resize(longSide, longSide, { fit: "inside" })
    .jpeg({ quality: 85 })
    .toBuffer();
  const stem = path.basename(item.id, path.extname(item.id));
  return { filename: `${item.dataset}-${stem}${round ? `-${round}` : ""}.jpg`, bytes };
}

export async function prepareImages(floodCount: number, baselineCount: number): Promise<FloodImages> {
  const photos = await photoPool();
  const sources = [...photos.slice(baselineCount), ...(await museum()).db, ...(await flowers())];
  const baselineItems = photos.slice(0, baselineCount);
  if (baselineItems.length < baselineCount) throw new Error(`photo-pool-cc has only ${photos.length} photos`);

  const baseline: PostedImage[] = new Array(baselineCount);
  await mapLimit(baselineItems, 2, async (item, i) => void (baseline[i] = await edit(item, 0)));
  const queries = await Promise.all(baseline.map((image) => recompress(image.bytes)));
  const flood: PostedImage[] = new Array(floodCount);
  const indices = Array.from({ length: floodCount }, (_, i) => i);
  await mapLimit(indices, 2, async (i) => {
    const round = Math.floor(i / sources.length);
    flood[i] = await edit(sources[i % sources.length]!, round);
  });
  return { baseline, queries, flood, reusedSources: Math.max(0, floodCount - sources.length) };
}
