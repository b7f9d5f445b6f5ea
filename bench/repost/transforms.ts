/**
 * The repost transform catalogue (what happens to an image between two posts) and its
 * deterministic generation into bench/.cache/repost/. Every parameter drawn at random comes from a
 * stream seeded by (transform, source image), and is written to manifest.json with the image.
 *
 * "mild": the picture is all there, only re-encoded, resized, lightly cropped/recoloured/rotated,
 * mirrored or framed. "strong": a large part is gone or the picture is a minority of the frame
 * (half crops, memes, screenshots, stickers, collages), or several edits are stacked.
 */
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { mapLimit } from "../lib/concurrency.ts";
import { type ImageItem, itemKey } from "../lib/datasets.ts";
import { cacheDir } from "../lib/paths.ts";
import { seededRandom, seedOf } from "../lib/random.ts";
import {
  blur,
  borderWatermark,
  brightnessContrast,
  centralCrop,
  collage,
  type Edit,
  flip,
  greyscale,
  memeCaption,
  offCentreCrop,
  type Params,
  phoneScreenshot,
  pictureOf,
  rotate,
  scale,
  stickers,
} from "./edits.ts";

export type Group = "mild" | "strong";

export interface Transform {
  readonly name: string;
  readonly group: Group;
  readonly steps: readonly { readonly label: string; readonly edit: Edit }[];
  /** JPEG quality of the posted file (90 unless the transform is about re-encoding). */
  readonly quality: number;
  /** Uses three other images (collages): their ids are recorded and excluded from the results. */
  readonly fillers?: boolean;
}

const step = (label: string, edit: Edit) => ({ label, edit });

export const TRANSFORMS: readonly Transform[] = [
  { name: "jpeg-q30", group: "mild", steps: [], quality: 30 },
  { name: "downscale-50", group: "mild", steps: [step("scale", scale(0.5))], quality: 90 },
  { name: "downscale-25", group: "mild", steps: [step("scale", scale(0.25))], quality: 90 },
  { name: "downscale-50+jpeg-q30", group: "mild", steps: [step("scale", scale(0.5))], quality: 30 },
  { name: "crop-80", group: "mild", steps: [step("crop", centralCrop(0.8))], quality: 90 },
  { name: "flip", group: "mild", steps: [step("flip", flip)], quality: 90 },
  { name: "colour-mild", group: "mild", steps: [step("colour", brightnessContrast(0.15))], quality: 90 },
  { name: "greyscale", group: "mild", steps: [step("greyscale", greyscale)], quality: 90 },
  { name: "blur-mild", group: "mild", steps: [step("blur", blur(1.5))], quality: 90 },
  { name: "rotate-5", group: "mild", steps: [step("rotate", rotate(5))], quality: 90 },
  { name: "border-watermark", group: "mild", steps: [step("border", borderWatermark)], quality: 90 },
  { name: "crop-50", group: "strong", steps: [step("crop", centralCrop(0.5))], quality: 90 },
  { name: "crop-offcentre-60", group: "strong", steps: [step("crop", offCentreCrop(0.6))], quality: 90 },
  { name: "rotate-10", group: "strong", steps: [step("rotate", rotate(10))], quality: 90 },
  { name: "colour-strong", group: "strong", steps: [step("colour", brightnessContrast(0.45))], quality: 90 },
  { name: "blur-strong", group: "strong", steps: [step("blur", blur(4))], quality: 90 },
  { name: "meme-caption", group: "strong", steps: [step("meme", memeCaption)], quality: 90 },
  { name: "phone-screenshot", group: "strong", steps: [step("screenshot", phoneScreenshot)], quality: 90 },
  { name: "stickers", group: "strong", steps: [step("stickers", stickers)], quality: 90 },
  { name: "collage-2x2", group: "strong", steps: [step("collage", collage)], quality: 90, fillers: true },
  { name: "flip+crop-70+jpeg-q40", group: "strong", steps: [step("flip", flip), step("crop", centralCrop(0.7))], quality: 40 },
  { name: "meme+downscale-50+jpeg-q40", group: "strong", steps: [step("meme", memeCaption), step("scale", scale(0.5))], quality: 40 },
  {
    name: "greyscale+rotate-5+crop-80",
    group: "strong",
    steps: [step("greyscale", greyscale), step("rotate", rotate(5)), step("crop", centralCrop(0.8))],
    quality: 90,
  },
  {
    name: "watermark+colour+jpeg-q50",
    group: "strong",
    steps: [step("border", borderWatermark), step("colour", brightnessContrast(0.3))],
    quality: 50,
  },
];

/** Edits that put a picture into a frame of its own: applied to distractors too (other people's memes). */
export const FRAMING_TRANSFORMS: readonly string[] = ["meme-caption", "phone-screenshot", "border-watermark", "stickers", "collage-2x2"];

export const transformNamed = (name: string): Transform => {
  const t = TRANSFORMS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown transform ${name}`);
  return t;
};

export interface Generated {
  readonly item: ImageItem;
  readonly transform: string;
  readonly group: Group;
  /** itemKey of the image that was transformed. */
  readonly source: string;
  /** itemKeys of collage fillers (they are in the picture too, so results may not count them). */
  readonly fillers: readonly string[];
  readonly params: Record<string, Params>;
}

export interface Job {
  readonly transform: Transform;
  readonly source: ImageItem;
  readonly fillers: readonly ImageItem[];
}

const GENERATOR_VERSION = 1;
export const GENERATED_DATASET = "repost-gen";
const root = () => path.join(cacheDir(), "repost");

const fileName = (job: Job) => `${job.transform.name}/${itemKey(job.source).replace(/[:/]/g, "__")}.jpg`;

async function run(job: Job): Promise<Generated> {
  const random = seededRandom(seedOf("repost-transform", job.transform.name, itemKey(job.source)));
  const fillers = await Promise.all(job.fillers.map((f) => readFile(f.file)));
  let picture = await pictureOf(await readFile(job.source.file));
  const params: Record<string, Params> = {};
  for (const { label, edit } of job.transform.steps) {
    const result = await edit(picture, { random, fillers });
    picture = result.picture;
    params[label] = result.params;
  }
  params.output = { format: "jpeg", quality: job.transform.quality, width: picture.width, height: picture.height };
  const id = fileName(job);
  const file = path.join(root(), "images", id);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, await sharp(picture.data).jpeg({ quality: job.transform.quality }).toBuffer());
  return {
    item: { dataset: GENERATED_DATASET, id, file, label: itemKey(job.source) },
    transform: job.transform.name,
    group: job.transform.group,
    source: itemKey(job.source),
    fillers: job.fillers.map(itemKey),
    params,
  };
}

/**
 * Generates (or reuses, when manifest.json lists it with the same version) every job's image.
 * The manifest keeps every image ever generated, so the quick slice and the full run share files.
 */
export async function generate(jobs: readonly Job[], log: (line: string) => void): Promise<Generated[]> {
  const manifestFile = path.join(root(), "manifest.json");
  const manifest = await readFile(manifestFile, "utf8")
    .then((json) => JSON.parse(json) as { version: number; images: Record<string, Generated> })
    .catch(() => ({ version: GENERATOR_VERSION, images: {} as Record<string, Generated> }));
  if (manifest.version !== GENERATOR_VERSION) manifest.images = {};
  manifest.version = GENERATOR_VERSION;
  const out: Generated[] = new Array(jobs.length);
  let made = 0;
  await mapLimit(jobs, 4, async (job, i) => {
    const id = fileName(job);
    const known = manifest.images[id];
    const present = known
      ? await access(known.item.file).then(
          () => true,
          () => false,
        )
      : false;
    if (known && present && known.fillers.join() === job.fillers.map(itemKey).join()) {
      out[i] = known;
      return;
    }
    out[i] = manifest.images[id] = await run(job);
    if (++made % 200 === 0) log(`  generated ${made} transformed images`);
  });
  if (made > 0) {
    await mkdir(root(), { recursive: true });
    await writeFile(manifestFile, JSON.stringify(manifest, null, 1));
    log(`  generated ${made} transformed images (parameters in ${path.relative(process.cwd(), manifestFile)})`);
  }
  return out;
}
