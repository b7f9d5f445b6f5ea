/**
 * Guarded image intake: bytes or a path in, one normalised decoded image out.
 *
 * Everything that can go wrong with hostile or broken input is refused here with a typed
 * LookalikeError, so the rest of the pipeline only ever sees small 8-bit sRGB RGB pixels.
 * Order of defences: byte cap (before reading a path) → magic-byte sniffing (sharp never sees
 * SVG, HTML, PDF, ...) → header-only pixel/aspect checks → one decode with sharp's own limits,
 * all inside an overall deadline that also honours an AbortSignal.
 */
import { open, type FileHandle } from "node:fs/promises";
import sharp from "sharp"; // sharp 0.35's ESM build exports only the default at run time…
import type { FailOnOptions, Metadata, Sharp } from "sharp"; // …type-only imports are erased.
import { LookalikeError, throwIfAborted, type ErrorCode } from "./errors.ts";

// ───────────────────────────── public types ─────────────────────────────

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

// ───────────────────────────── sniffing ─────────────────────────────

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
  return new TextDecoder("utf-8").decode(head).replace(/^\uFEFF/, "").trimStart().toLowerCase();
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
function describeNonImage(bytes: Uint8Array): string | undefined {
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

// ───────────────────────────── refusals ─────────────────────────────

/** Who an error message talks about: the path when there is one, so a person can find the file. */
interface Subject {
  label: string;
  context: Record<string, unknown>;
}

function subjectOf(input: Buffer | string): Subject {
  return typeof input === "string"
    ? { label: JSON.stringify(input), context: { file: input } }
    : { label: "The image", context: { bytes: input.length } };
}

function refuse(
  code: ErrorCode,
  subject: Subject,
  text: string,
  extra: Record<string, unknown> = {},
  cause?: unknown,
): LookalikeError {
  return new LookalikeError(code, `${subject.label} ${text}`, { ...subject.context, ...extra }, { cause });
}

function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
const megapixels = (pixels: number): string => `${(pixels / 1e6).toFixed(1)} megapixels`;

function tooLarge(subject: Subject, size: number, maxBytes: number): LookalikeError {
  return refuse("too_large", subject, `is ${humanBytes(size)}, more than the ${humanBytes(maxBytes)} limit.`, {
    size,
    maxBytes,
  });
}

/** Maps a sharp/libvips failure to our codes; anything not a limit is the file's fault. */
function classifySharpError(error: unknown, subject: Subject): LookalikeError {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    return refuse("too_many_pixels", subject, "has more pixels than allowed.", {}, error);
  }
  if (/timeout/i.test(message)) {
    return refuse("timeout", subject, "took too long to decode.", {}, error);
  }
  return refuse("corrupt", subject, `could not be decoded (${message.trim()}).`, {}, error);
}

// ───────────────────────────── reading ─────────────────────────────

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

async function readInput(input: Buffer | string, maxBytes: number, subject: Subject): Promise<Buffer> {
  if (typeof input === "string") return readFileCapped(input, maxBytes, subject);
  if (input.length > maxBytes) throw tooLarge(subject, input.length, maxBytes);
  // Callers may pass any Uint8Array at run time: view it as a Buffer without copying.
  const view: Uint8Array = input;
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** Decides from the magic bytes alone whether sharp may see this input at all. */
function admitFormat(bytes: Buffer, subject: Subject): ImageFormat {
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

// ───────────────────────────── header checks ─────────────────────────────

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
async function inspectHeader(bytes: Buffer, frame: number, limits: ImageLimits, subject: Subject): Promise<Header> {
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

// ───────────────────────────── decoding ─────────────────────────────

interface DecodePlan {
  bytes: Buffer;
  frame: number;
  workingSize: number;
  limits: ImageLimits;
}

/**
 * sharp input options shared by every pass. `limitInputPixels` is the backstop for headers that
 * lie or pages we did not inspect; sharp's timeout stops libvips itself (our overall race only
 * stops waiting), and it takes whole seconds.
 */
function openSource(plan: DecodePlan, failOn: FailOnOptions): Sharp {
  return sharp(plan.bytes, { failOn, limitInputPixels: plan.limits.maxPixels, pages: 1, page: plan.frame }).timeout({
    seconds: Math.min(3600, Math.max(1, Math.ceil(plan.limits.timeoutMs / 1000))),
  });
}

/**
 * One decode to the working copy. The resize happens inside the decode (shrink-on-load: JPEG DCT
 * scaling, WebP/AVIF scaled decoding), so a 4000×3000 photo is never expanded to full size.
 */
async function decodeWorkingCopy(plan: DecodePlan, failOn: FailOnOptions) {
  const size = plan.workingSize;
  const { data, info } = await openSource(plan, failOn)
    .autoOrient() // = rotate() without angle: applies EXIF orientation
    .resize({ width: size, height: size, fit: "inside", withoutEnlargement: true })
    // White, not black: transparent regions are almost always meant as "page background"
    // (logos, stickers, screenshots) and a black fill would make dark-on-clear art vanish.
    .flatten({ background: "#ffffff" })
    // Converts CMYK, greyscale, palette, 16-bit and ICC-tagged inputs to plain 8-bit sRGB.
    .toColourspace("srgb")
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new LookalikeError("internal", `Decoder produced ${info.channels} channels instead of 3.`);
  }
  return { pixels: data, width: info.width, height: info.height };
}

/** Whether the file ends before its format's end marker, i.e. was cut off. */
function looksTruncated(bytes: Buffer, format: ImageFormat): boolean {
  const end = bytes.length;
  switch (format) {
    case "jpeg":
      return !(bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9);
    case "png":
      return bytes.toString("latin1", end - 8, end - 4) !== "IEND";
    case "gif":
      return bytes[end - 1] !== 0x3b;
    case "webp":
      return end < 8 || bytes.readUInt32LE(4) + 8 > end;
    default:
      return false;
  }
}

/**
 * Share of rows (0..1) that hold real data in a truncated file. Decoders fill what is missing
 * with one flat value (libjpeg: grey 128; libpng: black) from the cut onwards, so we count
 * uniform rows matching the last row, bottom-up, on a small 64-row probe decoded without
 * orientation (the cut is always at the bottom of the stored image).
 */
async function intactFraction(plan: DecodePlan): Promise<number> {
  const rows = 64;
  const { data, info } = await openSource(plan, "none")
    .resize(rows, rows, { fit: "fill" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const stride = info.width * info.channels;
  const fill = data.subarray(data.length - info.channels);
  const isFillRow = (row: number) =>
    data.subarray(row * stride, (row + 1) * stride).every((v, i) => Math.abs(v - fill[i % info.channels]!) <= 2);
  let missing = 0;
  while (missing < info.height && isFillRow(info.height - 1 - missing)) missing++;
  return missing === info.height ? 0 : 1 - missing / info.height;
}

/**
 * Strict first, tolerant only for truncation. `failOn: "error"` (not the default "warning")
 * accepts files whose decoder merely warns (e.g. "extraneous bytes before marker", common from
 * phone cameras) but refuses real decode errors. sharp has no level that refuses errors yet
 * accepts truncation ("truncated" refuses even a lost EOI marker), so a file that failed and
 * visibly ends early is retried with `failOn: "none"` and kept only if nearly all rows decoded.
 */
async function decodeWithTruncationFallback(plan: DecodePlan, format: ImageFormat, subject: Subject) {
  try {
    return { ...(await decodeWorkingCopy(plan, "error")), warnings: [] as string[] };
  } catch (error) {
    const refusal = error instanceof LookalikeError ? error : classifySharpError(error, subject);
    if (refusal.code !== "corrupt" || !looksTruncated(plan.bytes, format)) throw refusal;
  }
  try {
    const intact = await intactFraction(plan);
    const percent = Math.round(intact * 100);
    if (intact < MIN_INTACT_FRACTION) {
      throw refuse("corrupt", subject, `is truncated: only about ${percent}% of the image is present.`, { intact });
    }
    const decoded = await decodeWorkingCopy(plan, "none");
    return { ...decoded, warnings: [`File is truncated; decoded the ~${percent}% that is present.`] };
  } catch (error) {
    throw error instanceof LookalikeError ? error : classifySharpError(error, subject);
  }
}

// ───────────────────────────── deadline ─────────────────────────────

/**
 * Races `work` against the deadline and the caller's AbortSignal. libvips cannot be interrupted
 * from here: losing the race only stops waiting (sharp's own timeout ends the native work), and
 * `work` gets a signal so it stops before its next stage. Promise.race subscribes to `work`, so
 * its later rejection is handled, never an unhandled rejection.
 */
async function withDeadline<T>(
  work: (stop: AbortSignal) => Promise<T>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  subject: Subject,
): Promise<T> {
  throwIfAborted(signal, subject.context);
  const stop = new AbortController();
  const timer = setTimeout(
    () => stop.abort(refuse("timeout", subject, `was not decoded within ${timeoutMs} ms.`, { timeoutMs })),
    timeoutMs,
  );
  const onAbort = () =>
    stop.abort(refuse("aborted", subject, "was not decoded: the operation was cancelled.", {}, signal?.reason));
  signal?.addEventListener("abort", onAbort, { once: true });
  const stopped = new Promise<never>((_, reject) => {
    stop.signal.addEventListener("abort", () => reject(stop.signal.reason), { once: true });
  });
  try {
    return await Promise.race([work(stop.signal), stopped]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

function resolveOptions(options: DecodeOptions) {
  // Ignore keys given as `undefined`, so `{ maxBytes: undefined }` means "the default".
  const given = Object.entries(options.limits ?? {}).filter(([, value]) => value !== undefined);
  const limits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, ...Object.fromEntries(given) };
  const workingSize = options.workingSize ?? DEFAULT_WORKING_SIZE;
  const frame = options.frame ?? 0;
  const valid =
    Object.values(limits).every((v) => Number.isFinite(v) && v > 0) &&
    Number.isInteger(workingSize) &&
    workingSize > 0 &&
    Number.isInteger(frame) &&
    frame >= 0;
  if (!valid) {
    throw new LookalikeError("internal", "Invalid decode options.", { limits, workingSize, frame });
  }
  return { limits, workingSize, frame };
}

/**
 * Decodes one image (a Buffer, or a file path) into a small normalised working copy.
 * Every refusal is a LookalikeError: too_large, unsupported_format, corrupt, too_many_pixels,
 * timeout or aborted.
 */
export async function decodeImage(input: Buffer | string, options: DecodeOptions = {}): Promise<DecodedImage> {
  const { limits, workingSize, frame } = resolveOptions(options);
  const subject = subjectOf(input);
  return withDeadline(
    async (stop) => {
      const bytes = await readInput(input, limits.maxBytes, subject);
      const format = admitFormat(bytes, subject);
      const header = await inspectHeader(bytes, frame, limits, subject);
      stop.throwIfAborted(); // the caller has gone: don't start the expensive decode
      const plan = { bytes, frame, workingSize, limits };
      const { warnings, ...copy } = await decodeWithTruncationFallback(plan, format, subject);
      return { ...copy, ...header, format, ...(warnings.length > 0 ? { warnings } : {}) };
    },
    limits.timeoutMs,
    options.signal,
    subject,
  );
}

// ───────────────────────────── working-copy operations ─────────────────────────────

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
