/**
 * Hostile and awkward image fixtures, generated at test time with sharp and plain Buffers
 * (nothing binary is committed). Each generator is small and deterministic.
 */
import { crc32, deflateSync } from "node:zlib";
import type { Sharp } from "sharp";
import sharp from "sharp";
import type { ErrorCode } from "../../src/retrieval/errors.ts";
import type { ImageLimits } from "../../src/retrieval/image.ts";

export type Rgb = readonly [number, number, number];
export const RED: Rgb = [255, 0, 0];
export const BLUE: Rgb = [0, 0, 255];
export const GREEN: Rgb = [0, 255, 0];

const colour = ([r, g, b]: Rgb, alpha = 1) => ({ r, g, b, alpha });

/** A sharp pipeline over a solid-colour canvas. */
export function solid(width: number, height: number, rgb: Rgb, alpha = 1): Sharp {
  return sharp({ create: { width, height, channels: 4, background: colour(rgb, alpha) } });
}

/** Left half one colour, right half another (a layout that shows flips and rotations). */
export function halves(width: number, height: number, left: Rgb, right: Rgb, leftAlpha = 1): Sharp {
  const half = Math.floor(width / 2);
  const rightHalf = { create: { width: width - half, height, channels: 4 as const, background: colour(right) } };
  return solid(width, height, left, leftAlpha).composite([{ input: rightHalf, left: half, top: 0 }]);
}

/** Deterministic pseudo-random bytes (xorshift32), so "garbage" is the same on every run. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

// ───────────── PNG / JPEG byte surgery ─────────────

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A genuine decompression bomb: a valid 1-bit greyscale PNG of width×height, all black.
 * 20000×20000 is ~48 KiB on disk but 400 megapixels (1.2 GB as RGB) once decoded.
 */
export function pngBomb(width = 20_000, height = 20_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale, deflate, no filter, no interlace
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed bits
  const idat = deflateSync(Buffer.alloc(rowBytes * height), { level: 9 });
  return Buffer.concat([PNG_SIGNATURE, pngChunk("IHDR", ihdr), pngChunk("IDAT", idat), pngChunk("IEND", Buffer.alloc(0))]);
}

/** Offset of the first start-of-frame segment in a JPEG, found by walking the markers. */
function jpegSofOffset(jpeg: Buffer): number {
  for (let at = 2; at + 4 <= jpeg.length; at += 2 + jpeg.readUInt16BE(at + 2)) {
    const marker = jpeg[at + 1]!;
    const isSof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (jpeg[at] !== 0xff) break;
    if (isSof) return at;
  }
  throw new Error("no SOF marker found");
}

/** A small real JPEG whose header claims width×height (the pixel data stays tiny). */
export async function jpegWithHugeHeader(width = 20_000, height = 20_000): Promise<Buffer> {
  const jpeg = Buffer.from(await solid(16, 16, GREEN).jpeg().toBuffer());
  const sof = jpegSofOffset(jpeg);
  jpeg.writeUInt16BE(height, sof + 5);
  jpeg.writeUInt16BE(width, sof + 7);
  return jpeg;
}

/** A PNG whose compressed pixel data is damaged (IDAT CRC no longer matches), but not truncated. */
export async function damagedPng(): Promise<Buffer> {
  const png = Buffer.from(await halves(64, 64, RED, BLUE).png({ compressionLevel: 0 }).toBuffer());
  const idat = png.indexOf("IDAT", 8, "latin1");
  for (let i = idat + 20; i < idat + 60; i++) png[i] = png[i]! ^ 0x5a;
  return png;
}

/** A minimal valid 24-bit BMP (2×2, blue), to probe whether this sharp build reads BMP. */
export function tinyBmp(): Buffer {
  const rowSize = 8; // 2 px × 3 bytes, padded to 4
  const header = Buffer.alloc(54);
  header.write("BM", 0, "latin1");
  header.writeUInt32LE(54 + rowSize * 2, 2);
  header.writeUInt32LE(54, 10); // pixel data offset
  header.writeUInt32LE(40, 14); // BITMAPINFOHEADER
  header.writeInt32LE(2, 18);
  header.writeInt32LE(2, 22);
  header.writeUInt16LE(1, 26); // planes
  header.writeUInt16LE(24, 28); // bits per pixel
  const row = Buffer.from([255, 0, 0, 255, 0, 0, 0, 0]); // BGR blue ×2 + padding
  return Buffer.concat([header, row, row]);
}

// ───────────── awkward but valid images ─────────────

/** Noise compresses evenly, so cutting the bytes in half cuts off about half the rows. */
export async function noisyJpeg(size = 256): Promise<Buffer> {
  const noise = { type: "gaussian" as const, mean: 128, sigma: 40 };
  return sharp({ create: { width: size, height: size, channels: 3, background: "#808080", noise } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

export async function animatedGif(frames: readonly Rgb[] = [RED, BLUE]): Promise<Buffer> {
  const pages = await Promise.all(frames.map((rgb) => solid(20, 10, rgb).png().toBuffer()));
  return sharp(pages, { join: { animated: true } })
    .gif()
    .toBuffer();
}

export const cmykJpeg = (): Promise<Buffer> => halves(40, 20, RED, BLUE).toColourspace("cmyk").jpeg().toBuffer();
export const png16 = (): Promise<Buffer> => halves(40, 20, RED, BLUE).toColourspace("rgb16").png().toBuffer();
export const greyJpeg = (): Promise<Buffer> => solid(40, 20, [128, 128, 128]).toColourspace("b-w").jpeg().toBuffer();
/** Left half transparent red (must flatten to white), right half opaque blue. */
export const alphaPng = (): Promise<Buffer> => halves(40, 20, RED, BLUE, 0).png().toBuffer();
export const webp = (): Promise<Buffer> => halves(40, 20, RED, BLUE).webp({ lossless: true }).toBuffer();
export const avif = (): Promise<Buffer> => halves(40, 20, RED, BLUE).avif({ quality: 90, effort: 0 }).toBuffer();
export const tiff = (): Promise<Buffer> => halves(40, 20, RED, BLUE).tiff().toBuffer();
/** Stored 40×20 left red / right blue, tagged EXIF orientation 6 (display rotated 90° clockwise). */
export const exifRotatedJpeg = (): Promise<Buffer> =>
  halves(40, 20, RED, BLUE).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();

// ───────────── the hostile catalogue ─────────────

export interface HostileCase {
  name: string;
  /** Name to give the bytes on disk; extensions lie on purpose where the name says so. */
  fileName: string;
  bytes: Buffer;
  expected: ErrorCode;
  limits?: Partial<ImageLimits>;
}

const text = (s: string) => Buffer.from(s, "utf8");

const SVG = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a vector image: sharp would render it -->
<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000"><rect width="100%" height="100%" fill="red"/></svg>`;

const HTML = `<!DOCTYPE html>\n<html><head><title>Not found</title></head><body>404</body></html>\n`;

/**
 * Every input here must be refused with exactly `expected`. `bmpReadable` says whether the
 * installed sharp can decode BMP (if it can, BMP is not hostile and is left out).
 */
export async function hostileCases(bmpReadable: boolean): Promise<HostileCase[]> {
  const jpeg = await noisyJpeg();
  const cases: HostileCase[] = [
    { name: "truncated JPEG (half the bytes)", fileName: "half.jpg", bytes: jpeg.subarray(0, jpeg.length >> 1), expected: "corrupt" },
    { name: "random bytes named .jpg", fileName: "random.jpg", bytes: pseudoRandomBytes(4096), expected: "corrupt" },
    { name: "0 bytes", fileName: "empty.png", bytes: Buffer.alloc(0), expected: "corrupt" },
    { name: "damaged PNG data (bad IDAT)", fileName: "damaged.png", bytes: await damagedPng(), expected: "corrupt" },
    { name: "SVG", fileName: "vector.svg", bytes: text(SVG), expected: "unsupported_format" },
    { name: "SVG named .png", fileName: "vector.png", bytes: text(`\uFEFF  ${SVG}`), expected: "unsupported_format" },
    { name: "HTML named .png", fileName: "page.png", bytes: text(HTML), expected: "unsupported_format" },
    { name: "plain text named .jpg", fileName: "notes.jpg", bytes: text("just some text\n"), expected: "unsupported_format" },
    { name: "PDF named .jpg", fileName: "doc.jpg", bytes: text("%PDF-1.7\n%âãÏÓ\n1 0 obj\n"), expected: "unsupported_format" },
    {
      name: "HEIC header",
      fileName: "iphone.heic",
      bytes: Buffer.concat([Buffer.from([0, 0, 0, 24]), text("ftypheic\0\0\0\0mif1heic"), pseudoRandomBytes(64)]),
      expected: "unsupported_format",
    },
    { name: "PNG decompression bomb 20000×20000", fileName: "bomb.png", bytes: pngBomb(), expected: "too_many_pixels" },
    { name: "JPEG header claiming 20000×20000", fileName: "huge.jpg", bytes: await jpegWithHugeHeader(), expected: "too_many_pixels" },
    {
      name: "1×20000 sliver",
      fileName: "sliver.png",
      bytes: await solid(1, 20_000, GREEN).png().toBuffer(),
      expected: "unsupported_format",
    },
    {
      name: "over-size buffer",
      fileName: "big.jpg",
      bytes: jpeg,
      expected: "too_large",
      limits: { maxBytes: 1024 },
    },
  ];
  if (!bmpReadable)
    cases.push({ name: "BMP (no loader in this sharp)", fileName: "old.bmp", bytes: tinyBmp(), expected: "unsupported_format" });
  return cases;
}
