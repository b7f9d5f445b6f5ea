// Operations on a decoded working copy: model input tensor, greyscale grid, thumbnail, mirror.

import type { Sharp } from "sharp"; // …type-only imports are erased.
import sharp from "sharp"; // sharp 0.35's ESM build exports only the default at run time…
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
  const key = `${spec.mean.join()}/${spec.std.join()}`;
  let tables = tablesByNormalisation.get(key);
  if (!tables) {
    tables = [0, 1, 2].map((c) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - spec.mean[c]!) / spec.std[c]!));
    tablesByNormalisation.set(key, tables);
  }
  return tables;
}

/** Made once per mean and std (a model has one; an image gets half a dozen inputs). */
const tablesByNormalisation = new Map<string, Float32Array[]>();

/** Writes the CHW float32 tensor (pixel/255, then (x-mean)/std) for one image into `out` at `offset` (floats); returns out. */
export async function writeModelInput(image: DecodedImage, spec: ModelInputSpec, out: Float32Array, offset = 0): Promise<Float32Array> {
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
  const [red, green, blue] = normalisationTables(spec) as [Float32Array, Float32Array, Float32Array];
  // Pixel by pixel, reading the interleaved bytes once in order: three passes over the planes,
  // each reading every third byte, cost several times more (the 448-px input of every stored image).
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[offset + i] = red[pixels[p]!]!;
    out[offset + plane + i] = green[pixels[p + 1]!]!;
    out[offset + 2 * plane + i] = blue[pixels[p + 2]!]!;
  }
  return out;
}

/**
 * `image` squashed to exactly w×h 8-bit grey values (Rec. 709 luma), each cell the average of the
 * pixels it covers (the perceptual hashes' input). Plain arithmetic rather than a sharp resize:
 * a sharp pipeline per hash cost ~2 ms of CPU per image, a quarter of ingest (bench/speed), and
 * an area average is the right filter for shrinking a 512-px copy to 32 or 9 cells anyway. A copy
 * smaller than the grid repeats its pixels.
 */
export function greyscaleGrid(image: DecodedImage, width: number, height: number): Uint8Array {
  const { pixels, width: w, height: h } = image;
  if (pixels.length !== w * h * 3 || !(width >= 1 && height >= 1)) {
    throw new LookalikeError("internal", `Cannot grid a ${w}×${h} image (${pixels.length} bytes) to ${width}×${height}.`);
  }
  const xs = cellRanges(w, width);
  const ys = cellRanges(h, height);
  const out = new Uint8Array(width * height);
  for (let gy = 0; gy < height; gy++) {
    for (let gx = 0; gx < width; gx++) {
      let sum = 0;
      for (let y = ys.start[gy]!; y < ys.end[gy]!; y++) {
        let i = (y * w + xs.start[gx]!) * 3;
        for (let x = xs.start[gx]!; x < xs.end[gx]!; x++, i += 3) {
          sum += 0.2126 * pixels[i]! + 0.7152 * pixels[i + 1]! + 0.0722 * pixels[i + 2]!;
        }
      }
      const count = (ys.end[gy]! - ys.start[gy]!) * (xs.end[gx]! - xs.start[gx]!);
      out[gy * width + gx] = Math.round(sum / count);
    }
  }
  return out;
}

/**
 * The pixel range [start, end) of each of `cells` cells along a side of `size` pixels. Every cell
 * covers at least one pixel: when the side is shorter than the grid, neighbouring cells repeat it.
 */
function cellRanges(size: number, cells: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(cells);
  const end = new Int32Array(cells);
  for (let c = 0; c < cells; c++) {
    start[c] = Math.min(size - 1, Math.floor((c * size) / cells));
    end[c] = Math.max(start[c]! + 1, Math.floor(((c + 1) * size) / cells));
  }
  return { start, end };
}
/** Small WebP thumbnail (long side `size`, default 160) for contact sheets. Small images are not enlarged. */
export async function makeThumbnail(image: DecodedImage, size = 160): Promise<Buffer> {
  return fromPixels(image).resize(size, size, { fit: "inside", withoutEnlargement: true }).webp({ quality: 80 }).toBuffer();
}

/** The same image mirrored left↔right (for flip-invariant queries). */
export async function flipHorizontal(image: DecodedImage): Promise<DecodedImage> {
  const pixels = await fromPixels(image).flop().raw().toBuffer();
  return { ...image, pixels };
}
