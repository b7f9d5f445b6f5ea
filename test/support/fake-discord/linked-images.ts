import { createHash } from "node:crypto";
import { type APIEmbed, EmbedType } from "discord-api-types/v10";
import { type CdnAssetSpec, contentTypeForName, FakeCdn } from "./cdn.ts";
import { FileHost } from "./file-host.ts";
import { imageDimensions } from "./image-size.ts";
import { encodePath } from "./path-pattern.ts";
import type { RequestLog } from "./request-log.ts";
import type { SnowflakeGenerator } from "./snowflake.ts";

/** Loopback addresses of their own, so the proxy and the linked site are different hosts from the fake's 127.0.0.1. */
export const EXTERNAL_PROXY_ADDRESS = "127.0.0.2";
export const ORIGIN_ADDRESS = "127.0.0.3";
export const EXTERNAL_PREFIX = "/external/";

export interface LinkedImageSpec {
  filename: string;
  bytes: Uint8Array;
  /** Served by both hosts and declared in the embed; default guessed from the extension. */
  contentType?: string;
  /** Default read from PNG/JPEG/GIF/WebP headers. */
  width?: number;
  height?: number;
  /** How the proxy answers for this image, if not with its copy (e.g. `redirectTo` the original, `status: 404`). */
  proxied?: Omit<CdnAssetSpec, "bytes">;
}

/**
 * Images of links as Discord unfurls them. Discord fetched the original once, when it unfurled the
 * link, and serves its copy from the external-media proxy (`proxy_url`); the embed still names the
 * original (`url`, `thumbnail.url`), which a bot should never download. The original lives on the
 * "origin" host (a third-party site) and the copy on the proxy host; the proxy never contacts the
 * origin, so every origin hit in the request log came from the bot (or the test).
 */
export class LinkedImages {
  private constructor(
    private readonly proxy: { server: FileHost; files: FakeCdn },
    private readonly origin: { server: FileHost; files: FakeCdn },
    private readonly ids: SnowflakeGenerator,
  ) {}

  static async start(log: RequestLog, ids: SnowflakeGenerator): Promise<LinkedImages> {
    const serve = async (address: string, prefix: string, kind: "external" | "origin") => {
      const files = new FakeCdn();
      return { server: await FileHost.start(address, { files, prefix, kind, log }), files };
    };
    const [proxy, origin] = await Promise.all([
      serve(EXTERNAL_PROXY_ADDRESS, EXTERNAL_PREFIX, "external"),
      serve(ORIGIN_ADDRESS, "/", "origin"),
    ]);
    return new LinkedImages(proxy, origin, ids);
  }

  /** `127.0.0.2:PORT`: the proxy's host, for the bot's DISCORD_EXTERNAL_MEDIA_HOSTS. */
  get proxyHost(): string {
    return this.proxy.server.host;
  }

  /** `http://127.0.0.3:PORT`: the third-party site. */
  get originUrl(): string {
    return this.origin.server.baseUrl;
  }

  /** Serves the image from the origin and the proxy; returns the embed of a message holding just its link. */
  embed(spec: LinkedImageSpec): APIEmbed {
    const contentType = spec.contentType ?? contentTypeForName(spec.filename);
    const originPath = `/images/${this.ids.next()}/${spec.filename}`;
    const originUrl = `${this.originUrl}${encodePath(originPath)}`;
    // Discord's shape: /external/<signature>/<scheme>/<host>/<path of the original>.
    const proxyPath = `${EXTERNAL_PREFIX}${signature(originUrl)}/http/${this.origin.server.host}${originPath}`;
    this.origin.files.put(originPath, { bytes: spec.bytes, contentType });
    this.proxy.files.put(proxyPath, { bytes: spec.bytes, contentType, ...spec.proxied });
    const { width, height } = imageDimensions(spec);
    return {
      // An image link posted alone: Discord shows the picture as the embed's thumbnail.
      type: EmbedType.Image,
      url: originUrl,
      thumbnail: {
        url: originUrl,
        proxy_url: `${this.proxy.server.baseUrl}${encodePath(proxyPath)}`,
        width,
        height,
        content_type: contentType,
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.proxy.server.close(), this.origin.server.close()]);
  }
}

/** Stands in for Discord's signature of the original address (a proxy only serves what Discord signed). */
function signature(originUrl: string): string {
  return createHash("sha256").update(originUrl).digest("base64url");
}
