/**
 * Downloads image bytes, and only from Discord: its CDN (attachments), its external-media proxy
 * (images of unfurled links, only under `/external/`), plus the host of DISCORD_API_URL when it is
 * overridden, so a REST proxy or a test server can serve files. Never the third-party original of
 * a link: that would leak the bot's address to any site a member links to and fetch whatever it
 * serves. Redirects are followed by hand and only within the same rules; the body is capped while
 * it streams; every wait has a timeout.
 */
import { LookalikeError } from "../retrieval/errors.ts";
import { UserFacingError } from "./errors.ts";

export const DISCORD_CDN_HOSTS = ["cdn.discordapp.com", "media.discordapp.net"] as const;
/** Discord's proxy for images of unfurled links (`embed.image.proxy_url`, `embed.thumbnail.proxy_url`). */
export const DISCORD_EXTERNAL_PROXY_HOSTS = ["images-ext-1.discordapp.net", "images-ext-2.discordapp.net"] as const;
/** The proxy serves other things too; only this path holds copies of linked images. */
export const EXTERNAL_PROXY_PATH = "/external/";

const DISCORD_HOSTS: ReadonlySet<string> = new Set([...DISCORD_CDN_HOSTS, ...DISCORD_EXTERNAL_PROXY_HOSTS]);

export interface FetcherOptions {
  readonly maxBytes: number;
  readonly timeoutMs?: number;
  /** Extra allowed host (with port), any path, e.g. the host of DISCORD_API_URL. */
  readonly extraHosts?: readonly string[];
  /** Hosts (with port) of the external-media proxy, allowed under `/external/` only; default Discord's. */
  readonly externalProxyHosts?: readonly string[];
  readonly fetch?: typeof fetch;
}

/** One allowed place to download from. */
interface HostRule {
  /** `URL.host`: lower-case, with the port unless it is the scheme's default. */
  readonly host: string;
  readonly pathPrefix: string;
  /** Discord's own hosts are https only; a configured proxy or test server may be plain http. */
  readonly protocols: readonly string[];
}

function rule(host: string, pathPrefix = "/"): HostRule {
  return { host, pathPrefix, protocols: DISCORD_HOSTS.has(host) ? ["https:"] : ["https:", "http:"] };
}

function hostRules(options: FetcherOptions): HostRule[] {
  return [
    ...DISCORD_CDN_HOSTS.map((host) => rule(host)),
    ...(options.externalProxyHosts ?? DISCORD_EXTERNAL_PROXY_HOSTS).map((host) => rule(host, EXTERNAL_PROXY_PATH)),
    ...(options.extraHosts ?? []).map((host) => rule(host)),
  ];
}

/** The URL, parsed and normalised (so `/external/../x` is seen as `/x`), if some rule allows it. */
function allowedUrl(url: string, rules: readonly HostRule[]): URL | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.username || parsed.password) return null;
  const matches = (candidate: HostRule) =>
    candidate.host === parsed.host && candidate.protocols.includes(parsed.protocol) && parsed.pathname.startsWith(candidate.pathPrefix);
  return rules.some(matches) ? parsed : null;
}

const MAX_REDIRECTS = 3;

/** Answers that say the host is in trouble, not that the file is gone: worth another try later. */
function hostTrouble(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export class AttachmentFetcher {
  private readonly rules: readonly HostRule[];

  constructor(private readonly options: FetcherOptions) {
    this.rules = hostRules(options);
  }

  isAllowed(url: string): boolean {
    return allowedUrl(url, this.rules) !== null;
  }

  async fetch(url: string, signal?: AbortSignal): Promise<Buffer> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 15_000);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let current = url;
    try {
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const allowed = allowedUrl(current, this.rules);
        if (!allowed) throw new UserFacingError("That image is not hosted on Discord, so I did not download it.");
        // Fetch exactly the URL that was checked, not a string a client might normalise differently.
        const response = await (this.options.fetch ?? fetch)(allowed.href, { redirect: "manual", signal: combined });
        if (response.status >= 300 && response.status < 400) {
          const location = response.headers.get("location");
          await response.body?.cancel();
          if (!location) break;
          current = new URL(location, current).href;
          continue;
        }
        if (!response.ok) {
          await response.body?.cancel();
          if (hostTrouble(response.status)) {
            throw new LookalikeError("download_failed", `Could not download the image (HTTP ${response.status}); try again later.`, {
              url: current,
              status: response.status,
            });
          }
          throw new LookalikeError("corrupt", `Could not download the image (HTTP ${response.status}); the link may have expired.`, {
            url: current,
            status: response.status,
          });
        }
        return await this.readCapped(response, current);
      }
      throw new LookalikeError("corrupt", "Could not download the image (too many redirects).", { url });
    } catch (error) {
      if (signal?.aborted) throw new LookalikeError("aborted", "The download was cancelled.", { url }, { cause: error });
      if (timeout.aborted) throw new LookalikeError("download_failed", "Downloading the image took too long.", { url }, { cause: error });
      if (error instanceof LookalikeError || error instanceof UserFacingError) throw error;
      // The connection failed (refused, reset, no route): the host's trouble, not the image's.
      throw new LookalikeError("download_failed", "Could not reach the image's host.", { url }, { cause: error });
    }
  }

  private async readCapped(response: Response, url: string): Promise<Buffer> {
    const { maxBytes } = this.options;
    const tooLarge = () => new LookalikeError("too_large", `The image is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB.`, { url });
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
