import { compilePathPattern, type PathMatcher, type PathParams } from "./path-pattern.ts";
import type { RecordedFile } from "./request-log.ts";

export interface RestRequest {
  method: string;
  /** Decoded path, e.g. `/channels/1/messages/2/reactions/👀/@me`. */
  path: string;
  params: PathParams;
  /** A path parameter the route template declares (so it is always there). */
  param: (name: string) => string;
  query: URLSearchParams;
  /** JSON body or parsed `payload_json`; undefined without a body. */
  json: unknown;
  files: RecordedFile[];
  /** Whether an Authorization header came with the request. */
  authorized: boolean;
}

export interface RestResponse {
  status: number;
  /** Omitted for 204: Discord sends no body (and discord.js must not try to parse one). */
  json?: unknown;
}

export type RouteHandler = (request: RestRequest) => RestResponse | Promise<RestResponse>;

export interface RouteOptions {
  /** Interaction callbacks and webhook-token routes need no bot token (discord.js sends none). */
  auth?: boolean;
}

export interface Route {
  method: string;
  template: string;
  handler: RouteHandler;
  auth: boolean;
}

export const ok = (json: unknown): RestResponse => ({ status: 200, json });
export const noContent = (): RestResponse => ({ status: 204 });

/** Method + template → handler. First match wins, so specific templates go before general ones. */
export class Router {
  readonly #routes: (Route & { match: PathMatcher })[] = [];

  on(method: string, template: string, handler: RouteHandler, options: RouteOptions = {}): this {
    this.#routes.push({
      method: method.toUpperCase(),
      template,
      handler,
      auth: options.auth ?? true,
      match: compilePathPattern(template),
    });
    return this;
  }

  resolve(method: string, segments: readonly string[]): { route: Route; params: PathParams } | undefined {
    for (const route of this.#routes) {
      if (route.method !== method) continue;
      const params = route.match(segments);
      if (params) return { route, params };
    }
    return undefined;
  }
}
