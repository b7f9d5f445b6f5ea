import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakeCdn } from "./cdn.ts";
import type { FakeGateway } from "./gateway.ts";
import { decodePathSegments } from "./path-pattern.ts";
import { API_PREFIX, flattenHeaders, type FakeRest } from "./rest.ts";
import type { RequestLog } from "./request-log.ts";

export const GATEWAY_PATH = "/gateway";
export const CDN_PREFIX = "/cdn/";

export interface ServerParts {
  rest: FakeRest;
  gateway: FakeGateway;
  cdn: FakeCdn;
  log: RequestLog;
}

/**
 * One loopback HTTP server for everything: REST under /api/v10, the CDN under /cdn, and the
 * gateway as a WebSocket upgrade under /gateway. One port keeps URLs simple and lets a test
 * assert that nothing was fetched from anywhere else.
 */
export class FakeDiscordServer {
  readonly #server: Server;

  private constructor(parts: ServerParts) {
    this.#server = createServer((req, res) => {
      void route(parts, req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(error));
      });
    });
    this.#server.on("upgrade", (req, socket, head) => {
      const path = new URL(req.url ?? "/", "http://fake").pathname;
      if (path === GATEWAY_PATH || path.startsWith(`${GATEWAY_PATH}/`)) parts.gateway.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  static async listen(parts: ServerParts): Promise<FakeDiscordServer> {
    const server = new FakeDiscordServer(parts);
    await new Promise<void>((resolve, reject) => {
      server.#server.once("error", reject);
      server.#server.listen(0, "127.0.0.1", () => resolve());
    });
    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Stops listening and cuts keep-alive sockets so the test process can exit. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }
}

async function route({ rest, cdn, log }: ServerParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (url.pathname.startsWith(`${API_PREFIX}/`)) return rest.handle(req, res, url);

  const method = (req.method ?? "GET").toUpperCase();
  const path = `/${decodePathSegments(url.pathname).join("/")}`;
  const isCdn = url.pathname.startsWith(CDN_PREFIX);
  const status = isCdn ? await cdn.serve(path, method, res) : notFound(res);
  log.push({
    index: log.length,
    kind: isCdn ? "cdn" : "rest",
    method,
    path,
    rawPath: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: flattenHeaders(req),
    json: undefined,
    files: [],
    route: isCdn ? "/cdn/**" : null,
    status,
    rateLimited: false,
    at: new Date(),
  });
}

function notFound(res: ServerResponse): number {
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ message: "404: Not Found", code: 0 }));
  return 404;
}
