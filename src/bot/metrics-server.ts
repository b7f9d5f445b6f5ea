/**
 * The optional HTTP endpoint for Prometheus (`GET /metrics`) and for container health checks
 * (`GET /healthz`). Plain node:http: two read-only routes need no framework.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { BotMetrics } from "./metrics.ts";

/** The setting that chooses the port, named in errors so the operator knows what to change. */
export const METRICS_PORT_SETTING = "LOOKALIKE_METRICS_PORT";

export interface HealthReport {
  /** True when the gateway is connected and the catch-up backlog is within its limit. */
  ok: boolean;
  gatewayConnected: boolean;
  backlog: number;
  backlogLimit: number;
}

/** The health rule, kept here so the bot and the tests agree on it. */
export function healthReport(gatewayConnected: boolean, backlog: number, backlogLimit: number): HealthReport {
  return { ok: gatewayConnected && backlog <= backlogLimit, gatewayConnected, backlog, backlogLimit };
}

export interface MetricsServerOptions {
  /** 0 picks a free port; the chosen one is in the result. */
  port: number;
  host?: string;
  metrics: BotMetrics;
  health: () => HealthReport | Promise<HealthReport>;
}

export interface MetricsServer {
  /** The port actually listened on. */
  port: number;
  /** Stops listening and drops idle keep-alive connections; safe to call twice. */
  close(): Promise<void>;
}

// Plain words for the listen errors an operator can fix by choosing another port.
const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: "the port is already in use",
  EACCES: "permission denied (ports below 1024 need privileges)",
};

type Route = () => Promise<{ status: number; contentType: string; body: string }>;

export async function startMetricsServer({ port, host = "0.0.0.0", metrics, health }: MetricsServerOptions): Promise<MetricsServer> {
  metrics.enableProcessMetrics();

  const routes: Record<string, Route> = {
    "/metrics": async () => ({ status: 200, contentType: metrics.contentType, body: await metrics.text() }),
    "/healthz": async () => {
      const report = await health();
      return { status: report.ok ? 200 : 503, contentType: "application/json", body: JSON.stringify(report) };
    },
  };

  const server = createServer((request, response) => {
    void handle(routes, request, response);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason = LISTEN_ERRORS[error.code ?? ""] ?? error.message;
      reject(
        new Error(`Cannot serve metrics on ${host}:${port}: ${reason}. Choose another port with ${METRICS_PORT_SETTING}.`, {
          cause: error,
        }),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });

  let closed: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      // Since Node 19, close() also drops idle keep-alive connections (a Prometheus scraper keeps
      // one open), so this resolves promptly instead of waiting for the keep-alive timeout.
      closed ??= new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      return closed;
    },
  };
}

async function handle(routes: Record<string, Route>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const route = routes[new URL(request.url ?? "/", "http://localhost").pathname];
  if (!route) return send(response, 404, "text/plain; charset=utf-8", "not found\n");
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("Allow", "GET, HEAD");
    return send(response, 405, "text/plain; charset=utf-8", "method not allowed\n");
  }
  try {
    const { status, contentType, body } = await route();
    send(response, status, contentType, body);
  } catch (error) {
    // A failing metric source or health check is a server fault, not an unhealthy bot.
    send(response, 500, "text/plain; charset=utf-8", `error: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  // Node drops the body of a HEAD response itself but keeps these headers, as HEAD requires.
  response.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
  });
  response.end(body);
}
