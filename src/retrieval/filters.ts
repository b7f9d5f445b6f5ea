/**
 * Every LanceDB `where` clause the collection tables run is written here. Filter values are
 * validated against strict shapes (snowflake digits, finite dates) before they are spelled into
 * SQL. Row ids are arbitrary strings (CLI file paths), so a lookup by id spells them as escaped SQL
 * string literals (`idsWhere`); other filters on free text (such as a search's `excludeIds`) are
 * applied to results instead.
 */
import { LookalikeError } from "./errors.ts";

const SNOWFLAKE = /^\d{1,20}$/;

export interface RowFilter {
  /** Only rows from these channels (an empty list matches nothing). */
  readonly channelIds?: readonly string[];
  /** Only rows whose channel, or whose thread's parent channel, is one of these (visibility). */
  readonly visibleChannelIds?: readonly string[];
  readonly excludeChannelIds?: readonly string[];
  /** Only rows from threads of these channels. */
  readonly parentIds?: readonly string[];
  readonly authorIds?: readonly string[];
  readonly excludeAuthorIds?: readonly string[];
  readonly messageIds?: readonly string[];
  readonly excludeMessageIds?: readonly string[];
  readonly createdAfter?: Date;
  readonly createdBefore?: Date;
}

export function assertSnowflake(value: string, what: string): string {
  if (!SNOWFLAKE.test(value)) {
    throw new LookalikeError("invalid_filter", `${what} must be a Discord ID (digits), got ${JSON.stringify(value)}.`, {
      what,
    });
  }
  return value;
}

function idList(column: string, ids: readonly string[], negate: boolean): string {
  if (ids.length === 0) return negate ? "TRUE" : "FALSE";
  const quoted = ids.map((id) => `'${assertSnowflake(id, column)}'`).join(", ");
  return `${column} ${negate ? "NOT IN" : "IN"} (${quoted})`;
}

function timestamp(date: Date, what: string): string {
  if (!Number.isFinite(date.getTime())) {
    throw new LookalikeError("invalid_filter", `${what} is not a valid date.`, { what });
  }
  return `CAST('${date.toISOString().replace("Z", "")}' AS TIMESTAMP)`;
}

/** Builds a `where` clause, or undefined when nothing is filtered. */
export function buildWhere(filter: RowFilter = {}): string | undefined {
  const clauses: string[] = [];
  const lists: [keyof RowFilter, string, boolean][] = [
    ["channelIds", "channel_id", false],
    ["excludeChannelIds", "channel_id", true],
    ["parentIds", "parent_id", false],
    ["authorIds", "author_id", false],
    ["excludeAuthorIds", "author_id", true],
    ["messageIds", "message_id", false],
    ["excludeMessageIds", "message_id", true],
  ];
  for (const [key, column, negate] of lists) {
    const ids = filter[key] as readonly string[] | undefined;
    if (ids) clauses.push(negate && ids.length > 0 ? `(${column} IS NULL OR ${idList(column, ids, true)})` : idList(column, ids, negate));
  }
  if (filter.visibleChannelIds) {
    const ids = filter.visibleChannelIds;
    clauses.push(ids.length === 0 ? "FALSE" : `(${idList("channel_id", ids, false)} OR ${idList("parent_id", ids, false)})`);
  }
  if (filter.createdAfter) clauses.push(`created_at >= ${timestamp(filter.createdAfter, "createdAfter")}`);
  if (filter.createdBefore) clauses.push(`created_at < ${timestamp(filter.createdBefore, "createdBefore")}`);
  const meaningful = clauses.filter((clause) => clause !== "TRUE");
  return meaningful.length > 0 ? meaningful.join(" AND ") : undefined;
}

/** The rows a filter's `createdBefore` leaves out: created at or after it, or with no date. */
export function notCreatedBeforeWhere(before: Date): string {
  return `(created_at >= ${timestamp(before, "createdBefore")} OR created_at IS NULL)`;
}

/** `id IN (…)` for exact lookups by id; `ids` must not be empty. */
export function idsWhere(ids: readonly string[]): string {
  return `id IN (${ids.map(sqlString).join(", ")})`;
}

/**
 * A SQL string literal for exact-match lookups by id. Ids can be arbitrary (CLI file paths), so they
 * are not validated like snowflakes; doubling the quote is the SQL-standard escape and DataFusion reads
 * no backslash escapes in plain literals, so no value can end the literal (tested with hostile ids).
 */
function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
