// Reads a buffer or a file under the byte cap and admits only decodable raster formats.
import { type FileHandle, open } from "node:fs/promises";
import { LookalikeError } from "../errors.ts";
import { refuse, type Subject, subjectOf, tooLarge } from "./refusals.ts";
import { describeNonImage, isDecodableFormat, sniffImageFormat } from "./sniff.ts";
import { DEFAULT_IMAGE_LIMITS, type ImageFormat } from "./types.ts";

const FS_REASONS: Record<string, string> = {
  ENOENT: "does not exist",
  EACCES: "cannot be read (permission denied)",
  EPERM: "cannot be read (permission denied)",
  EISDIR: "is a directory, not an image file",
};

function unreadable(subject: Subject, error: unknown): LookalikeError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "";
  return refuse("corrupt", subject, `${FS_REASONS[code] ?? "cannot be read"}.`, { errno: code }, error);
}

/** Reads a whole file, checking the byte cap with fstat first so an oversized file is never read. */
async function readFileCapped(path: string, maxBytes: number, subject: Subject): Promise<Buffer> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw unreadable(subject, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refuse("corrupt", subject, "is not a regular file.");
    if (info.size > maxBytes) throw tooLarge(subject, info.size, maxBytes);
    // One spare byte detects a file that grew after the stat: the cap must hold for what we read.
    const buffer = Buffer.allocUnsafe(info.size + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > info.size) throw refuse("corrupt", subject, "changed while it was being read.");
    return buffer.subarray(0, filled);
  } catch (error) {
    throw error instanceof LookalikeError ? error : unreadable(subject, error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

export async function readInput(input: Buffer | string, maxBytes: number, subject: Subject): Promise<Buffer> {
  if (typeof input === "string") return readFileCapped(input, maxBytes, subject);
  if (input.length > maxBytes) throw tooLarge(subject, input.length, maxBytes);
  // Callers may pass any Uint8Array at run time: view it as a Buffer without copying.
  const view: Uint8Array = input;
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * An image's bytes under the byte cap (a path is read, a Buffer checked), refused as decodeImage
 * refuses them; nothing is decoded. For callers that hand the bytes on (the embedding queue).
 */
export function readImageBytes(input: Buffer | string, maxBytes: number = DEFAULT_IMAGE_LIMITS.maxBytes): Promise<Buffer> {
  return readInput(input, maxBytes, subjectOf(input));
}

/** Decides from the magic bytes alone whether sharp may see this input at all. */
export function admitFormat(bytes: Buffer, subject: Subject): ImageFormat {
  if (bytes.length === 0) throw refuse("corrupt", subject, "is empty (0 bytes).");
  const format = sniffImageFormat(bytes);
  if (format === "svg") {
    // sharp would rasterise SVG through librsvg (any canvas size it declares, external
    // references): a large attack surface for no gain, so it is refused before sharp sees it.
    throw refuse("unsupported_format", subject, "is an SVG (vector) image; only raster images are accepted.", {
      format,
    });
  }
  if (format === undefined) {
    const what = describeNonImage(bytes);
    if (what) throw refuse("unsupported_format", subject, `is ${what}, not a supported image.`);
    throw refuse("corrupt", subject, "is not a readable image (unrecognised or damaged data).");
  }
  if (!isDecodableFormat(format)) {
    throw refuse("unsupported_format", subject, `is a ${format.toUpperCase()} image, which cannot be read here.`, {
      format,
    });
  }
  return format;
}
