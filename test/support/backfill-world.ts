/**
 * A server with history for backfill tests: text, announcement and forum channels, active and
 * archived public threads, a private thread and a channel the bot cannot read. Most messages are
 * text; some carry small distinct JPEGs (CIFAR-10 test images re-encoded by sharp at test time,
 * read from the shared, read-only datasets directory).
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { type APIAttachment, ChannelType, PermissionFlagsBits } from "discord-api-types/v10";
import sharp from "sharp";
import type { FakeDiscord, GuildHandle } from "./fake-discord/index.ts";
import { datasetsDir } from "./paths.ts";

/** Where history goes: a channel, or a thread by name. `readable: false` = the bot must not index it. */
interface Place {
  readonly name: string;
  readonly thread?: boolean;
  readonly messages: number;
  readonly imageMessages: number;
  readonly readable: boolean;
}

export interface WorldShape {
  readonly places: readonly Place[];
}

/** ~3,000 messages, ~250 images across every kind of place a backfill must (not) read. */
export const FULL_WORLD: WorldShape = {
  places: [
    { name: "general", messages: 1_150, imageMessages: 70, readable: true },
    { name: "art", messages: 700, imageMessages: 50, readable: true },
    { name: "old-art", thread: true, messages: 420, imageMessages: 40, readable: true },
    { name: "wip", thread: true, messages: 130, imageMessages: 20, readable: true },
    { name: "announcements", messages: 260, imageMessages: 20, readable: true },
    { name: "gallery-post", thread: true, messages: 90, imageMessages: 20, readable: true },
    { name: "secret", thread: true, messages: 60, imageMessages: 10, readable: false },
    { name: "staff", messages: 120, imageMessages: 10, readable: false },
  ],
};

/** Half the images (each is several model runs) over as many pages: for the kill-and-resume test in a child process. */
export const SMALL_WORLD: WorldShape = {
  places: [
    { name: "general", messages: 900, imageMessages: 40, readable: true },
    { name: "art", messages: 500, imageMessages: 30, readable: true },
    { name: "old-art", thread: true, messages: 300, imageMessages: 20, readable: true },
    { name: "announcements", messages: 200, imageMessages: 10, readable: true },
    { name: "gallery-post", thread: true, messages: 100, imageMessages: 10, readable: true },
    { name: "secret", thread: true, messages: 20, imageMessages: 5, readable: false },
    { name: "staff", messages: 50, imageMessages: 5, readable: false },
  ],
};

/** The guild layout both shapes use; places without history stay empty. */
export function addWorldGuild(fake: FakeDiscord): GuildHandle {
  return fake.addGuild({
    name: "Backfill Club",
    channels: [
      { name: "general" },
      {
        name: "art",
        threads: [
          { name: "wip" },
          { name: "old-art", archived: true, archivedAt: new Date("2024-05-01T00:00:00Z") },
          { name: "secret", private: true, archived: true },
        ],
      },
      { name: "announcements", type: ChannelType.GuildAnnouncement },
      { name: "gallery", type: ChannelType.GuildForum, threads: [{ name: "gallery-post", archived: true }] },
      { name: "staff", overwrites: [{ role: "@everyone", deny: PermissionFlagsBits.ViewChannel }] },
    ],
  });
}

export interface SeededWorld {
  readonly guild: GuildHandle;
  /** Attachment ids the backfill must index, each exactly once. */
  readonly expectedImageIds: string[];
  /** Attachment ids it must not index (private thread, unreadable channel). */
  readonly forbiddenImageIds: string[];
  /** Messages in the places the bot may read. */
  readonly readableMessages: number;
  /** Ids of the channels and threads the backfill reads. */
  readonly readableIds: string[];
}

/** `count` distinct small JPEGs (64×64) from the CIFAR-10 test set. */
export async function distinctJpegs(count: number): Promise<Buffer[]> {
  const root = path.join(datasetsDir, "cifar10-test-5k", "images");
  const classes = (await readdir(root)).sort();
  const files: string[] = [];
  // Round-robin over the classes, so neighbouring images are not near-duplicates of each other.
  for (let index = 0; files.length < count; index++) {
    for (const label of classes) if (files.length < count) files.push(path.join(root, label, `${String(index).padStart(4, "0")}.jpg`));
  }
  return Promise.all(
    files.map(async (file) =>
      sharp(await readFile(file))
        .resize(64, 64)
        .jpeg({ quality: 85 })
        .toBuffer(),
    ),
  );
}

export async function seedWorld(fake: FakeDiscord, shape: WorldShape): Promise<SeededWorld> {
  const guild = addWorldGuild(fake);
  // Every tenth image message carries two images.
  const imagesOf = (place: Place) => place.imageMessages + Math.floor(place.imageMessages / 10);
  const jpegs = await distinctJpegs(shape.places.reduce((sum, place) => sum + imagesOf(place), 0));
  const world = {
    guild,
    expectedImageIds: [] as string[],
    forbiddenImageIds: [] as string[],
    readableMessages: 0,
    readableIds: [] as string[],
  };
  let next = 0;
  for (const place of shape.places) {
    const channelId = place.thread ? guild.thread(place.name).id : guild.channel(place.name).id;
    const every = Math.floor(place.messages / place.imageMessages);
    let imageMessages = 0;
    const specs = Array.from({ length: place.messages }, (_, index) => {
      if (index % every !== 0 || imageMessages >= place.imageMessages) return { content: `${place.name} chat #${index}` };
      const attachments: APIAttachment[] = [];
      const count = imageMessages++ % 10 === 9 ? 2 : 1;
      for (let i = 0; i < count; i++) {
        attachments.push(fake.attachment({ filename: `${place.name}-${index}-${i}.jpg`, bytes: jpegs[next++]!, channelId }));
      }
      (place.readable ? world.expectedImageIds : world.forbiddenImageIds).push(...attachments.map((a) => a.id));
      return { content: `${place.name} picture #${index}`, attachments };
    });
    fake.seedMessages(channelId, specs);
    if (place.readable) {
      world.readableMessages += place.messages;
      world.readableIds.push(channelId);
    }
  }
  return world;
}

/** History requests a full scan needs: pages of 100 until one comes back short. */
export function pagesFromScratch(fake: FakeDiscord, channelIds: readonly string[]): number {
  return channelIds.reduce((sum, id) => sum + Math.floor(fake.messages(id).length / 100) + 1, 0);
}
