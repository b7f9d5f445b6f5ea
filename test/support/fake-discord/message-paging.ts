import type { APIMessage } from "discord-api-types/v10";
import { discordErrors } from "./errors.ts";
import { compareSnowflakes } from "./snowflake.ts";

export interface MessagePageQuery {
  before?: string;
  after?: string;
  around?: string;
  limit: number;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

export function parseMessagePageQuery(query: URLSearchParams): MessagePageQuery {
  const rawLimit = query.get("limit");
  const limit = rawLimit === null ? DEFAULT_LIMIT : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw discordErrors.invalidFormBody(`limit: int value should be between 1 and ${MAX_LIMIT}.`);
  }
  const page: MessagePageQuery = { limit };
  for (const key of ["before", "after", "around"] as const) {
    const value = query.get(key);
    if (value !== null) page[key] = value;
  }
  return page;
}

/**
 * GET /channels/:id/messages semantics: at most `limit` messages, always newest first. `after`
 * takes the oldest messages after the id (then sorts them newest first), as Discord does;
 * `around` takes about half on each side, the message itself included.
 */
export function pageMessages(oldestFirst: readonly APIMessage[], page: MessagePageQuery): APIMessage[] {
  const { limit } = page;
  const olderThan = (id: string) => oldestFirst.filter((message) => compareSnowflakes(message.id, id) < 0);
  const newerThan = (id: string, inclusive: boolean) =>
    oldestFirst.filter((message) => compareSnowflakes(message.id, id) > (inclusive ? -1 : 0));

  let selected: APIMessage[];
  if (page.around !== undefined) {
    const newer = newerThan(page.around, true).slice(0, Math.ceil(limit / 2));
    const olderCount = limit - newer.length;
    const older = olderCount > 0 ? olderThan(page.around).slice(-olderCount) : [];
    selected = [...older, ...newer];
  } else if (page.before !== undefined) {
    selected = olderThan(page.before).slice(-limit);
  } else if (page.after !== undefined) {
    selected = newerThan(page.after, false).slice(0, limit);
  } else {
    selected = oldestFirst.slice(-limit);
  }
  return selected.reverse();
}
