/**
 * Guarded image intake: bytes or a path in, one normalised decoded image out.
 *
 * Everything that can go wrong with hostile or broken input is refused here with a typed
 * LookalikeError, so the rest of the pipeline only ever sees small 8-bit sRGB RGB pixels.
 * Order of defences: byte cap (before reading a path) → magic-byte sniffing (sharp never sees
 * SVG, HTML, PDF, ...) → header-only pixel/aspect checks → one decode with sharp's own limits,
 * all inside an overall deadline that also honours an AbortSignal.
 */

export { decodeImage } from "./image/decode.ts";
export { flipHorizontal, greyscaleGrid, makeThumbnail, writeModelInput } from "./image/pixels.ts";
export { readImageBytes } from "./image/read.ts";
export { isDecodableFormat, sniffImageFormat } from "./image/sniff.ts";
export {
  DEFAULT_IMAGE_LIMITS,
  DEFAULT_WORKING_SIZE,
  type DecodedImage,
  type DecodeOptions,
  type ImageFormat,
  type ImageLimits,
  MAX_ASPECT_RATIO,
  MIN_INTACT_FRACTION,
  type ModelInputSpec,
} from "./image/types.ts";
