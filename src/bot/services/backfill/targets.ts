/**
 * Which channels a backfill reads: text and announcement channels, plus the public threads (active
 * and archived) of those and of forum/media channels. Private threads are never read. Channels the
 * bot cannot read (View Channel + Read Message History) are counted as skipped, not requested:
 * every 403 counts towards Discord's invalid-request ban.
 */
import {
  type AnyThreadChannel,
  ChannelType,
  type ForumChannel,
  type Guild,
  type GuildBasedChannel,
  type GuildMember,
  type MediaChannel,
  type NewsChannel,
  PermissionFlagsBits,
  type TextChannel,
} from "discord.js";
import { ChannelStopped, type ChannelStopReason, type HistoryChannel, type RetryPolicy, withRetries } from "./history.ts";

type ThreadParent = TextChannel | NewsChannel | ForumChannel | MediaChannel;

/** `server`: every readable channel; `channels`: these channels and their threads; `exact`: just these ids (a resume). */
export type TargetRequest = { readonly kind: "server" } | { readonly kind: "channels" | "exact"; readonly ids: readonly string[] };

export interface Discovery {
  readonly targets: HistoryChannel[];
  readonly skipped: Partial<Record<ChannelStopReason, number>>;
}

const READ = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ReadMessageHistory;

/**
 * The channels whose images Lookalike indexes, each with its public threads: text, announcement,
 * forum and media channels. `/index channel` and `/repost settings ignore_channel` offer these.
 */
export const INDEXED_CHANNEL_TYPES = [
  ChannelType.GuildText,
  ChannelType.GuildAnnouncement,
  ChannelType.GuildForum,
  ChannelType.GuildMedia,
] as const;
const THREAD_PARENTS: readonly ChannelType[] = INDEXED_CHANNEL_TYPES;

export function isThreadParent(channel: GuildBasedChannel): channel is ThreadParent {
  return THREAD_PARENTS.includes(channel.type);
}

export function hasOwnHistory(channel: GuildBasedChannel): channel is TextChannel | NewsChannel {
  return channel.type === ChannelType.GuildText || channel.type === ChannelType.GuildAnnouncement;
}

export function isPublicThread(channel: GuildBasedChannel): channel is AnyThreadChannel {
  return channel.type === ChannelType.PublicThread || channel.type === ChannelType.AnnouncementThread;
}

/** Where images are posted and history can be read: text and announcement channels, and public threads. */
export function hasHistory(channel: GuildBasedChannel): channel is HistoryChannel {
  return hasOwnHistory(channel) || isPublicThread(channel);
}

export function canRead(channel: GuildBasedChannel, me: GuildMember): boolean {
  return channel.permissionsFor(me)?.has(READ) ?? false;
}

export async function discoverTargets(guild: Guild, request: TargetRequest, policy: RetryPolicy): Promise<Discovery> {
  const me = guild.members.me ?? (await withRetries("bot member", () => guild.members.fetchMe(), policy));
  const skipped: Partial<Record<ChannelStopReason, number>> = {};
  const skip = (reason: ChannelStopReason) => (skipped[reason] = (skipped[reason] ?? 0) + 1);
  const targets: HistoryChannel[] = [];

  const requested: GuildBasedChannel[] = [];
  if (request.kind === "server") requested.push(...[...guild.channels.cache.values()].filter(isThreadParent));
  else {
    for (const id of request.ids) {
      const channel = await fetchChannel(guild, id, policy);
      if (channel) requested.push(channel);
      else skip("gone");
    }
  }
  const readable: GuildBasedChannel[] = [];
  for (const channel of requested) {
    if (canRead(channel, me)) readable.push(channel);
    else skip("no_access");
  }
  for (const channel of readable) if (hasOwnHistory(channel) || isPublicThread(channel)) targets.push(channel);
  if (request.kind === "exact") return { targets, skipped };

  const parents = readable.filter(isThreadParent);
  const active = parents.length > 0 ? await activeThreads(guild, policy) : [];
  // One parent at a time: thread listings are cheap, and discord.js queues per route anyway.
  for (const parent of parents) {
    try {
      const archived = await archivedThreads(parent, policy);
      const threads = new Map([...active, ...archived].filter((thread) => thread.parentId === parent.id).map((t) => [t.id, t]));
      targets.push(...threads.values());
    } catch (error) {
      if (!(error instanceof ChannelStopped)) throw error;
      skip(error.reason);
    }
  }
  return { targets, skipped };
}

async function fetchChannel(guild: Guild, id: string, policy: RetryPolicy): Promise<GuildBasedChannel | null> {
  const cached = guild.channels.cache.get(id);
  if (cached) return cached;
  try {
    // Archived threads are not in the cache after a restart.
    const channel = await withRetries(`channel ${id}`, () => guild.client.channels.fetch(id), policy);
    return channel && "guildId" in channel && channel.guildId === guild.id ? (channel as GuildBasedChannel) : null;
  } catch (error) {
    if (error instanceof ChannelStopped && error.reason !== "discord_unavailable") return null;
    throw error;
  }
}

async function activeThreads(guild: Guild, policy: RetryPolicy): Promise<AnyThreadChannel[]> {
  const fetched = await withRetries("active threads", () => guild.channels.fetchActiveThreads(), policy);
  return [...fetched.threads.values()].filter(isPublicThread);
}

/** Public archived threads, most recently archived first, paged by archive time. */
async function archivedThreads(parent: ThreadParent, policy: RetryPolicy): Promise<AnyThreadChannel[]> {
  const found = new Map<string, AnyThreadChannel>();
  let before: Date | undefined;
  for (;;) {
    const page = await withRetries(
      `archived threads of ${parent.id}`,
      () => parent.threads.fetchArchived({ type: "public", fetchAll: true, limit: 100, ...(before ? { before } : {}) }),
      policy,
    );
    for (const thread of page.threads.values()) if (isPublicThread(thread)) found.set(thread.id, thread);
    const times = [...page.threads.values()].map((thread) => thread.archivedAt?.getTime() ?? Number.NaN).filter(Number.isFinite);
    const oldest = times.length > 0 ? Math.min(...times) : Number.NaN;
    // Stop when the cursor would not move: never ask the same page twice.
    if (!page.hasMore || !Number.isFinite(oldest) || (before && oldest >= before.getTime())) break;
    before = new Date(oldest);
  }
  return [...found.values()];
}
