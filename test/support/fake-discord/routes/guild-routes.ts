import { ChannelType, PermissionFlagsBits } from "discord-api-types/v10";
import { discordErrors } from "../errors.ts";
import { toApiChannel, toApiGuild } from "../gateway-payloads.ts";
import { ok, type RouteHandler, type Router } from "../router.ts";
import { type FakeServices, requireBotPermission } from "../services.ts";
import { compareSnowflakes } from "../snowflake.ts";
import { isActiveThread, isThread, type StoredChannel } from "../state.ts";

const DEFAULT_THREAD_PAGE = 50;
const MAX_THREAD_PAGE = 100;

/** Guild lookups and thread listings (active per guild, archived per parent channel). */
export function registerGuildRoutes(router: Router, services: FakeServices): void {
  const { state } = services;

  router.on("GET", "/guilds/:guildId", ({ param }) => ok(toApiGuild(state.requireGuild(param("guildId")))));

  router.on("GET", "/guilds/:guildId/channels", ({ param }) => {
    const guild = state.requireGuild(param("guildId"));
    return ok(
      state
        .channelsOfGuild(guild.id)
        .filter((channel) => !isThread(channel))
        .map(toApiChannel),
    );
  });

  router.on("GET", "/guilds/:guildId/roles", ({ param }) => ok([...state.requireGuild(param("guildId")).roles.values()]));

  router.on("GET", "/guilds/:guildId/members/:userId", ({ param }) => ok(state.requireMember(param("guildId"), param("userId"))));

  router.on("GET", "/guilds/:guildId/threads/active", ({ param }) => {
    const guild = state.requireGuild(param("guildId"));
    const threads = state.channelsOfGuild(guild.id).filter(isActiveThread);
    return ok({ threads: threads.map(toApiChannel), members: [] });
  });

  const listArchived =
    (type: ChannelType, onlyJoined: boolean): RouteHandler =>
    ({ param, query }) => {
      const parent = state.requireChannel(param("channelId"));
      const needed = type === ChannelType.PrivateThread && !onlyJoined ? PermissionFlagsBits.ManageThreads : 0n;
      requireBotPermission(services, parent.id, PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ReadMessageHistory | needed);
      const archived = state
        .threadsOf(parent.id)
        .filter((thread) => thread.thread_metadata?.archived && matchesArchiveType(thread, type))
        .filter((thread) => !onlyJoined || thread.owner_id === state.botUser.id);
      // The "joined private" listing pages by thread id; the others by archive time.
      const page = onlyJoined ? pageById(archived, query) : pageByArchiveTime(archived, query);
      return ok({ threads: page.threads.map(toApiChannel), members: [], has_more: page.hasMore });
    };

  router.on("GET", "/channels/:channelId/threads/archived/public", listArchived(ChannelType.PublicThread, false));
  router.on("GET", "/channels/:channelId/threads/archived/private", listArchived(ChannelType.PrivateThread, false));
  router.on("GET", "/channels/:channelId/users/@me/threads/archived/private", listArchived(ChannelType.PrivateThread, true));
}

/** Announcement threads are listed with the public ones, as on Discord. */
function matchesArchiveType(thread: StoredChannel, type: ChannelType): boolean {
  return type === ChannelType.PrivateThread ? thread.type === ChannelType.PrivateThread : thread.type !== ChannelType.PrivateThread;
}

interface ThreadPage {
  threads: StoredChannel[];
  hasMore: boolean;
}

function parseThreadLimit(query: URLSearchParams): number {
  const raw = query.get("limit");
  const limit = raw === null ? DEFAULT_THREAD_PAGE : Number(raw);
  if (!Number.isInteger(limit) || limit < 2 || limit > MAX_THREAD_PAGE) {
    throw discordErrors.invalidFormBody(`limit: int value should be between 2 and ${MAX_THREAD_PAGE}.`);
  }
  return limit;
}

function takePage(newestFirst: StoredChannel[], limit: number): ThreadPage {
  return { threads: newestFirst.slice(0, limit), hasMore: newestFirst.length > limit };
}

/** `before` is an ISO8601 timestamp; results are most recently archived first. */
function pageByArchiveTime(threads: StoredChannel[], query: URLSearchParams): ThreadPage {
  const before = query.get("before");
  const beforeMs = before === null ? Number.POSITIVE_INFINITY : Date.parse(before);
  if (Number.isNaN(beforeMs)) throw discordErrors.invalidFormBody("before: Could not interpret the value as a timestamp.");
  const archivedAt = (thread: StoredChannel) => Date.parse(thread.thread_metadata?.archive_timestamp ?? "");
  const newestFirst = threads.filter((thread) => archivedAt(thread) < beforeMs).sort((a, b) => archivedAt(b) - archivedAt(a));
  return takePage(newestFirst, parseThreadLimit(query));
}

function pageById(threads: StoredChannel[], query: URLSearchParams): ThreadPage {
  const before = query.get("before");
  const newestFirst = threads
    .filter((thread) => before === null || compareSnowflakes(thread.id, before) < 0)
    .sort((a, b) => compareSnowflakes(b.id, a.id));
  return takePage(newestFirst, parseThreadLimit(query));
}
