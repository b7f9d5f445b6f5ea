// Decodes one image to the working copy: strict pass, truncation fallback, all within a deadline.

import type { FailOnOptions, Sharp } from "sharp"; // …type-only imports are erased.
import sharp from "sharp"; // sharp 0.35's ESM build exports only the default at run time…
import { LookalikeError, throwIfAborted } from "../errors.ts";
import { inspectHeader } from "./header.ts";
import { admitFormat, readInput } from "./read.ts";
import { classifySharpError, refuse, type Subject, subjectOf } from "./refusals.ts";
import {
  DEFAULT_IMAGE_LIMITS,
  DEFAULT_WORKING_SIZE,
  type DecodedImage,
  type DecodeOptions,
  type ImageFormat,
  type ImageLimits,
  MIN_INTACT_FRACTION,
} from "./types.ts";

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
  const { data, info } = await openSource(plan, "none").resize(rows, rows, { fit: "fill" }).raw().toBuffer({ resolveWithObject: true });
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
  const onAbort = () => stop.abort(refuse("aborted", subject, "was not decoded: the operation was cancelled.", {}, signal?.reason));
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
