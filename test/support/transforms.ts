/** Repost-like edits made with sharp at test time (the benchmark has the full catalogue). */
import sharp from "sharp";

export const reencode = (file: string | Buffer, quality = 35): Promise<Buffer> => sharp(file).jpeg({ quality }).toBuffer();

export async function downscale(file: string | Buffer, factor = 0.5): Promise<Buffer> {
  const { width } = await sharp(file).metadata();
  return sharp(file)
    .resize(Math.round(width! * factor))
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** Keeps `fraction` of each side, centred. */
export async function centreCrop(file: string | Buffer, fraction = 0.7): Promise<Buffer> {
  const { width, height } = await sharp(file).metadata();
  const w = Math.round(width! * fraction);
  const h = Math.round(height! * fraction);
  return sharp(file)
    .extract({ left: Math.round((width! - w) / 2), top: Math.round((height! - h) / 2), width: w, height: h })
    .jpeg({ quality: 85 })
    .toBuffer();
}

export const mirror = (file: string | Buffer): Promise<Buffer> => sharp(file).flop().jpeg({ quality: 90 }).toBuffer();

/** The picture shrunk onto a tall dark canvas, as a phone screenshot of it looks (without the status bar). */
export async function phoneFrame(file: string | Buffer): Promise<Buffer> {
  const inner = await sharp(file).resize(540, 540, { fit: "inside" }).toBuffer();
  const { width = 540, height = 540 } = await sharp(inner).metadata();
  return sharp({ create: { width: 600, height: 1300, channels: 3, background: "#101014" } })
    .composite([{ input: inner, left: Math.round((600 - width) / 2), top: Math.round((1300 - height) / 2) }])
    .jpeg({ quality: 85 })
    .toBuffer();
}
