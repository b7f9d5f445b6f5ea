/**
 * The one place that turns an error into what a Discord user reads. Library errors carry codes;
 * anything unexpected becomes a generic apology, and `reportToUser` logs it before saying so.
 */
import type { Logger } from "pino";
import { type ErrorCode, LookalikeError } from "../retrieval/errors.ts";
import type { BotMetrics } from "./metrics.ts";
import { QueueFullError } from "./work-queue.ts";

/** An error whose message is written for the user (bad option, missing permission, ...). */
export class UserFacingError extends Error {
  override readonly name = "UserFacingError";
}

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  too_large: "That image is too large for me to look at.",
  unsupported_format: "I can only read JPEG, PNG, WebP, GIF, AVIF and TIFF images.",
  corrupt: "I could not read that image; the file looks damaged, or its link has expired.",
  too_many_pixels: "That image has too many pixels for me to decode safely.",
  timeout: "That image took too long to download or decode.",
  download_failed: "I could not download that image from Discord just now; please try again in a minute.",
  aborted: "That was cancelled.",
};

export function errorCode(error: unknown): string {
  if (error instanceof UserFacingError) return "refused";
  if (error instanceof LookalikeError) return error.code;
  if (error instanceof QueueFullError) return "busy";
  return "internal";
}

/** Error codes that are an image's own fault (what its poster sent), not the bot's or a host's. */
const IMAGE_FAULTS: ReadonlySet<string> = new Set(["corrupt", "unsupported_format", "too_large", "too_many_pixels", "refused"]);

/**
 * Logs a failure that costs work but no user reply, at the level its cause deserves: an image's
 * own fault is routine (debug), an outage (a host, the queue) needs a look (warn), and anything
 * unexpected is a bug (error).
 */
export function logFailure(logger: Logger, error: unknown, details: Record<string, unknown>, message: string): void {
  const code = errorCode(error);
  const level = code === "internal" ? "error" : IMAGE_FAULTS.has(code) ? "debug" : "warn";
  logger[level]({ err: error, ...details, code }, message);
}

/**
 * What to tell the user; `expected` is false when the error is a bug. It does not say the error
 * was logged: only `reportToUser`, which logs it, adds that.
 */
export function userMessage(error: unknown): { text: string; expected: boolean } {
  if (error instanceof UserFacingError) return { text: error.message, expected: true };
  if (error instanceof QueueFullError) return { text: "I'm very busy right now; please try again in a minute.", expected: true };
  if (error instanceof LookalikeError) {
    const known = MESSAGES[error.code];
    // A library message may name a download link; prefer the generic sentence where one exists.
    if (known) return { text: known, expected: true };
    if (error.code === "model_mismatch")
      return { text: "This server's index was built with another model; a moderator needs to re-index.", expected: false };
  }
  return { text: "Something went wrong on my side.", expected: false };
}

export interface ErrorSinks {
  readonly logger: Logger;
  readonly metrics: Pick<BotMetrics, "error">;
}

/**
 * Counts and logs an error a user is about to read about — a refusal at info as "<what> refused",
 * a bug at error with its stack as "<what> failed" — and returns the text to show them, which says
 * the error was logged when it was.
 */
export function reportToUser(error: unknown, { logger, metrics }: ErrorSinks, what: string, details: Record<string, unknown>): string {
  const { text, expected } = userMessage(error);
  metrics.error(errorCode(error));
  if (expected) {
    logger.info({ err: error, ...details }, `${what} refused`);
    return text;
  }
  logger.error({ err: error, ...details }, `${what} failed`);
  return `${text} The error was logged.`;
}
