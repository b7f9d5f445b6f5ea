import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * How the CDN answers for one path. Besides plain bytes it can misbehave in the ways a bot that
 * downloads user images must survive: redirects elsewhere, lying content types, endless bodies.
 */
export interface CdnAssetSpec {
  bytes?: Uint8Array;
  /** Sent as Content-Type; default guessed from the file extension. Set it "wrong" to test sniffing. */
  contentType?: string;
  /** Answer 302 with this Location instead of the bytes (e.g. a non-Discord host). */
  redirectTo?: string;
  /** Answer this status with an empty body (e.g. 404 for an expired link, 500). */
  status?: number;
  /** Stream this many bytes in total (the given `bytes`, then filler), for size-limit tests. */
  streamBytes?: number;
  /** Default true. False: no Content-Length (chunked), so only counting bytes catches a huge body. */
  sendContentLength?: boolean;
  /** Wait before answering (download timeouts). */
  delayMs?: number;
}

const EXTENSION_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  bmp: "image/bmp",
  mp4: "video/mp4",
  txt: "text/plain; charset=utf-8",
  json: "application/json",
};

export function contentTypeForName(filename: string): string {
  const extension = filename.split(".").pop()?.toLowerCase() ?? "";
  return EXTENSION_TYPES[extension] ?? "application/octet-stream";
}

const STREAM_CHUNK_BYTES = 64 * 1024;

export class FakeCdn {
  readonly #assets = new Map<string, CdnAssetSpec>();

  /** `path` is the decoded URL path, starting with `/cdn/`. */
  put(path: string, asset: CdnAssetSpec): void {
    this.#assets.set(path, asset);
  }

  get(path: string): CdnAssetSpec | undefined {
    return this.#assets.get(path);
  }

  delete(path: string): void {
    this.#assets.delete(path);
  }

  /** Answers one request; returns the status sent, for the request log. */
  async serve(path: string, method: string, res: ServerResponse): Promise<number> {
    const asset = this.#assets.get(path);
    if (asset?.delayMs) await sleep(asset.delayMs);
    if (method !== "GET" && method !== "HEAD") return finish(res, 405);
    if (!asset) return finish(res, 404, "This content is no longer available.");
    if (asset.redirectTo) {
      res.writeHead(302, { location: asset.redirectTo });
      return finish(res, 302);
    }
    if (asset.status) return finish(res, asset.status);

    const bytes = Buffer.from(asset.bytes ?? new Uint8Array());
    const total = Math.max(asset.streamBytes ?? bytes.length, bytes.length);
    const headers: Record<string, string> = {
      "content-type": asset.contentType ?? contentTypeForName(path),
      "cache-control": "public, max-age=31536000",
    };
    if (asset.sendContentLength !== false) headers["content-length"] = String(total);
    res.writeHead(200, headers);
    if (method === "HEAD") return finish(res, 200);
    await streamBody(res, bytes, total);
    return 200;
  }
}

function finish(res: ServerResponse, status: number, text?: string): number {
  if (!res.headersSent) {
    res.writeHead(status, text === undefined ? {} : { "content-type": "text/plain; charset=utf-8" });
  }
  res.end(text);
  return status;
}

/** Writes `bytes` then zero filler up to `total`, honouring backpressure; stops if the client hangs up. */
async function streamBody(res: ServerResponse, bytes: Buffer, total: number): Promise<void> {
  if (total === bytes.length) {
    res.end(bytes);
    return;
  }
  res.write(bytes);
  const filler = Buffer.alloc(STREAM_CHUNK_BYTES);
  let sent = bytes.length;
  while (sent < total && !res.destroyed) {
    const chunk = filler.subarray(0, Math.min(STREAM_CHUNK_BYTES, total - sent));
    sent += chunk.length;
    if (!res.write(chunk)) await drainedOrClosed(res);
  }
  if (!res.destroyed) res.end();
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
