// Reads only the image header and refuses pixel bombs and absurd shapes before decoding.

import type { Metadata } from "sharp"; // …type-only imports are erased.
import sharp from "sharp"; // sharp 0.35's ESM build exports only the default at run time…
import { LookalikeError } from "../errors.ts";
import { megapixels, refuse, type Subject } from "./refusals.ts";
import { type ImageLimits, MAX_ASPECT_RATIO } from "./types.ts";

interface Header {
  frames: number;
  sourceWidth: number;
  sourceHeight: number;
}

async function readMetadata(bytes: Buffer, page: number, subject: Subject): Promise<Metadata> {
  try {
    // Header only, nothing is decoded: lift sharp's pixel cap here so that inspectHeader can
    // report a bomb's real dimensions (decoding keeps the cap as a backstop).
    return await sharp(bytes, { pages: 1, page, limitInputPixels: false }).metadata();
  } catch (error) {
    throw refuse("corrupt", subject, "has an unreadable header.", {}, error);
  }
}

/** Reads only the header and refuses bombs and absurd shapes before any pixel is decoded. */
export async function inspectHeader(bytes: Buffer, frame: number, limits: ImageLimits, subject: Subject): Promise<Header> {
  const first = await readMetadata(bytes, 0, subject);
  const frames = first.pages ?? 1;
  if (frame >= frames) {
    throw new LookalikeError("internal", `Frame ${frame} requested but the image has ${frames}.`, subject.context);
  }
  // Pages of a TIFF may differ in size; animation frames share the canvas size.
  const meta = frame === 0 ? first : await readMetadata(bytes, frame, subject);
  const { width, height } = meta; // of one page/frame, before orientation
  if (!(width > 0 && height > 0)) throw refuse("corrupt", subject, "has no valid dimensions.");
  const size = { width, height };
  if (width * height > limits.maxPixels) {
    const text = `is ${width}×${height} px (${megapixels(width * height)}), more than the ${megapixels(limits.maxPixels)} limit.`;
    throw refuse("too_many_pixels", subject, text, { ...size, maxPixels: limits.maxPixels });
  }
  if (Math.max(width, height) / Math.min(width, height) > MAX_ASPECT_RATIO) {
    const text = `is ${width}×${height} px: too elongated to compare (more than ${MAX_ASPECT_RATIO}:1).`;
    throw refuse("unsupported_format", subject, text, size);
  }
  const swapped = (meta.orientation ?? 1) >= 5; // EXIF orientations 5–8 transpose the image
  return {
    frames,
    sourceWidth: meta.autoOrient?.width ?? (swapped ? height : width),
    sourceHeight: meta.autoOrient?.height ?? (swapped ? width : height),
  };
}
