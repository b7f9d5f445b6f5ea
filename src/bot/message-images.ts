/**
 * The images in a Discord message: attachments, image embeds (including links Discord unfurls
 * later) and the images inside forwarded messages' snapshots. Each gets a stable id: the
 * attachment id, or the message id plus the embed's position. Every `url` is one of Discord's:
 * embeds point at Discord's proxied copy, not at the linked site.
 */
import type { Attachment, Embed, Message, PartialMessage } from "discord.js";

export interface ImageRef {
  /** Unique within a server: attachment id, or `<messageId>-e<n>` (`-s<k>e<n>` inside a forward); short, for button ids. */
  readonly id: string;
  /** What to download: on Discord's CDN, or its external-media proxy for an embed. */
  readonly url: string;
  /** Second choice if `url` fails (attachments: the media proxy); null for embeds. */
  readonly proxyUrl: string | null;
  readonly name: string;
  readonly size: number | null;
  readonly spoiler: boolean;
}

const IMAGE_EXTENSION = /\.(jpe?g|jfif|png|webp|gif|avif|tiff?|bmp)(\?|$)/i;

function isImageAttachment(attachment: Attachment): boolean {
  if (attachment.contentType) return attachment.contentType.startsWith("image/") && attachment.contentType !== "image/svg+xml";
  return IMAGE_EXTENSION.test(attachment.name);
}

export function attachmentRef(attachment: Attachment): ImageRef {
  return {
    id: attachment.id,
    url: attachment.url,
    proxyUrl: attachment.proxyURL ?? null,
    name: attachment.name,
    size: attachment.size,
    spoiler: attachment.spoiler,
  };
}

/**
 * Embed images are downloaded from Discord's copy (`proxyURL`: the external-media proxy for an
 * unfurled link), never from `url`, the third-party original: fetching it would show the bot's
 * address to whoever runs the linked site, and the fetcher refuses it anyway. Discord gives every
 * unfurled image a proxy URL, so an embed without one is skipped. The position stays the embed's
 * index, so ids do not shift when an embed is skipped.
 */
function fromEmbeds(messageId: string, embeds: readonly Embed[], prefix: string): ImageRef[] {
  const refs: ImageRef[] = [];
  embeds.forEach((embed, index) => {
    // An image link posted alone unfurls into an embed whose thumbnail is the picture itself.
    const asset = embed.image ?? (embed.data.type === "image" ? embed.thumbnail : null);
    const proxied = asset?.proxyURL;
    if (!proxied) return;
    refs.push({
      id: `${messageId}-${prefix}e${index}`,
      url: proxied,
      // No second URL to fall back to: the original is not Discord's to serve.
      proxyUrl: null,
      name: fileName(proxied),
      size: null,
      spoiler: false,
    });
  });
  return refs;
}

/** The last path segment; the proxy path ends with the original's path, so it is the linked file's name. */
function fileName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "") || "image";
  } catch {
    return "image";
  }
}

export function imagesInMessage(message: Message | PartialMessage): ImageRef[] {
  const refs: ImageRef[] = [];
  for (const attachment of message.attachments?.values() ?? []) if (isImageAttachment(attachment)) refs.push(attachmentRef(attachment));
  refs.push(...fromEmbeds(message.id, message.embeds ?? [], ""));
  let snapshotIndex = 0;
  for (const snapshot of message.messageSnapshots?.values() ?? []) {
    for (const attachment of snapshot.attachments?.values() ?? []) if (isImageAttachment(attachment)) refs.push(attachmentRef(attachment));
    refs.push(...fromEmbeds(message.id, snapshot.embeds ?? [], `s${snapshotIndex}`));
    snapshotIndex++;
  }
  // The same attachment can appear twice (e.g. a forward of a forward); keep the first.
  const seen = new Set<string>();
  return refs.filter((ref) => !seen.has(ref.id) && seen.add(ref.id));
}
