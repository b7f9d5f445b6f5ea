/**
 * What an embedding job carries and what comes back, and how both are encoded.
 *
 * Both directions are encoded whole with v8's structured serialisation, never field by field: an
 * `AnalyzedImage` holds typed arrays, bigints and a Buffer, and gains fields as the fingerprint
 * grows, and v8 keeps all of those as they are. The encoded payloads travel as binary Redis values
 * beside the job (payloads.ts). Producer and worker run the same code, so they agree on the
 * shapes; the queue's name carries PROTOCOL_VERSION and the vector space, so a worker only ever
 * takes jobs it understands and produces vectors comparable with the collection's.
 */
import v8 from "node:v8";
import type { AnalyzedImage, AnalyzeOptions } from "../engine.ts";
import { type ErrorCode, isLookalikeError, LookalikeError } from "../errors.ts";
import type { ImageLimits } from "../image.ts";
import type { VectorSpace } from "../store/schema.ts";

/** Bumped when the request or outcome changes incompatibly: old workers then see no new jobs. */
export const PROTOCOL_VERSION = 2;

/** BullMQ key prefix: every key of the queue lives under `lookalike:`. */
export const QUEUE_PREFIX = "lookalike";

/** One image to analyse: its bytes (Discord's CDN links expire, so never a URL) and how. */
export interface AnalyzeRequest {
  readonly bytes: Buffer;
  readonly options: Omit<AnalyzeOptions, "signal">;
  /** The caller's decode limits, so the worker refuses exactly what the caller would have. */
  readonly limits: Partial<ImageLimits> | undefined;
}

/** A refusal of the image itself, sent back as a result: it is the answer, not a failure to retry. */
export interface Refusal {
  readonly code: ErrorCode;
  readonly message: string;
  readonly context: Record<string, unknown>;
}

/**
 * One image's answer. `failed`: the worker could not analyse it for another reason than the image
 * (the model failed) on the job's last attempt; its batch-mates keep their own answers.
 */
export type AnalyzeOutcome = { readonly image: AnalyzedImage } | { readonly refused: Refusal } | { readonly failed: string };

/** A job's request payload: one or more images (batch.ts), answered by as many outcomes, in order. */
export type JobRequest = readonly AnalyzeRequest[];
export type JobResult = readonly AnalyzeOutcome[];

/** A job's data as BullMQ stores it (JSON): the payloads are found by the job's id; this is for people looking at the queue. */
export interface JobData {
  /** Images in the job. */
  readonly images: number;
  /** Their size in bytes. */
  readonly bytes: number;
}

/**
 * Refusals of the input: the same bytes are refused again on any worker, so retrying is pointless.
 * Every other failure (the model crashed, the worker is shutting down) is retried by BullMQ.
 */
const INPUT_REFUSALS: ReadonlySet<ErrorCode> = new Set(["too_large", "unsupported_format", "corrupt", "too_many_pixels", "timeout"]);

export function isInputRefusal(error: unknown): error is LookalikeError {
  return isLookalikeError(error) && INPUT_REFUSALS.has(error.code);
}

export function encode(value: JobRequest | JobResult): Buffer {
  return v8.serialize(value);
}

export function decode<T extends JobRequest | JobResult>(bytes: Buffer): T {
  return v8.deserialize(bytes) as T;
}

/** The refusal as data; context values v8 cannot carry (a function, a socket) are left out. */
export function refusalOf(error: LookalikeError): Refusal {
  const context: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error.context)) {
    try {
      v8.serialize(value);
      context[key] = value;
    } catch {
      // not serialisable: dropped, the message still says what happened
    }
  }
  return { code: error.code, message: error.message, context };
}

/** The same typed error the caller would have got in-process, with the caller's own context added. */
export function errorOf(refusal: Refusal, context: Record<string, unknown>): LookalikeError {
  return new LookalikeError(refusal.code, refusal.message, { ...refusal.context, ...context });
}

/**
 * The queue of one vector space: workers with another model or pooling never see its jobs. BullMQ
 * forbids ":" in names (its key separator), so everything but letters, digits, "-", "_" and "." is "-".
 */
export function queueName(space: VectorSpace): string {
  return `embed-v${PROTOCOL_VERSION}-${space.model}-${space.descriptor}`.replace(/[^A-Za-z0-9_.-]/g, "-");
}

/** Where a queue's payloads are kept: beside its BullMQ keys. */
export function payloadPrefix(queue: string): string {
  return `${QUEUE_PREFIX}:${queue}`;
}
