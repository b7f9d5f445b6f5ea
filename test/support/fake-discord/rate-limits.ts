import { createHash } from "node:crypto";
import { pathPredicate } from "./path-pattern.ts";

export interface RateLimitInjection {
  /** Default: any method. */
  method?: string;
  /** Route template (`/channels/:id/messages`) or RegExp, matched against the decoded path. */
  path: string | RegExp;
  /** How many matching calls get a 429 before calls pass again. Default 1. */
  times?: number;
  /** Sent as `retry-after` (seconds, fractions allowed; discord.js waits that long). Default 0.05. */
  retryAfterSeconds?: number;
  /** A global limit (`x-ratelimit-global`) instead of a per-route one. */
  global?: boolean;
}

interface ActiveInjection {
  spec: RateLimitInjection;
  matchesPath: (path: string) => boolean;
  remaining: number;
}

const DEFAULT_RETRY_AFTER_SECONDS = 0.05;
/** Generous limits on success, so discord.js never throttles itself unless a test injects a 429. */
const SUCCESS_LIMIT = 50;

export interface RateLimitedAnswer {
  headers: Record<string, string>;
  body: { message: string; retry_after: number; global: boolean };
}

/** 429s on demand, and the `x-ratelimit-*` headers discord.js' REST queue reads on every answer. */
export class RateLimiter {
  readonly #injections: ActiveInjection[] = [];

  inject(spec: RateLimitInjection): void {
    this.#injections.push({ spec, matchesPath: pathPredicate(spec.path), remaining: spec.times ?? 1 });
  }

  /** Consumes one injected 429 for this call, if any is pending. */
  take(method: string, path: string, bucketKey: string): RateLimitedAnswer | undefined {
    const injection = this.#injections.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.spec.method === undefined || candidate.spec.method.toUpperCase() === method) &&
        candidate.matchesPath(path),
    );
    if (!injection) return undefined;
    injection.remaining -= 1;
    const retryAfter = injection.spec.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    const global = injection.spec.global ?? false;
    const headers: Record<string, string> = {
      "retry-after": String(retryAfter),
      "x-ratelimit-limit": String(SUCCESS_LIMIT),
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": String((Date.now() / 1000 + retryAfter).toFixed(3)),
      "x-ratelimit-reset-after": String(retryAfter),
      "x-ratelimit-bucket": bucketHash(bucketKey),
      "x-ratelimit-scope": global ? "global" : "user",
    };
    if (global) headers["x-ratelimit-global"] = "true";
    return { headers, body: { message: "You are being rate limited.", retry_after: retryAfter, global } };
  }

  successHeaders(bucketKey: string): Record<string, string> {
    return {
      "x-ratelimit-limit": String(SUCCESS_LIMIT),
      "x-ratelimit-remaining": String(SUCCESS_LIMIT - 1),
      "x-ratelimit-reset": String((Date.now() / 1000 + 1).toFixed(3)),
      "x-ratelimit-reset-after": "1.000",
      "x-ratelimit-bucket": bucketHash(bucketKey),
    };
  }
}

/** Discord names buckets with opaque hashes; a stable hash per method + route is enough here. */
function bucketHash(key: string): string {
  return createHash("sha1").update(key).digest("hex").slice(0, 32);
}
