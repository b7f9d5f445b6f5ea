import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakeCdn } from "./cdn.ts";
import { decodePathSegments } from "./path-pattern.ts";
import type { RecordedRequest, RequestLog } from "./request-log.ts";
import { flattenHeaders } from "./rest.ts";

/**
 * Plain HTTP file hosting: the CDN inside the main server, and hosts of their own for Discord's
 * external-media proxy and for the third-party site a link points at. Separate hosts let a test
 * tell where the bot downloaded from, as a real bot's allow-list does.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** An HTTP server whose handler may throw: the client gets a 500 with the error instead of a hang. */
export function createHandlerServer(handler: Handler): Server {
  return createServer((req, res) => {
    void handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });
}

/** Listens on a random port of `address` (any of 127.0.0.0/8 is loopback on Linux). */
export async function listenOnLoopback(server: Server, address: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Stops listening and cuts keep-alive sockets so the test process can exit. */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

export interface FileRoute {
  readonly files: FakeCdn;
  /** Decoded paths under this prefix are looked up in `files`; anything else is a 404. */
  readonly prefix: string;
  readonly kind: RecordedRequest["kind"];
  /** How a request outside `prefix` is logged; default `kind`. */
  readonly strayKind?: RecordedRequest["kind"];
  readonly log: RequestLog;
}

/** Answers a request that is not a REST call and records it (route `<prefix>**`, or null when unknown). */
export async function answerFileRequest(route: FileRoute, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const path = `/${decodePathSegments(url.pathname).join("/")}`;
  const known = path.startsWith(route.prefix);
  const status = known ? await route.files.serve(path, method, res) : notFound(res);
  route.log.push({
    index: route.log.length,
    kind: known ? route.kind : (route.strayKind ?? route.kind),
    method,
    path,
    rawPath: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: flattenHeaders(req),
    json: undefined,
    files: [],
    route: known ? `${route.prefix}**` : null,
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

/** A host of its own that only serves files, e.g. the external-media proxy on 127.0.0.2. */
export class FileHost {
  readonly #server: Server;

  private constructor(route: FileRoute) {
    this.#server = createHandlerServer((req, res) => answerFileRequest(route, req, res, new URL(req.url ?? "/", "http://fake")));
  }

  static async start(address: string, route: FileRoute): Promise<FileHost> {
    const host = new FileHost(route);
    await listenOnLoopback(host.#server, address);
    return host;
  }

  /** `address:port`, as `URL.host` spells it. */
  get host(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return `${address}:${port}`;
  }

  get baseUrl(): string {
    return `http://${this.host}`;
  }

  close(): Promise<void> {
    return closeServer(this.#server);
  }
}
