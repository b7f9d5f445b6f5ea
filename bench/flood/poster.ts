/**
 * Members posting images at a steady rate, round-robin over channels. Each post is fired at its
 * scheduled time without waiting for the previous one, so a slow moment in the fake does not
 * lower the rate; the achieved rate is reported next to the target.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { FakeDiscord } from "../../test/support/fake-discord/index.ts";
import type { PostedImage } from "./images.ts";

export interface PostingResult {
  readonly posted: number;
  readonly failed: number;
  /** When the last post was delivered, ms after the phase started. */
  readonly lastMs: number;
}

export async function postOne(fake: FakeDiscord, channelId: string, image: PostedImage): Promise<string> {
  const message = await fake.postMessage(channelId, { attachments: [fake.attachment({ filename: image.filename, bytes: image.bytes })] });
  return message.id;
}

export async function postPaced(
  fake: FakeDiscord,
  channelIds: readonly string[],
  images: readonly PostedImage[],
  perSecond: number,
  phaseStart: number,
): Promise<PostingResult> {
  let failed = 0;
  let lastMs = 0;
  const posts: Promise<void>[] = [];
  for (const [i, image] of images.entries()) {
    const due = phaseStart + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    posts.push(
      postOne(fake, channelIds[i % channelIds.length]!, image).then(
        () => void (lastMs = Math.max(lastMs, performance.now() - phaseStart)),
        () => void failed++,
      ),
    );
  }
  await Promise.all(posts);
  return { posted: images.length - failed, failed, lastMs: Math.round(lastMs) };
}
