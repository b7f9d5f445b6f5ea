/**
 * What was deleted in a server, remembered for a while so that work started before the deletion
 * (an image still being downloaded or embedded, a catch-up page read a moment earlier) cannot
 * write it back afterwards, and no alert is sent for a message that is gone. Pure functions over
 * the persisted lists; kept bounded by age and count.
 */
export interface Tombstone {
  readonly id: string;
  /** When it was deleted (ms since epoch). */
  readonly at: number;
}

export interface TombstoneLists {
  readonly messages: readonly Tombstone[];
  readonly channels: readonly Tombstone[];
}

export interface TombstoneLimits {
  readonly maxAgeMs: number;
  readonly maxCount: number;
}

/**
 * Late writes arrive seconds to minutes after a deletion (a slow download, a restart's catch-up);
 * a week is far past that. The counts bound the state file of a server that deletes a lot.
 */
export const TOMBSTONE_LIMITS: Record<keyof TombstoneLists, TombstoneLimits> = {
  messages: { maxAgeMs: 7 * 24 * 3_600_000, maxCount: 20_000 },
  channels: { maxAgeMs: 30 * 24 * 3_600_000, maxCount: 2_000 },
};

/** `list` with `ids` added (deleted at `now`), the oldest dropped past the limits. */
export function withTombstones(list: readonly Tombstone[], ids: readonly string[], now: number, limits: TombstoneLimits): Tombstone[] {
  const added = new Set(ids);
  const kept = list.filter((stone) => !added.has(stone.id) && now - stone.at <= limits.maxAgeMs);
  const merged = [...kept, ...ids.map((id) => ({ id, at: now }))];
  return merged.slice(Math.max(0, merged.length - limits.maxCount));
}

/** Whether a row of this message (in this channel or thread, under this parent) was deleted. */
export interface Deletions {
  hasMessage(id: string): boolean;
  hasChannel(id: string): boolean;
}

export function isDeleted(
  deletions: Deletions,
  row: { messageId?: string | null; channelId?: string | null; parentId?: string | null },
): boolean {
  return (
    (row.messageId != null && deletions.hasMessage(row.messageId)) ||
    (row.channelId != null && deletions.hasChannel(row.channelId)) ||
    (row.parentId != null && deletions.hasChannel(row.parentId))
  );
}
