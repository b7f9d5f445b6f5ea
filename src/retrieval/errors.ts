/**
 * Every failure the library reports carries a machine-readable code, a message a person
 * understands, and the context it happened in (file, URL, collection...). Callers (CLI, bot)
 * map codes to exit codes or replies in exactly one place each.
 */
export type ErrorCode =
  // image intake
  | "too_large"
  | "unsupported_format"
  | "corrupt"
  | "too_many_pixels"
  | "timeout"
  /** The image's host failed (5xx, 429, no answer in time) or could not be reached: worth another try later. */
  | "download_failed"
  // models
  | "model_unknown"
  | "model_download_failed"
  | "model_checksum_mismatch"
  | "model_load_failed"
  // storage
  | "collection_invalid"
  | "model_mismatch"
  | "invalid_filter"
  | "db_location_invalid"
  | "object_store_config_invalid"
  | "db_config_invalid"
  // embedding queue (Redis)
  | "queue_config_invalid"
  | "queue_unavailable"
  // generic
  | "aborted"
  | "internal";

export class LookalikeError extends Error {
  override readonly name = "LookalikeError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export function isLookalikeError(error: unknown, code?: ErrorCode): error is LookalikeError {
  return error instanceof LookalikeError && (code === undefined || error.code === code);
}

/** Throws the signal's reason as an `aborted` LookalikeError if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, context: Record<string, unknown> = {}): void {
  if (signal?.aborted) {
    throw new LookalikeError("aborted", "The operation was cancelled.", context, { cause: signal.reason });
  }
}
