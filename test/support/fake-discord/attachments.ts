import { randomBytes } from "node:crypto";
import type { APIAttachment } from "discord-api-types/v10";
import { type CdnAssetSpec, contentTypeForName, type FakeCdn } from "./cdn.ts";
import { imageDimensions } from "./image-size.ts";
import { encodePath } from "./path-pattern.ts";
import type { SnowflakeGenerator } from "./snowflake.ts";

export interface AttachmentSpec {
  filename: string;
  bytes: Uint8Array;
  /** Channel in the CDN path (Discord puts it there); default a fresh id. */
  channelId?: string;
  id?: string;
  /** Declared in the attachment object; default guessed from the extension. */
  contentType?: string;
  /** Default read from PNG/JPEG/GIF/WebP headers. */
  width?: number;
  height?: number;
  /** Declared size; default the byte length (declare more to test limits without big buffers). */
  size?: number;
  description?: string;
  /** How the CDN behaves for this file, if not simply serving `bytes` (redirects, wrong type, huge body...). */
  served?: Omit<CdnAssetSpec, "bytes">;
}

/** Signed CDN links expire after about a day on Discord; the fake mimics the query shape (`ex`, `is`, `hm`). */
const LINK_LIFETIME_SECONDS = 24 * 60 * 60;

/** Builds attachment objects whose `url`/`proxy_url` point at the fake CDN, and registers their bytes. */
export class AttachmentFactory {
  constructor(
    private readonly cdn: FakeCdn,
    private readonly ids: SnowflakeGenerator,
    private readonly baseUrl: () => string,
  ) {}

  create(spec: AttachmentSpec): APIAttachment {
    const channelId = spec.channelId ?? this.ids.next();
    const id = spec.id ?? this.ids.next();
    const filePath = `attachments/${channelId}/${id}/${spec.filename}`;
    const asset: CdnAssetSpec = { bytes: spec.bytes, contentType: spec.contentType, ...spec.served };
    this.cdn.put(`/cdn/${filePath}`, asset);
    this.cdn.put(`/cdn/media/${filePath}`, asset);

    const { width, height } = imageDimensions(spec);
    const encodedPath = encodePath(filePath);
    return {
      id,
      filename: spec.filename,
      size: spec.size ?? spec.bytes.byteLength,
      url: `${this.baseUrl()}/cdn/${encodedPath}?${signedQuery()}`,
      proxy_url: `${this.baseUrl()}/cdn/media/${encodedPath}?${signedQuery()}`,
      content_type: spec.contentType ?? contentTypeForName(spec.filename),
      ...(width !== undefined && height !== undefined ? { width, height } : {}),
      ...(spec.description !== undefined ? { description: spec.description } : {}),
    };
  }
}

function signedQuery(): string {
  const issuedAt = Math.floor(Date.now() / 1000);
  const hex = (seconds: number) => seconds.toString(16);
  return `ex=${hex(issuedAt + LINK_LIFETIME_SECONDS)}&is=${hex(issuedAt)}&hm=${randomBytes(32).toString("hex")}&`;
}
