// Operations on a decoded working copy: model input tensor, greyscale grid, thumbnail, mirror.
import sharp from "sharp"; // sharp 0.35's ESM build exports only the default at run time…
import type { Sharp } from "sharp"; // …type-only imports are erased.
import { LookalikeError } from "../errors.ts";
import type { DecodedImage, ModelInputSpec } from "./types.ts";

/** sharp over the working copy's raw pixels: no re-decode of the source. */
function fromPixels(image: DecodedImage): Sharp {
  if (image.pixels.length !== image.width * image.height * 3) {
    throw new LookalikeError("internal", `DecodedImage pixels do not match ${image.width}×${image.height}×3.`);
  }
  return sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } });
}

/** Per-channel lookup tables byte → (byte/255 − mean)/std, so the hot loop is one load per value. */
function normalisationTables(spec: ModelInputSpec): Float32Array[] {
  return [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - spec.mean[c]!) / spec.std[c]!));
}

/** Writes the CHW float32 tensor (pixel/255, then (x-mean)/std) for one image into `out` at `offset` (floats); returns out. */
export async function writeModelInput(
  image: DecodedImage,
  spec: ModelInputSpec,
  out: Float32Array,
  offset = 0,
): Promise<Float32Array> {
  const plane = spec.size * spec.size;
  if (!Number.isInteger(spec.size) || spec.size <= 0 || offset < 0 || offset + 3 * plane > out.length) {
    throw new LookalikeError("internal", "Model input does not fit the output tensor.", { size: spec.size, offset });
  }
  // Letterbox bars (contain) get the mean colour, i.e. ~0 after normalisation: "no signal".
  const [r, g, b] = spec.mean.map((m) => Math.round(m * 255));
  const pixels = await fromPixels(image)
    .resize(spec.size, spec.size, { fit: spec.resize, background: { r: r!, g: g!, b: b! } })
    .raw()
    .toBuffer();
  const tables = normalisationTables(spec);
  for (let c = 0; c < 3; c++) {
    const table = tables[c]!;
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = table[pixels[i * 3 + c]!]!;
  }
  return out;
}

/** Pixels of `image` resized to exactly w×h, as 8-bit greyscale (for perceptual hashes). `fit: "fill"` (squash). */
export async function greyscaleGrid(image: DecodedImage, width: number, height: number): Promise<Uint8Array> {
  const grey = await fromPixels(image).resize(width, height, { fit: "fill" }).greyscale().raw().toBuffer();
  return new Uint8Array(grey.buffer, grey.byteOffset, grey.byteLength);
}

/** Small WebP thumbnail (long side `size`, default 160) for contact sheets. Small images are not enlarged. */
export async function makeThumbnail(image: DecodedImage, size = 160): Promise<Buffer> {
  return fromPixels(image)
    .resize(size, size, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer();
}

/** The same image mirrored left↔right (for flip-invariant queries). */
export async function flipHorizontal(image: DecodedImage): Promise<DecodedImage> {
  const pixels = await fromPixels(image).flop().raw().toBuffer();
  return { ...image, pixels };
}
