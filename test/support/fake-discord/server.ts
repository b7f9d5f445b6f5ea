import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { FakeCdn } from "./cdn.ts";
import { answerFileRequest, closeServer, createHandlerServer, listenOnLoopback } from "./file-host.ts";
import type { FakeGateway } from "./gateway.ts";
import type { RequestLog } from "./request-log.ts";
import { API_PREFIX, type FakeRest } from "./rest.ts";

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
 * assert that nothing was fetched from anywhere else. Discord's external-media proxy and linked
 * sites are other hosts (see linked-images.ts), as they are for a real bot.
 */
export class FakeDiscordServer {
  readonly #server: Server;

  private constructor({ rest, gateway, cdn, log }: ServerParts) {
    const files = { files: cdn, prefix: CDN_PREFIX, kind: "cdn", strayKind: "rest", log } as const;
    this.#server = createHandlerServer(async (req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (url.pathname.startsWith(`${API_PREFIX}/`)) return rest.handle(req, res, url);
      return answerFileRequest(files, req, res, url);
    });
    this.#server.on("upgrade", (req, socket, head) => {
      const path = new URL(req.url ?? "/", "http://fake").pathname;
      if (path === GATEWAY_PATH || path.startsWith(`${GATEWAY_PATH}/`)) gateway.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  static async listen(parts: ServerParts): Promise<FakeDiscordServer> {
    const server = new FakeDiscordServer(parts);
    await listenOnLoopback(server.#server, "127.0.0.1");
    return server;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Stops listening and cuts keep-alive sockets so the test process can exit. */
  close(): Promise<void> {
    return closeServer(this.#server);
  }
}
