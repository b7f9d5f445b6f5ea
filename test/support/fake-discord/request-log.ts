import { pathPredicate } from "./path-pattern.ts";
import { WaitableLog } from "./waitable-log.ts";

export interface RecordedFile {
  /** Multipart field name, e.g. `files[0]`. */
  field: string;
  /** File name as uploaded, e.g. `matches.webp`. */
  name: string;
  contentType: string;
  bytes: Buffer;
}

export interface RecordedRequest {
  /** Position in the log: pass it as `since` to wait only for later requests. */
  index: number;
  /**
   * `external`: Discord's external-media proxy (images of unfurled links); `origin`: the third-party
   * site such a link points at, which a bot should never fetch.
   */
  kind: "rest" | "cdn" | "external" | "origin";
  method: string;
  /** Decoded path without the `/api/v10` (REST) prefix, e.g. `/webhooks/1/tok/messages/@original`. */
  path: string;
  /** Path exactly as sent, e.g. `/api/v10/webhooks/1/tok/messages/%40original`. */
  rawPath: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** JSON body, or the parsed `payload_json` of a multipart body; undefined when there was none. */
  json: unknown;
  files: RecordedFile[];
  /** Route template that handled it (`/channels/:channelId/messages`), or null when unknown (404). */
  route: string | null;
  status: number;
  /** True when the answer was an injected 429. */
  rateLimited: boolean;
  at: Date;
  /** Stack of an exception inside the fake itself (answered 500): a bug in the fake, not the bot. */
  error?: string;
}

/** Match by function, or by method and path (a string is a route template, see path-pattern.ts). */
export type RequestMatcher =
  | ((request: RecordedRequest) => boolean)
  | { method?: string; path?: string | RegExp; kind?: RecordedRequest["kind"] };

export function describeRequest(request: RecordedRequest): string {
  const query = new URLSearchParams(request.query).toString();
  return `${request.method} ${request.path}${query ? `?${query}` : ""} → ${request.status}`;
}

export function toRequestPredicate(matcher: RequestMatcher): (request: RecordedRequest) => boolean {
  if (typeof matcher === "function") return matcher;
  const { method, path, kind } = matcher;
  const pathMatches = pathPredicate(path);
  return (request) =>
    (method === undefined || request.method === method.toUpperCase()) &&
    (kind === undefined || request.kind === kind) &&
    pathMatches(request.path);
}

export function describeMatcher(matcher: RequestMatcher): string {
  if (typeof matcher === "function") return matcher.name || "a request matching the predicate";
  return [matcher.kind, matcher.method ?? "any method", String(matcher.path ?? "any path")].filter(Boolean).join(" ");
}

export class RequestLog extends WaitableLog<RecordedRequest> {
  constructor() {
    super(describeRequest);
  }
}
