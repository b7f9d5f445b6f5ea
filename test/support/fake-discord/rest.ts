import type { IncomingMessage, ServerResponse } from "node:http";
import { DiscordApiError, discordErrors } from "./errors.ts";
import { type ParsedBody, parseRequestBody } from "./http-body.ts";
import { decodePathSegments } from "./path-pattern.ts";
import type { RateLimiter } from "./rate-limits.ts";
import type { RecordedRequest, RequestLog } from "./request-log.ts";
import type { RestResponse, Router } from "./router.ts";

export const API_PREFIX = "/api/v10";

interface Outcome {
  status: number;
  headers: Record<string, string>;
  json?: unknown;
  route: string | null;
  rateLimited: boolean;
  error?: string;
}

/**
 * The HTTP side of the REST fake: reads and parses the body, answers injected 429s, runs the
 * route, turns thrown DiscordApiErrors into Discord's error JSON, and records every call.
 */
export class FakeRest {
  constructor(
    private readonly router: Router,
    private readonly rateLimits: RateLimiter,
    private readonly log: RequestLog,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const segments = decodePathSegments(url.pathname.slice(API_PREFIX.length));
    const path = `/${segments.join("/")}`;
    let body: ParsedBody = { json: undefined, files: [] };
    let outcome: Outcome;
    try {
      body = await parseRequestBody(req.headers["content-type"], await readBody(req));
      outcome = await this.#answer(method, segments, path, url, body, req);
    } catch (error) {
      outcome = errorOutcome(error, null);
    }
    send(res, outcome);
    this.log.push(record(this.log.length, req, method, path, url, body, outcome));
  }

  async #answer(method: string, segments: string[], path: string, url: URL, body: ParsedBody, req: IncomingMessage): Promise<Outcome> {
    const resolved = this.router.resolve(method, segments);
    const template = resolved?.route.template ?? null;
    const bucketKey = `${method} ${template ?? path}`;
    const limited = this.rateLimits.take(method, path, bucketKey);
    if (limited) return { status: 429, headers: limited.headers, json: limited.body, route: template, rateLimited: true };
    if (!resolved) return errorOutcome(discordErrors.notFound(), null);

    const authorized = typeof req.headers.authorization === "string" && req.headers.authorization.length > 0;
    if (resolved.route.auth && !authorized) {
      return errorOutcome(new DiscordApiError(401, 0, "401: Unauthorized"), template);
    }
    try {
      const response: RestResponse = await resolved.route.handler({
        method,
        path,
        params: resolved.params,
        param: (name) => {
          const value = resolved.params[name];
          if (value === undefined) throw new Error(`route ${template} has no parameter :${name}`);
          return value;
        },
        query: url.searchParams,
        json: body.json,
        files: body.files,
        authorized,
      });
      return { ...response, headers: this.rateLimits.successHeaders(bucketKey), route: template, rateLimited: false };
    } catch (error) {
      return errorOutcome(error, template);
    }
  }
}

function errorOutcome(error: unknown, route: string | null): Outcome {
  if (error instanceof DiscordApiError) {
    return { status: error.status, headers: {}, json: error.toJSON(), route, rateLimited: false };
  }
  // A bug in the fake itself: answer 500 (discord.js retries those) and keep the stack for the test.
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    status: 500,
    headers: {},
    json: { message: "500: Internal Server Error", code: 0 },
    route,
    rateLimited: false,
    error: detail,
  };
}

function send(res: ServerResponse, outcome: Outcome): void {
  if (outcome.status === 204 || outcome.json === undefined) {
    // No content-type on empty answers: discord.js would try to parse JSON and fail.
    res.writeHead(outcome.status, outcome.headers);
    res.end();
    return;
  }
  const payload = JSON.stringify(outcome.json);
  res.writeHead(outcome.status, {
    ...outcome.headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

function record(
  index: number,
  req: IncomingMessage,
  method: string,
  path: string,
  url: URL,
  body: ParsedBody,
  outcome: Outcome,
): RecordedRequest {
  return {
    index,
    kind: "rest",
    method,
    path,
    rawPath: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: flattenHeaders(req),
    json: body.json,
    files: body.files,
    route: outcome.route,
    status: outcome.status,
    rateLimited: outcome.rateLimited,
    at: new Date(),
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}

export function flattenHeaders(req: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    Object.entries(req.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : (value ?? "")]),
  );
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
