/**
 * Downloads attachment bytes, and only from Discord's CDN (plus the host of DISCORD_API_URL when
 * it is overridden, so a REST proxy or a test server can serve files). Redirects are followed by
 * hand and only to allowed hosts; the body is capped while it streams; every wait has a timeout.
 */
import { LookalikeError } from "../retrieval/errors.ts";
import { UserFacingError } from "./errors.ts";

export const DISCORD_CDN_HOSTS = ["cdn.discordapp.com", "media.discordapp.net"] as const;

export interface FetcherOptions {
  readonly maxBytes: number;
  readonly timeoutMs?: number;
  /** Extra allowed host (with port), e.g. the host of DISCORD_API_URL. */
  readonly extraHosts?: readonly string[];
  readonly fetch?: typeof fetch;
}

const MAX_REDIRECTS = 3;

export class AttachmentFetcher {
  private readonly allowed: Set<string>;

  constructor(private readonly options: FetcherOptions) {
    this.allowed = new Set([...DISCORD_CDN_HOSTS, ...(options.extraHosts ?? [])]);
  }

  isAllowed(url: string): boolean {
    try {
      const parsed = new URL(url);
      return (parsed.protocol === "https:" || parsed.protocol === "http:") && this.allowed.has(parsed.host);
    } catch {
      return false;
    }
  }

  async fetch(url: string, signal?: AbortSignal): Promise<Buffer> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 15_000);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let current = url;
    try {
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        if (!this.isAllowed(current)) throw new UserFacingError("That image is not hosted on Discord, so I did not download it.");
        const response = await (this.options.fetch ?? fetch)(current, { redirect: "manual", signal: combined });
        if (response.status >= 300 && response.status < 400) {
          const location = response.headers.get("location");
          await response.body?.cancel();
          if (!location) break;
          current = new URL(location, current).href;
          continue;
        }
        if (!response.ok) {
          await response.body?.cancel();
          throw new LookalikeError("corrupt", `Could not download the image (HTTP ${response.status}); the link may have expired.`, {
            url: current,
            status: response.status,
          });
        }
        return await this.readCapped(response, current);
      }
      throw new LookalikeError("corrupt", "Could not download the image (too many redirects).", { url });
    } catch (error) {
      if (timeout.aborted) throw new LookalikeError("timeout", "Downloading the image took too long.", { url }, { cause: error });
      if (signal?.aborted) throw new LookalikeError("aborted", "The download was cancelled.", { url }, { cause: error });
      if (error instanceof LookalikeError || error instanceof UserFacingError) throw error;
      throw new LookalikeError("corrupt", "Could not download the image.", { url }, { cause: error });
    }
  }

  private async readCapped(response: Response, url: string): Promise<Buffer> {
    const { maxBytes } = this.options;
    const tooLarge = () =>
      new LookalikeError("too_large", `The image is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB.`, { url });
    const declared = Number(response.headers.get("content-length"));
    if (declared > maxBytes) {
      await response.body?.cancel();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of response.body ?? []) {
      total += chunk.length;
      if (total > maxBytes) throw tooLarge();
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  }
}
