// Identifies input by its magic bytes and says whether sharp can decode that format.
import sharp from "sharp";
import type { ImageFormat } from "./types.ts";

const ascii = (bytes: Uint8Array, start: number, end: number): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1", start, end);

const startsWith = (bytes: Uint8Array, signature: readonly number[], at = 0): boolean =>
  bytes.length >= at + signature.length && signature.every((byte, i) => bytes[at + i] === byte);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;
/** DIB header sizes of real BMP variants: "BM" alone is too weak a signature. */
const BMP_DIB_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);

/** ISO-BMFF brands (major + compatible) of an `ftyp` box at the start, e.g. AVIF/HEIC/MP4. */
function isoBrands(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== "ftyp") return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxEnd = Math.min(view.getUint32(0), bytes.length, 256);
  const brands = [ascii(bytes, 8, 12)];
  for (let at = 16; at + 4 <= boxEnd; at += 4) brands.push(ascii(bytes, at, at + 4));
  return brands;
}

/** The start of the input as text, if it plausibly is text (no binary control bytes). */
function leadingText(bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, 1024);
  const binary = head.some((b) => b < 0x09 || (b > 0x0d && b < 0x20 && b !== 0x1b));
  if (binary) return undefined;
  return new TextDecoder("utf-8")
    .decode(head)
    .replace(/^\uFEFF/, "")
    .trimStart()
    .toLowerCase();
}

function isSvgText(text: string): boolean {
  if (!text.startsWith("<")) return false;
  const svg = text.indexOf("<svg");
  const html = text.indexOf("<html");
  return svg >= 0 && (html < 0 || svg < html);
}

/** Identifies an image by its magic bytes, independent of any file name. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | "svg" | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(bytes, PNG_SIGNATURE)) return "png";
  const head = ascii(bytes, 0, 12);
  if (head.startsWith("GIF87a") || head.startsWith("GIF89a")) return "gif";
  if (head.startsWith("RIFF") && head.slice(8, 12) === "WEBP") return "webp";
  if (["II*\0", "MM\0*", "II+\0", "MM\0+"].includes(head.slice(0, 4))) return "tiff";
  if (isoBrands(bytes)?.some((brand) => brand === "avif" || brand === "avis")) return "avif";
  if (head.startsWith("BM") && bytes.length >= 18) {
    const dibSize = new DataView(bytes.buffer, bytes.byteOffset + 14, 4).getUint32(0, true);
    if (BMP_DIB_SIZES.has(dibSize)) return "bmp";
  }
  const text = leadingText(bytes);
  if (text !== undefined && isSvgText(text)) return "svg";
  return undefined;
}

/** Names well-known non-image (or unsupported image) content, so the refusal can say what it is. */
export function describeNonImage(bytes: Uint8Array): string | undefined {
  const head = ascii(bytes, 0, 16);
  if (head.startsWith("%PDF")) return "a PDF document";
  if (head.startsWith("PK\x03\x04")) return "a ZIP archive";
  if (startsWith(bytes, [0x1f, 0x8b])) return "gzip-compressed data";
  if (head.startsWith("8BPS")) return "a Photoshop document";
  if (startsWith(bytes, [0xff, 0x0a]) || head.slice(4, 8) === "JXL ") return "a JPEG XL image";
  if (head.slice(4, 8) === "jP  ") return "a JPEG 2000 image";
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return "a Windows icon";
  const brands = isoBrands(bytes);
  if (brands?.some((b) => ["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"].includes(b))) {
    return "a HEIC/HEIF image (only AVIF is supported; export as JPEG)";
  }
  if (brands) return "a video or other ISO media file";
  const text = leadingText(bytes);
  if (text === undefined) return undefined;
  if (text.startsWith("<!doctype html") || text.includes("<html")) return "an HTML page";
  return text.startsWith("<") ? "an XML document" : "a text file";
}

/** The libvips loader sharp uses for each format (`sharp.format[...]`). */
const SHARP_LOADER: Record<ImageFormat, string> = {
  jpeg: "jpeg",
  png: "png",
  webp: "webp",
  gif: "gif",
  avif: "heif",
  tiff: "tiff",
  bmp: "magick", // sharp's prebuilt libvips has no BMP loader; only a custom build with ImageMagick reads it.
};

/** Whether the installed sharp/libvips can actually decode `format` from a buffer. */
export function isDecodableFormat(format: ImageFormat): boolean {
  const formats = sharp.format as unknown as Record<string, { input?: { buffer?: boolean } } | undefined>;
  return formats[SHARP_LOADER[format]]?.input?.buffer === true;
}
