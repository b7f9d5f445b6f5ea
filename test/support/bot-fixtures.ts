/** Small real photos and repost edits for the bot's end-to-end tests. */
import { readdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { datasetsDir } from "./paths.ts";

const photos = path.join(datasetsDir, "photo-pool-cc", "images");

/** `count` distinct photos from the shared pool, shrunk to 384 px JPEGs (fast to embed). */
export async function samplePhotos(count: number, offset = 0): Promise<Buffer[]> {
  const names = (await readdir(photos)).sort().slice(offset, offset + count);
  return Promise.all(
    names.map((name) => sharp(path.join(photos, name)).resize(384, 384, { fit: "inside" }).jpeg({ quality: 88 }).toBuffer()),
  );
}

export const recompress = (bytes: Buffer): Promise<Buffer> => sharp(bytes).resize(300).jpeg({ quality: 40 }).toBuffer();

export async function crop(bytes: Buffer, fraction = 0.75): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(bytes).metadata();
  const w = Math.round(width * fraction);
  const h = Math.round(height * fraction);
  return sharp(bytes)
    .extract({ left: Math.round((width - w) / 2), top: Math.round((height - h) / 2), width: w, height: h })
    .jpeg()
    .toBuffer();
}

/** Polls `probe` until it returns true (a bot reacts to events asynchronously). */
/** `what` may be a function, to say in the failure what was seen last (e.g. how many were indexed). */
export async function eventually(
  probe: () => Promise<boolean> | boolean,
  what: string | (() => string),
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${typeof what === "string" ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
