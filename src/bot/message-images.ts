/**
 * The images in a Discord message: attachments, image embeds (including links Discord unfurls
 * later) and the images inside forwarded messages' snapshots. Each gets a stable id: the
 * attachment id, or the message id plus the embed's position.
 */
import type { Attachment, Embed, Message, PartialMessage } from "discord.js";

export interface ImageRef {
  /** Unique within a server: attachment id, or `<messageId>-e<n>` (`-s<k>e<n>` inside a forward); short, for button ids. */
  readonly id: string;
  readonly url: string;
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

function fromEmbeds(messageId: string, embeds: readonly Embed[], prefix: string): ImageRef[] {
  const refs: ImageRef[] = [];
  embeds.forEach((embed, index) => {
    // An image link posted alone unfurls into an embed whose thumbnail is the picture itself.
    const asset = embed.image ?? (embed.data.type === "image" ? embed.thumbnail : null);
    if (!asset?.url) return;
    refs.push({
      id: `${messageId}-${prefix}e${index}`,
      url: asset.url,
      proxyUrl: asset.proxyURL ?? null,
      name: new URL(asset.url).pathname.split("/").pop() || "image",
      size: null,
      spoiler: false,
    });
  });
  return refs;
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
