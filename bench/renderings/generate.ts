/**
 * Makes the rendered files, deterministically, into <cache>/renderings/images/<rendering>/: every
 * random parameter comes from a stream seeded by (rendering, source), and the manifest keeps each
 * file's parameters and fillers. Files are reused while the generator's code is unchanged
 * (rendererVersion) and the job asks for the same fillers.
 */
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { mapLimit } from "../lib/concurrency.ts";
import { type ImageItem, itemKey } from "../lib/datasets.ts";
import { cacheDir } from "../lib/paths.ts";
import { seededRandom, seedOf } from "../lib/random.ts";
import { type Params, pictureOf } from "../repost/edits.ts";
import type { Format, Rendering } from "./kinds/types.ts";
import { rendererVersion } from "./versions.ts";

export interface Job {
  readonly rendering: Rendering;
  readonly source: ImageItem;
  /** Never-stored pictures for the other tiles of a collage (empty otherwise). */
  readonly fillers: readonly ImageItem[];
}

export interface Made {
  readonly file: string;
  readonly format: Format;
  readonly params: Params;
  readonly fillers: readonly string[];
}

const root = () => path.join(cacheDir(), "renderings");
const baseName = (job: Job) => path.join(job.rendering.id, itemKey(job.source).replace(/[:/]/g, "__"));

/** Sources are turned upright (EXIF, as the engine decodes them) and made 3-channel sRGB: greyscale and alpha sources draw like any other. */
async function render(job: Job): Promise<Omit<Made, "file"> & { data: Buffer }> {
  const random = seededRandom(seedOf("renderings", job.rendering.id, itemKey(job.source)));
  const fillers = await Promise.all(job.fillers.map((f) => readFile(f.file)));
  const picture = await pictureOf(
    sharp(await readFile(job.source.file))
      .rotate()
      .removeAlpha()
      .toColourspace("srgb"),
  );
  const { data, format, params } = await job.rendering.render(picture, { random, fillers });
  return {
    data,
    format,
    params: { ...params, sourceWidth: picture.width, sourceHeight: picture.height },
    fillers: job.fillers.map(itemKey),
  };
}

/** One rendered file without the cache (tests: determinism). */
export async function renderOnce(job: Job): Promise<Buffer> {
  return (await render(job)).data;
}

interface Manifest {
  version: string;
  files: Record<string, Made>;
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/** Every job's file, in job order; `concurrency` renders at a time (sharp uses its own threads too). */
export async function generate(jobs: readonly Job[], log: (line: string) => void, concurrency = 2): Promise<Made[]> {
  const version = await rendererVersion();
  const manifestFile = path.join(root(), "manifest.json");
  const manifest: Manifest = await readFile(manifestFile, "utf8")
    .then((json) => JSON.parse(json) as Manifest)
    .catch(() => ({ version, files: {} }));
  if (manifest.version !== version) manifest.files = {};
  manifest.version = version;
  const out: Made[] = new Array(jobs.length);
  let made = 0;
  await mapLimit(jobs, concurrency, async (job, i) => {
    const key = baseName(job);
    const known = manifest.files[key];
    if (known && known.fillers.join() === job.fillers.map(itemKey).join() && (await exists(known.file))) {
      out[i] = known;
      return;
    }
    const { data, ...rest } = await render(job);
    const file = path.join(root(), "images", `${key}.${rest.format === "jpeg" ? "jpg" : rest.format}`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
    out[i] = manifest.files[key] = { file, ...rest };
    if (++made % 250 === 0) log(`  rendered ${made} files`);
  });
  if (made > 0) {
    await mkdir(root(), { recursive: true });
    await writeFile(manifestFile, JSON.stringify(manifest));
    log(`  rendered ${made} files, reused ${jobs.length - made} (parameters in ${path.relative(process.cwd(), manifestFile)})`);
  }
  return out;
}
