// Public types and default limits of image intake.

export interface ImageLimits {
  maxBytes: number;
  maxPixels: number;
  timeoutMs: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = Object.freeze({
  maxBytes: 25 * 1024 * 1024,
  maxPixels: 50_000_000,
  timeoutMs: 10_000,
});

export type ImageFormat = "jpeg" | "png" | "webp" | "gif" | "avif" | "tiff" | "bmp";

export interface DecodedImage {
  /** Packed 8-bit sRGB RGB (3 channels), EXIF orientation applied, alpha flattened onto white. */
  pixels: Buffer;
  /** Size of `pixels`: the working copy, long side <= workingSize (never enlarged). */
  width: number;
  height: number;
  /** Size of the source after orientation. */
  sourceWidth: number;
  sourceHeight: number;
  format: ImageFormat;
  /** Pages/frames in the source (animated GIF/WebP > 1); only one frame is decoded. */
  frames: number;
  /** Problems that were tolerated, e.g. a truncated file that still decoded almost entirely. */
  warnings?: readonly string[];
}

export interface DecodeOptions {
  limits?: Partial<ImageLimits>;
  /** Long side of the working copy (default 512). */
  workingSize?: number;
  signal?: AbortSignal;
  /** Frame/page to decode (default 0): the seam for decoding more frames later. */
  frame?: number;
}

export interface ModelInputSpec {
  size: number;
  resize: "cover" | "fill" | "contain";
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

export const DEFAULT_WORKING_SIZE = 512;

/**
 * Longest side / shortest side beyond which an image is refused. Real images stay well below
 * (panoramas ~12:1, long phone screenshots and webcomic strips ~20–60:1); beyond this the
 * working copy degenerates to a few pixels across and a square model crop sees almost nothing,
 * while "cover" resizing would blow the short side up into a huge intermediate image.
 */
export const MAX_ASPECT_RATIO = 100;

/**
 * A truncated file is accepted only if at least this share of its rows decoded. A few missing
 * trailing bytes (a lost EOI marker, an interrupted download near the end) are common on the
 * web and the image is still worth indexing; a file that is half grey/black fill would match
 * nothing and is more likely a failed download that should be fetched again.
 */
export const MIN_INTACT_FRACTION = 0.9;
