/**
 * The offline demo: index a folder of photos, make two reposts of one of them (a captioned crop
 * and a mirrored screenshot), and show what Lookalike says about each — the same engine the bot
 * uses, with no Discord involved (this module never loads discord.js). `npm start` runs it when
 * no DISCORD_TOKEN is set, `npm run demo` runs it directly; either takes a folder as argument.
 */
import { existsSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import sharp from "sharp";
import { LookalikeEngine } from "./retrieval/engine.ts";
import { defaultModelsDir } from "./retrieval/models.ts";

const SHARED_PHOTOS = path.resolve("..", "shared", "datasets", "photo-pool-cc", "images");

function demoFolder(): string | undefined {
  const candidates = [process.argv[2], process.env.LOOKALIKE_DEMO_DIR, SHARED_PHOTOS];
  return candidates.find((dir): dir is string => Boolean(dir && existsSync(dir)));
}

async function captionedCrop(file: string): Promise<Buffer> {
  const image = sharp(file);
  const { width = 800, height = 600 } = await image.metadata();
  const crop = {
    left: Math.round(width * 0.1),
    top: Math.round(height * 0.1),
    width: Math.round(width * 0.8),
    height: Math.round(height * 0.8),
  };
  const bar = Math.round(crop.height * 0.15);
  const caption = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${crop.width}" height="${bar}"><rect width="100%" height="100%" fill="white"/>` +
      `<text x="50%" y="65%" text-anchor="middle" font-family="DejaVu Sans" font-weight="bold" ` +
      `font-size="${Math.round(bar * 0.5)}">WHEN YOU SEE IT</text></svg>`,
  );
  return sharp(file)
    .extract(crop)
    .extend({ top: bar, background: "white" })
    .composite([{ input: caption, top: 0, left: 0 }])
    .jpeg({ quality: 70 })
    .toBuffer();
}

async function mirroredScreenshot(file: string): Promise<Buffer> {
  const inner = await sharp(file).flop().resize(540).toBuffer();
  const { height = 400 } = await sharp(inner).metadata();
  return sharp({ create: { width: 600, height: height + 300, channels: 3, background: "#111111" } })
    .composite([{ input: inner, left: 30, top: 150 }])
    .png()
    .toBuffer();
}

export async function runDemo(): Promise<number> {
  const folder = demoFolder();
  if (!folder) {
    process.stderr.write("Pass a folder of photos to the demo: npm start -- /path/to/photos (or set LOOKALIKE_DEMO_DIR).\n");
    return 2;
  }
  const entries = await readdir(folder, { withFileTypes: true });
  const candidates = entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(folder, entry.name))
    .sort();
  const dbDir = path.resolve("data", "demo-lancedb");
  await mkdir(dbDir, { recursive: true });
  const engine = await LookalikeEngine.open({ db: dbDir, modelsDir: defaultModelsDir() });
  try {
    const started = Date.now();
    // Whatever the engine cannot read as an image (a README, a damaged file) is left out.
    const analyzed = await Promise.all(
      candidates.map((file) =>
        engine.analyze(file).then(
          (image) => ({ image, meta: { id: path.basename(file), source: file } }),
          () => null,
        ),
      ),
    );
    const items = analyzed.filter((item) => item !== null);
    const files = items.map((item) => item.meta.source);
    if (files.length < 3) {
      process.stderr.write(`The demo needs at least 3 photos in ${folder}.\n`);
      return 2;
    }
    await engine.add("demo", items);
    console.log(`Indexed ${items.length} photos from ${folder} in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
    const original = files[Math.floor(files.length / 2)]!;
    const queries: [string, Buffer][] = [
      [`a captioned crop (meme) of ${path.basename(original)}`, await captionedCrop(original)],
      [`a mirrored phone screenshot of ${path.basename(original)}`, await mirroredScreenshot(original)],
      [
        "an unrelated noise image",
        await sharp({
          create: { width: 400, height: 300, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 60 } },
        })
          .jpeg()
          .toBuffer(),
      ],
    ];
    for (const [label, bytes] of queries) {
      const query = await engine.analyze(bytes, { flipped: true, centre: true });
      const { verdict, match } = await engine.checkRepost(query, { collection: "demo" });
      const top = await engine.findSimilar(query, { collection: "demo", k: 3 });
      console.log(`Query: ${label}`);
      console.log(
        `  repost verdict: ${verdict}` +
          (match ? ` (closest ${match.id}, cosine ${match.score.toFixed(3)}, pHash distance ${match.hamming})` : ""),
      );
      console.log(`  most similar: ${top.map((m) => `${m.id} ${m.score.toFixed(3)}`).join(", ")}\n`);
    }
    console.log("The same from the command line: npm run -s lookalike -- --help");
    return 0;
  } finally {
    await engine.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await runDemo();
