// Builds the typed LookalikeError refusals, naming the file or buffer they are about.
import { type ErrorCode, LookalikeError } from "../errors.ts";

/** Who an error message talks about: the path when there is one, so a person can find the file. */
export interface Subject {
  label: string;
  context: Record<string, unknown>;
}

export function subjectOf(input: Buffer | string): Subject {
  return typeof input === "string"
    ? { label: JSON.stringify(input), context: { file: input } }
    : { label: "The image", context: { bytes: input.length } };
}

export function refuse(
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
export const megapixels = (pixels: number): string => `${(pixels / 1e6).toFixed(1)} megapixels`;

export function tooLarge(subject: Subject, size: number, maxBytes: number): LookalikeError {
  return refuse("too_large", subject, `is ${humanBytes(size)}, more than the ${humanBytes(maxBytes)} limit.`, {
    size,
    maxBytes,
  });
}

/** Maps a sharp/libvips failure to our codes; anything not a limit is the file's fault. */
export function classifySharpError(error: unknown, subject: Subject): LookalikeError {
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    return refuse("too_many_pixels", subject, "has more pixels than allowed.", {}, error);
  }
  if (/timeout/i.test(message)) {
    return refuse("timeout", subject, "took too long to decode.", {}, error);
  }
  return refuse("corrupt", subject, `could not be decoded (${message.trim()}).`, {}, error);
}
