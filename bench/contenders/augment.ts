/**
 * Self-supervised training pairs for the learned projection: random views of the indexed images
 * themselves (no labels), SimCLR-style: random resized crop, mirror, colour jitter, greyscale,
 * blur, small rotation, JPEG. Seeded per (image, view); files go to bench/.cache/train-aug/.
 * The ranges are generic augmentation ranges, not the repost benchmark's exact transforms.
 */
import { access, mkdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { mapLimit } from "../lib/concurrency.ts";
import { type ImageItem, itemKey } from "../lib/datasets.ts";
import { cacheDir } from "../lib/paths.ts";
import { between, seededRandom, seedOf } from "../lib/random.ts";

const VERSION = 1;

async function view(source: ImageItem, file: string, random: () => number): Promise<void> {
  // Orient first, so the crop box is drawn on the picture as seen (EXIF-rotated files swap sides).
  const { data: oriented, info } = await sharp(source.file).rotate().png({ compressionLevel: 1 }).toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const area = between(random, 0.35, 1);
  const aspect = Math.exp(between(random, Math.log(3 / 4), Math.log(4 / 3)));
  const w = Math.max(8, Math.min(width, Math.round(Math.sqrt(area * width * height * aspect))));
  const h = Math.max(8, Math.min(height, Math.round(Math.sqrt((area * width * height) / aspect))));
  let image = sharp(oriented).extract({
    left: Math.floor(random() * (width - w + 1)),
    top: Math.floor(random() * (height - h + 1)),
    width: Math.min(w, width),
    height: Math.min(h, height),
  });
  if (random() < 0.5) image = image.flop();
  image = image.modulate({ brightness: between(random, 0.7, 1.3), saturation: between(random, 0.7, 1.3) });
  if (random() < 0.15) image = image.greyscale();
  // Materialise before the optional rotation: sharp applies rotate() before extract() otherwise.
  let buffer = await image.png().toBuffer();
  if (random() < 0.3)
    buffer = await sharp(buffer)
      .blur(between(random, 0.5, 2.5))
      .png()
      .toBuffer();
  if (random() < 0.3)
    buffer = await sharp(buffer)
      .rotate(between(random, -8, 8), { background: "#000" })
      .png()
      .toBuffer();
  await sharp(buffer)
    .jpeg({ quality: Math.round(between(random, 30, 90)) })
    .toFile(file);
}

/** `views` augmented copies of each source, as items of dataset "aug-<source dataset>". */
export async function augmentedViews(sources: readonly ImageItem[], views: number): Promise<ImageItem[][]> {
  const out = sources.map(() => [] as ImageItem[]);
  const jobs = sources.flatMap((source, s) => Array.from({ length: views }, (_, v) => ({ source, s, v })));
  await mapLimit(jobs, 4, async ({ source, s, v }) => {
    const id = `v${VERSION}/${itemKey(source).replace(/[:/]/g, "__")}__${v}.jpg`;
    const file = path.join(cacheDir(), "train-aug", id);
    const exists = await access(file).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(path.dirname(file), { recursive: true });
      await view(source, file, seededRandom(seedOf("train-aug", itemKey(source), v)));
    }
    out[s]![v] = { dataset: `aug-${source.dataset}`, id, file, label: itemKey(source) };
  });
  return out;
}
