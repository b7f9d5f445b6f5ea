/**
 * Discord reports `width`/`height` for image attachments. Reading them from the header lets
 * tests pass just bytes; unknown formats get no size, as Discord does for non-images.
 */
export interface ImageSize {
  width: number;
  height: number;
}

/** Declared dimensions when both are given, else the ones read from the bytes (or none). */
export function imageDimensions(spec: { bytes: Uint8Array; width?: number; height?: number }): Partial<ImageSize> {
  if (spec.width !== undefined && spec.height !== undefined) return { width: spec.width, height: spec.height };
  const sniffed = sniffImageSize(spec.bytes);
  return { width: spec.width ?? sniffed?.width, height: spec.height ?? sniffed?.height };
}

export function sniffImageSize(bytes: Uint8Array): ImageSize | null {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < 30) return null;
  if (data.readUInt32BE(0) === 0x89504e47) {
    return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
  }
  if (data.toString("ascii", 0, 3) === "GIF") {
    return { width: data.readUInt16LE(6), height: data.readUInt16LE(8) };
  }
  if (data.toString("ascii", 0, 4) === "RIFF" && data.toString("ascii", 8, 12) === "WEBP") {
    return webpSize(data);
  }
  if (data[0] === 0xff && data[1] === 0xd8) return jpegSize(data);
  return null;
}

function webpSize(data: Buffer): ImageSize | null {
  const chunk = data.toString("ascii", 12, 16);
  if (chunk === "VP8X") {
    return { width: 1 + data.readUIntLE(24, 3), height: 1 + data.readUIntLE(27, 3) };
  }
  if (chunk === "VP8 ") {
    return { width: data.readUInt16LE(26) & 0x3fff, height: data.readUInt16LE(28) & 0x3fff };
  }
  if (chunk === "VP8L") {
    const bits = data.readUInt32LE(21);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
  }
  return null;
}

/** Walks JPEG segments to the first start-of-frame marker, which holds the dimensions. */
function jpegSize(data: Buffer): ImageSize | null {
  let offset = 2;
  while (offset + 9 < data.length) {
    if (data[offset] !== 0xff) return null;
    const marker = data[offset + 1] as number;
    const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isStartOfFrame) return { height: data.readUInt16BE(offset + 5), width: data.readUInt16BE(offset + 7) };
    offset += 2 + data.readUInt16BE(offset + 2);
  }
  return null;
}
